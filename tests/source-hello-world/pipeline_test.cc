// source-hello-world through the local runtime: capture into collections, materialize into
// SQLite, resume from committed state, and compare everything with a snapshot.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "libs/process/subprocess.h"
#include "tests/runtime/testing/flow_local.h"
#include "tests/snapshot/snapshot.h"

namespace connectors {
namespace {

namespace fs = std::filesystem;

using local::testing::RunfileFromEnv;

class Pipeline : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") /
           ("pipeline-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    flow_ = std::make_unique<local::testing::FlowLocal>(dir_);
    std::ofstream(dir_ / "catalog.yaml") << R"(captures:
  acmeCo/hello:
    endpoint:
      local:
        command: [")" << RunfileFromEnv("HELLO_WORLD_BINARY")
                                         << R"("]
        config: {greeting: Hi, interval_ms: 1, stop_after: 3}
    bindings:
      - resource: {name: greetings}
        target: acmeCo/greetings
      - resource: {name: salutations}
        target: acmeCo/salutations
collections:
  acmeCo/greetings:
    key: [/id]
    schema: {type: object, properties: {id: {type: integer}, message: {type: string}, ts: {type: string, format: date-time}}, required: [id, message, ts]}
  acmeCo/salutations:
    key: [/id]
    schema: {type: object, properties: {id: {type: integer}}, required: [id]}
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
      - source: acmeCo/salutations
        resource: {table: salutations}
)";
  }

  // Runs flow-local and returns its exit code; its stderr goes to the test log.
  int FlowLocal(const std::vector<std::string>& args) { return flow_->Run(args, absl::Minutes(1)); }

  std::string Journal(std::string_view collection) { return flow_->Journal(collection); }

  std::string Table(const std::string& table) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "out.db").string().c_str(), &db), SQLITE_OK);
    std::string out;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, ("SELECT doc FROM " + table + " ORDER BY key").c_str(), -1,
                                 &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out += "\n";
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  fs::path dir_;
  std::unique_ptr<local::testing::FlowLocal> flow_;
};

TEST_F(Pipeline, CaptureMaterializeAndResume) {
  ASSERT_EQ(FlowLocal({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(FlowLocal({"materialize", "--task", "acmeCo/to-sqlite", "--until-caught-up"}), 0);
  // The second session resumes each binding's counter from the committed state.
  ASSERT_EQ(FlowLocal({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(FlowLocal({"materialize", "--task", "acmeCo/to-sqlite", "--until-caught-up"}), 0);

  const std::string output = "# journal acmeCo/greetings\n" + Journal("acmeCo/greetings") +
                             "# journal acmeCo/salutations\n" + Journal("acmeCo/salutations") +
                             "# sqlite greetings\n" + Table("greetings") +
                             "# sqlite salutations\n" + Table("salutations");
  snapshot::ExpectMatches("tests/source-hello-world/snapshots/pipeline.snap", output);
}

TEST_F(Pipeline, DocumentsFailingTheCollectionSchemaStopTheCapture) {
  // Tighten the schema so that the connector's documents no longer match.
  std::string catalog;
  {
    std::ifstream in(dir_ / "catalog.yaml");
    std::stringstream text;
    text << in.rdbuf();
    catalog = text.str();
  }
  const std::string from = "message: {type: string}";
  catalog.replace(catalog.find(from), from.size(), "message: {type: string, maxLength: 3}");
  std::ofstream(dir_ / "catalog.yaml") << catalog;
  EXPECT_EQ(FlowLocal({"capture", "--task", "acmeCo/hello", "--once"}), 1);
  EXPECT_EQ(Journal("acmeCo/greetings"), "") << "nothing may be committed";
}

TEST_F(Pipeline, DiscoverWritesBindingsAndCollectionsIntoTheCatalog) {
  std::ofstream(dir_ / "catalog.yaml") << R"(captures:
  acmeCo/hello:
    endpoint:
      local:
        command: [")" << RunfileFromEnv("HELLO_WORLD_BINARY")
                                       << R"("]
        config: {interval_ms: 1, stop_after: 1}
)";
  ASSERT_EQ(FlowLocal({"discover", "--task", "acmeCo/hello"}), 0);
  std::ifstream in(dir_ / "catalog.yaml");
  std::stringstream text;
  text << in.rdbuf();
  snapshot::ExpectMatches(
      "tests/source-hello-world/snapshots/discover.snap",
      snapshot::Normalize(text.str(), {{RunfileFromEnv("HELLO_WORLD_BINARY"), "<binary>"}}));
  // The discovered catalog runs as written.
  EXPECT_EQ(FlowLocal({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  EXPECT_NE(Journal("acmeCo/greetings").find(R"("id":0)"), std::string::npos);
}

// The same connector served over gRPC and reached through a `grpc` endpoint.
TEST_F(Pipeline, CaptureFromAGrpcEndpoint) {
  process::SpawnOptions server_options;
  server_options.argv = {RunfileFromEnv("HELLO_WORLD_BINARY"), "--grpc-listen=127.0.0.1:0"};
  auto server = process::Subprocess::Spawn(server_options);
  ASSERT_TRUE(server.ok());
  std::string logs, address;
  for (char c; address.empty() && ::read(server->stderr_fd(), &c, 1) == 1;) {
    logs.push_back(c);
    const auto at = logs.find(R"("address":")");
    if (c == '\n' && at != std::string::npos) {
      address = logs.substr(at + 11, logs.find('"', at + 11) - at - 11);
    }
  }
  ASSERT_FALSE(address.empty()) << logs;
  std::ofstream(dir_ / "catalog.yaml") << R"(captures:
  acmeCo/hello:
    endpoint:
      grpc:
        address: ")" << address << R"("
        config: {interval_ms: 1}
    bindings:
      - resource: {name: greetings}
        target: acmeCo/greetings
collections:
  acmeCo/greetings:
    key: [/id]
    schema: {type: object, required: [id]}
)";
  auto runtime = flow_->Start({"capture", "--task", "acmeCo/hello"}, "info");
  ASSERT_TRUE(runtime.ok());
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(runtime->Signal(SIGTERM).ok());
  auto code = runtime->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  const std::string journal = Journal("acmeCo/greetings");
  EXPECT_NE(journal.find(R"("id":10,)"), std::string::npos) << journal.substr(0, 500);
  ASSERT_TRUE(server->Signal(SIGTERM).ok());
  EXPECT_TRUE(server->Wait(absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace connectors
