// End to end through flow-local: source-hello-world -> collection -> materialize-postgres into a
// real PostgreSQL, then a second session resuming from the checkpoint stored in PostgreSQL.
// Rows must equal the journal exactly: the standard table one row per key with the document,
// the delta-updates table one row per document.
#include "tests/materialize-postgres/pipeline.h"

#include <gtest/gtest.h>

#include "libs/base/strings.h"

namespace connectors::postgres::testing {
namespace {

namespace fs = std::filesystem;

std::string Rows(harness::Postgres& pg, std::string_view sql) {
  auto rows = pg.Exec(sql);
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::string out;
  if (!rows.ok()) return out;
  for (const auto& r : *rows) {
    for (size_t i = 0; i < r.size(); ++i) StrAppend(&out, i ? "|" : "", r[i]);
    out += "\n";
  }
  return out;
}

TEST(PostgresPipeline, CaptureMaterializeAndResume) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const char* tmp = std::getenv("TEST_TMPDIR");
  Pipeline pipeline(fs::path(tmp != nullptr ? tmp : "/tmp") / "pg-pipeline", *pg,
                    "{greeting: Hi, interval_ms: 1, stop_after: 5}");
  ASSERT_EQ(pipeline.Run({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(pipeline.Run({"materialize", "--task", "acmeCo/to-postgres", "--until-caught-up"}), 0);
  ASSERT_EQ(pipeline.Run({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(pipeline.Run({"materialize", "--task", "acmeCo/to-postgres", "--until-caught-up"}), 0);

  const std::string journal = pipeline.JournalDocs();
  ASSERT_EQ(pipeline.JournalIds().size(), 10u);
  // Timestamps come back in PostgreSQL's format; compare them as instants in the document.
  EXPECT_EQ(Rows(*pg,
                 "SELECT id, message, flow_document->>'ts' FROM flow.greetings "
                 "WHERE ts = (flow_document->>'ts')::timestamptz ORDER BY id"),
            journal);
  EXPECT_EQ(Rows(*pg,
                 "SELECT id, message, flow_document->>'ts' FROM flow.greetings_log "
                 "WHERE ts = (flow_document->>'ts')::timestamptz ORDER BY id"),
            journal);
  EXPECT_EQ(Rows(*pg, "SELECT count(*), count(DISTINCT id) FROM flow.greetings_log"), "10|10\n");
  EXPECT_EQ(Rows(*pg, "SELECT materialization, key_begin, key_end FROM flow.flow_checkpoints_v1"),
            "acmeCo/to-postgres|0|4294967295\n");
}

}  // namespace
}  // namespace connectors::postgres::testing
