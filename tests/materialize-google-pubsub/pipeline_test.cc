// End to end through flow-local: source-hello-world captures greetings into a collection and
// materialize-google-pubsub publishes them to the real Pub/Sub emulator; a subscription reads
// back exactly what was published. Then the same under kill -9 (tests/chaos): the runtime or a
// connector is killed at random moments and restarted, and every document of the collection
// (all of it committed by the final drain) must be on the subscription at least once, with
// nothing that is not in the collection.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/process/subprocess.h"
#include "materialize-google-pubsub/pubsub_client.h"
#include "tests/chaos/chaos.h"
#include "tests/harness/pubsub_emulator.h"
#include "tests/materialize-google-pubsub/support.h"
#include "tests/runtime/testing/flow_local.h"

namespace connectors {
namespace {

namespace fs = std::filesystem;

constexpr char kProject[] = "flow-local-project";
constexpr char kTopic[] = "greetings-topic";

using local::testing::RunfileFromEnv;

// Canonical JSON (sorted keys), so documents compare whatever their key order.
std::string Canonical(std::string_view text) {
  json::Parser parser;
  auto doc = parser.Parse(text);
  EXPECT_TRUE(doc.ok()) << text;
  return doc.ok() ? json::ToJson(*doc, /*sort_keys=*/true) : std::string(text);
}

class PubsubPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!harness::PubsubEmulator::Installed()) {
      GTEST_SKIP() << harness::PubsubEmulator::Missing();
    }
    auto emulator = harness::PubsubEmulator::Start();
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_.emplace(*std::move(emulator));
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") /
           StrCat("pubsub-pipeline-", ::getpid(), "-",
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    flow_ = std::make_unique<local::testing::FlowLocal>(dir_);
  }

  void WriteCatalog(std::string_view hello_config) {
    std::ofstream(dir_ / "catalog.yaml") << "captures:\n"
                                         << "  acmeCo/hello:\n"
                                         << "    endpoint:\n"
                                         << "      local:\n"
                                         << "        command: [\""
                                         << RunfileFromEnv("HELLO_WORLD_BINARY") << "\"]\n"
                                         << "        config: " << hello_config << "\n"
                                         << R"(    bindings:
      - resource: {name: greetings}
        target: acmeCo/greetings
collections:
  acmeCo/greetings:
    key: [/id]
    schema: {type: object, properties: {id: {type: integer}}, required: [id]}
materializations:
  acmeCo/to-pubsub:
    endpoint:
      local:
        command: [")" << RunfileFromEnv("PUBSUB_BINARY")
                                         << R"("]
        config:
          project_id: )" << kProject << R"(
          advanced: {emulator_host: ")" << emulator_->host_port()
                                         << R"("}
    bindings:
      - source: acmeCo/greetings
        resource: {topic: )" << kTopic << R"(, identifier: greetings}
)";
  }

  absl::StatusOr<process::Subprocess> Start(const std::vector<std::string>& args) {
    return flow_->Start(args);
  }

  int Run(const std::vector<std::string>& args) { return flow_->Run(args); }

  // The collection's documents, canonical.
  std::vector<std::string> Journal() {
    std::istringstream in(flow_->Journal("acmeCo/greetings"));
    std::vector<std::string> docs;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) docs.push_back(Canonical(line));
    }
    return docs;
  }

  // What the default subscription received: canonical document -> times.
  std::map<std::string, int> Received(size_t expected) {
    pubsub::PubsubClient client(pubsub::Endpoint{emulator_->url(), kProject, nullptr});
    auto pulled = testing::PullAll(client, StrCat(kTopic, "-sub"), expected);
    EXPECT_TRUE(pulled.ok()) << pulled.status();
    std::map<std::string, int> counts;
    if (!pulled.ok()) return counts;
    for (const auto& message : *pulled) {
      EXPECT_EQ(message.attributes.count("identifier"), 1u);
      if (message.attributes.count("identifier")) {
        EXPECT_EQ(message.attributes.at("identifier"), "greetings");
      }
      ++counts[Canonical(message.data)];
    }
    return counts;
  }

  std::optional<harness::PubsubEmulator> emulator_;
  fs::path dir_;
  std::unique_ptr<local::testing::FlowLocal> flow_;
};

TEST_F(PubsubPipeline, CapturedDocumentsArePublishedExactlyOnceWithoutFailures) {
  WriteCatalog("{greeting: Hi, interval_ms: 1, stop_after: 40}");
  ASSERT_EQ(Run({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(Run({"materialize", "--task", "acmeCo/to-pubsub", "--until-caught-up"}), 0);
  // A second round resumes both sides from their committed state.
  ASSERT_EQ(Run({"capture", "--task", "acmeCo/hello", "--once"}), 0);
  ASSERT_EQ(Run({"materialize", "--task", "acmeCo/to-pubsub", "--until-caught-up"}), 0);

  const std::vector<std::string> journal = Journal();
  ASSERT_EQ(journal.size(), 80u);
  const auto received = Received(journal.size());
  ASSERT_EQ(received.size(), journal.size());
  for (const auto& doc : journal) {
    auto it = received.find(doc);
    ASSERT_NE(it, received.end()) << "not published: " << doc;
    EXPECT_EQ(it->second, 1) << "without failures nothing repeats: " << doc;
  }
}

TEST_F(PubsubPipeline, KillNineAnywhereLosesNothingCommitted) {
  WriteCatalog("{interval_ms: 0}");
  chaos::Options options;
  options.rounds = 6;
  options.seed = 20261123;
  auto rounds = chaos::KillAndRestart([&] { return Start({"run"}); }, options);
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  int killed = 0;
  for (const auto& round : *rounds) killed += round.killed;
  EXPECT_GE(killed, 4) << "most rounds must really kill something";

  // Drain everything the collection committed into Pub/Sub, without chaos.
  ASSERT_EQ(Run({"materialize", "--task", "acmeCo/to-pubsub", "--until-caught-up"}), 0);

  const std::vector<std::string> journal = Journal();
  ASSERT_GT(journal.size(), 10u) << "the pipeline made progress between kills";
  const auto received = Received(journal.size());
  size_t duplicates = 0;
  for (const auto& doc : journal) {
    auto it = received.find(doc);
    ASSERT_NE(it, received.end()) << "a committed document is missing: " << doc;
    duplicates += it->second - 1;
  }
  EXPECT_EQ(received.size(), journal.size()) << "only the collection's documents are published";
  std::cerr << "chaos: " << journal.size() << " documents, " << duplicates
            << " published more than once (at-least-once)\n";
}

}  // namespace
}  // namespace connectors
