// Exactly-once under kill -9: flow-local runs source-hello-world into a collection and on into
// PostgreSQL while the runtime or a connector (capture or materialize-postgres) is killed at
// random moments and restarted. Afterwards, drained without chaos, the standard table holds
// exactly one row per captured key with that key's document, and the delta-updates table holds
// every document exactly once: nothing duplicated, nothing lost.
#include "tests/chaos/chaos.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
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

// Keys that are updated again and again: hello-world cycles its ids through seven values, so
// the standard table must end with each key's last document, and the delta table must hold no
// document twice and every key's final document.
TEST(PostgresChaos, KillNineKeepsTheLastValueOfEveryKey) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / "pg-chaos-updates";
  Pipeline pipeline(dir, *pg, "{interval_ms: 0, distinct_ids: 7}");
  chaos::Options options;
  options.rounds = 6;
  options.seed = 7;
  options.min_delay = absl::Milliseconds(300);
  options.max_delay = absl::Milliseconds(1500);
  auto rounds = chaos::KillAndRestart([&] { return pipeline.Start({"run"}); }, options);
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  ASSERT_EQ(pipeline.Run({"materialize", "--task", "acmeCo/to-postgres", "--until-caught-up"}), 0);

  // The journal holds every sequence number once, in order; remember each key's last message.
  std::ifstream journal(dir / "data" / "collections" / "acmeCo%2Fgreetings.jsonl");
  std::map<int64_t, std::string> last_message;
  std::map<int64_t, int64_t> last_seq;
  int64_t expected_seq = 0;
  json::Parser parser;
  for (std::string line; std::getline(journal, line); ++expected_seq) {
    auto doc = parser.Parse(line);
    ASSERT_TRUE(doc.ok());
    int64_t id = -1, seq = -1;
    std::string_view message;
    ASSERT_EQ((*doc)["id"].get(id), simdjson::SUCCESS);
    ASSERT_EQ((*doc)["seq"].get(seq), simdjson::SUCCESS);
    ASSERT_EQ((*doc)["message"].get(message), simdjson::SUCCESS);
    ASSERT_EQ(seq, expected_seq) << "greeting captured twice or lost";
    last_message[id] = std::string(message);
    last_seq[id] = seq;
  }
  ASSERT_GT(expected_seq, 20) << "keys were updated several times";

  auto rows = pg->Exec("SELECT id, message FROM flow.greetings ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::string expected, actual;
  for (const auto& [id, message] : last_message) StrAppend(&expected, id, "|", message, "\n");
  for (const auto& r : *rows) StrAppend(&actual, r[0], "|", r[1], "\n");
  EXPECT_EQ(actual, expected) << "every key holds its last value";

  // Delta updates store each transaction's last document per key (Flow reduces within a
  // transaction), so the log holds a subset of the journal: no document twice, and every
  // key's final document.
  auto log = pg->Exec("SELECT id, (flow_document->>'seq')::bigint FROM flow.greetings_log");
  ASSERT_TRUE(log.ok()) << log.status();
  std::set<int64_t> logged;
  for (const auto& r : *log) {
    EXPECT_TRUE(logged.insert(std::stoll(r[1])).second) << "seq " << r[1] << " stored twice";
  }
  for (const auto& [id, seq] : last_seq) {
    EXPECT_TRUE(logged.contains(seq)) << "the final document of key " << id << " is missing";
  }
  EXPECT_TRUE(logged.empty() || *logged.rbegin() < expected_seq);
}

}  // namespace
}  // namespace connectors::postgres::testing
