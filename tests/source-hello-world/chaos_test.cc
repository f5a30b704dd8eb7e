// Exactly-once under kill -9: the local runtime runs source-hello-world into collections and on
// into SQLite while the runtime or a connector is killed at random moments and restarted.
// Afterwards every greeting was captured exactly once, in order, and the database holds
// exactly the collection's documents.
#include "tests/chaos/chaos.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libs/json/parse.h"
#include "libs/process/subprocess.h"
#include "tests/runtime/testing/flow_local.h"

namespace connectors {
namespace {

namespace fs = std::filesystem;

using local::testing::RunfileFromEnv;

class ChaosTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") / ("chaos-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    flow_ = std::make_unique<local::testing::FlowLocal>(dir_);
    std::ofstream(dir_ / "catalog.yaml") << R"(captures:
  acmeCo/hello:
    endpoint:
      local:
        command: [")" << RunfileFromEnv("HELLO_WORLD_BINARY")
                                         << R"("]
        config: {interval_ms: 0}
    bindings:
      - resource: {name: greetings}
        target: acmeCo/greetings
collections:
  acmeCo/greetings:
    key: [/id]
    schema: {type: object, required: [id]}
materializations:
  acmeCo/to-sqlite:
    endpoint:
      local:
        command: [")" << RunfileFromEnv("MATERIALIZE_SQLITE_BINARY")
                                         << R"("]
        config: {path: ")" << (dir_ / "out.db").string()
                                         << R"("}
    bindings:
      - source: acmeCo/greetings
        resource: {table: greetings}
)";
  }

  absl::StatusOr<process::Subprocess> Start(const std::vector<std::string>& args) {
    return flow_->Start(args);
  }

  // Ids of the captured greetings, in journal order.
  std::vector<int64_t> JournalIds() {
    std::istringstream in(flow_->Journal("acmeCo/greetings"));
    std::vector<int64_t> ids;
    json::Parser parser;
    for (std::string line; std::getline(in, line);) {
      auto doc = parser.Parse(line);
      EXPECT_TRUE(doc.ok());
      int64_t id = -1;
      EXPECT_EQ((*doc)["id"].get(id), simdjson::SUCCESS);
      ids.push_back(id);
    }
    return ids;
  }

  // (count, min id, max id, sum of ids) of the materialized table.
  std::vector<int64_t> TableSummary() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "out.db").string().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT count(*), min(json_extract(doc, '$.id')), "
                                 "max(json_extract(doc, '$.id')), sum(json_extract(doc, '$.id')) "
                                 "FROM greetings",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    std::vector<int64_t> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < 4; ++i) out.push_back(sqlite3_column_int64(stmt, i));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<local::testing::FlowLocal> flow_;
};

TEST_F(ChaosTest, KillNineAnywhereLosesAndDuplicatesNothing) {
  chaos::Options options;
  options.rounds = 6;
  options.seed = 20261123;
  auto rounds = chaos::KillAndRestart([&] { return Start({"run"}); }, options);
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  int killed = 0;
  for (const auto& round : *rounds) killed += round.killed;
  EXPECT_GE(killed, 4) << "most rounds must really kill something";

  // Drain what was captured into the database, without chaos.
  auto drain = Start({"materialize", "--task", "acmeCo/to-sqlite", "--until-caught-up"});
  ASSERT_TRUE(drain.ok());
  auto code = drain->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(*code, 0);

  const std::vector<int64_t> ids = JournalIds();
  ASSERT_GT(ids.size(), 10u) << "the pipeline made progress between kills";
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], static_cast<int64_t>(i)) << "greeting captured twice or lost at " << i;
  }
  const int64_t n = static_cast<int64_t>(ids.size());
  EXPECT_EQ(TableSummary(), (std::vector<int64_t>{n, 0, n - 1, n * (n - 1) / 2}));
}

}  // namespace
}  // namespace connectors
