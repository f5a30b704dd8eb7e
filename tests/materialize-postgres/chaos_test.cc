// Exactly-once under kill -9: flow-local runs source-hello-world into a collection and on into
// PostgreSQL while the runtime or a connector (capture or materialize-postgres) is killed at
// random moments and restarted. Afterwards, drained without chaos, the standard table holds
// exactly one row per captured key with that key's document, and the delta-updates table holds
// every document exactly once: nothing duplicated, nothing lost.
#include "tests/chaos/chaos.h"

#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "tests/materialize-postgres/pipeline.h"

namespace connectors::postgres::testing {
namespace {

namespace fs = std::filesystem;

TEST(PostgresChaos, KillNineAnywhereLosesAndDuplicatesNothing) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const char* tmp = std::getenv("TEST_TMPDIR");
  Pipeline pipeline(fs::path(tmp != nullptr ? tmp : "/tmp") / "pg-chaos", *pg, "{interval_ms: 0}");
  chaos::Options options;
  options.rounds = 8;
  options.seed = 20261123;
  options.min_delay = absl::Milliseconds(300);
  options.max_delay = absl::Milliseconds(1500);
  auto rounds = chaos::KillAndRestart([&] { return pipeline.Start({"run"}); }, options);
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  int killed = 0;
  for (const auto& round : *rounds) killed += round.killed;
  EXPECT_GE(killed, 5) << "most rounds must really kill something";

  ASSERT_EQ(pipeline.Run({"materialize", "--task", "acmeCo/to-postgres", "--until-caught-up"}), 0);

  const std::vector<int64_t> ids = pipeline.JournalIds();
  ASSERT_GT(ids.size(), 10u) << "the pipeline made progress between kills";
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], static_cast<int64_t>(i)) << "greeting captured twice or lost at " << i;
  }
  const std::string journal = pipeline.JournalDocs();
  for (const char* table : {"flow.greetings", "flow.greetings_log"}) {
    auto rows = pg->Exec(
        StrCat("SELECT id, message, flow_document->>'ts' FROM ", table, " ORDER BY id, message"));
    ASSERT_TRUE(rows.ok()) << rows.status();
    std::string out;
    for (const auto& r : *rows) StrAppend(&out, r[0], "|", r[1], "|", r[2], "\n");
    EXPECT_EQ(out, journal) << table << " must hold every document exactly once";
  }
}

}  // namespace
}  // namespace connectors::postgres::testing
