// The materialize transaction loop against a small in-memory transactor: the section 6.2
// transcript, multi-transaction read-committed behaviour, clean ends, and protocol violations.
#include "libs/connector/materialize_loop.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "libs/connector/stdio_stream.h"

namespace connectors::runtime {
namespace {

constexpr std::string_view kSchema = R"({"type":"object"})";

// Committed documents by (binding, packed key); Stores are staged until StartCommit.
class MemoryTransactor final : public Transactor {
 public:
  using Table = std::map<std::pair<uint32_t, std::string>, std::string>;
  explicit MemoryTransactor(Table* table) : table_(table) {}

  absl::Status Load(LoadIterator& loads, LoadedFn loaded) override {
    while (true) {
      auto load = loads.Next();
      if (!load.ok()) return load.status();
      if (*load == nullptr) return absl::OkStatus();
      auto it = table_->find({(*load)->binding(), (*load)->key_packed()});
      if (it == table_->end()) continue;
      if (auto status = loaded(it->first.first, it->second); !status.ok()) return status;
    }
  }
  absl::Status Store(StoreIterator& stores) override {
    while (true) {
      auto store = stores.Next();
      if (!store.ok()) return store.status();
      if (*store == nullptr) return absl::OkStatus();
      staged_.emplace_back(std::make_pair((*store)->binding(), (*store)->key_packed()),
                           (*store)->delete_() ? "" : (*store)->doc_json());
    }
  }
  absl::StatusOr<std::optional<flow::ConnectorState>> StartCommit(
      const consumer::Checkpoint& checkpoint) override {
    for (auto& [key, doc] : staged_) {
      if (doc.empty()) {
        table_->erase(key);
      } else {
        (*table_)[key] = doc;
      }
    }
    staged_.clear();
    flow::ConnectorState state;
    state.set_updated_json(R"({"commits":1})");
    state.set_merge_patch(true);
    return state;
  }
  absl::StatusOr<std::optional<flow::ConnectorState>> Acknowledge() override {
    return std::nullopt;
  }

 private:
  Table* table_;
  std::vector<std::pair<std::pair<uint32_t, std::string>, std::string>> staged_;
};

class MemoryDriver final : public MaterializeDriver {
 public:
  ::materialize::Response::Spec Spec() const override {
    ::materialize::Response::Spec spec;
    spec.set_config_schema_json(std::string(kSchema));
    spec.set_resource_config_schema_json(std::string(kSchema));
    return spec;
  }
  absl::StatusOr<::materialize::Response::Validated> Validate(
      const ::materialize::Request::Validate&, const Logger&) override {
    return ::materialize::Response::Validated();
  }
  absl::StatusOr<::materialize::Response::Applied> Apply(const ::materialize::Request::Apply&,
                                                         const Logger&) override {
    return ::materialize::Response::Applied();
  }
  absl::StatusOr<OpenedTransactor> Open(const ::materialize::Request::Open&,
                                        const Logger&) override {
    if (stop_when_opened != nullptr) stop_when_opened->Stop();
    return OpenedTransactor{std::make_unique<MemoryTransactor>(&table), {}};
  }

  MemoryTransactor::Table table;
  StopSignal* stop_when_opened = nullptr;
};

const std::string kOpen =
    R"({"open":{"materialization":{"name":"acmeCo/m","connectorType":"IMAGE","config":{},"bindings":[{"resourceConfig":{"table":"t"},"resourcePath":["t"],"collection":{"name":"acmeCo/src","key":["/id"]},"fieldSelection":{"keys":["id"],"values":["n","s"],"document":"flow_document"}}]},"version":"v1","range":{"keyEnd":4294967295,"rClockEnd":4294967295},"state":{}}})";

struct Result {
  absl::Status status;
  std::vector<std::string> lines;
};

// Feeds `requests` (JSON lines) to ServeMaterialize and collects its responses.
Result Serve(MemoryDriver& driver, const std::vector<std::string>& requests,
             const StopSignal* stop = nullptr) {
  int in = memfd_create("requests", 0);
  int out = memfd_create("responses", 0);
  for (const auto& line : requests) {
    const std::string framed = line + "\n";
    EXPECT_EQ(::write(in, framed.data(), framed.size()), static_cast<ssize_t>(framed.size()));
  }
  ::lseek(in, 0, SEEK_SET);
  Logger log(STDERR_FILENO, LogLevel::kWarn);
  auto configs = ConfigCheck::Compile(kSchema, kSchema);
  EXPECT_TRUE(configs.ok());
  FdMaterializeStream stream(in, out, codec::Codec::kJson, codec::UnknownKeys::kIgnore, stop);
  Result result;
  result.status = ServeMaterialize(driver, *configs, stream, log);
  EXPECT_TRUE(stream.Flush().ok());
  std::string text(static_cast<size_t>(::lseek(out, 0, SEEK_END)), '\0');
  EXPECT_EQ(::pread(out, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  ::close(in);
  ::close(out);
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    result.lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return result;
}

TEST(MaterializeLoop, TranscriptOfSection62) {
  MemoryDriver driver;
  driver.table[{0, std::string("\x02"
                               "a-key\x00",
                               7)}] = R"({"id":"a-key","n":41})";
  auto result = Serve(
      driver,
      {kOpen, R"({"acknowledge":{}})", R"({"load":{"keyPacked":"AmEta2V5AA=="}})",
       R"({"flush":{}})",
       R"({"store":{"keyPacked":"AmEta2V5AA==","valuesPacked":"FSoCaGkA","doc":{"id":"a-key","n":42,"s":"hi"},"exists":true}})",
       R"({"startCommit":{"runtimeCheckpoint":{"sources":{"acmeCo/src/pivot=00;materialize/acmeCo/m/t.v1":{"readThrough":"1234"}}}}})",
       R"({"acknowledge":{}})"});
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.lines,
            (std::vector<std::string>{
                R"({"opened":{}})", R"({"acknowledged":{}})",
                R"({"loaded":{"doc":{"id":"a-key","n":41}}})", R"({"flushed":{}})",
                R"({"startedCommit":{"state":{"updated":{"commits":1},"mergePatch":true}}})",
                R"({"acknowledged":{}})"}));
  EXPECT_EQ((driver.table[{0, std::string("\x02"
                                          "a-key\x00",
                                          7)}]),
            R"({"id":"a-key","n":42,"s":"hi"})");
}

TEST(MaterializeLoop, LoadsOfTheNextTransactionSeeCommittedStores) {
  MemoryDriver driver;
  auto result = Serve(
      driver, {kOpen, R"({"acknowledge":{}})", R"({"load":{"keyPacked":"FSo="}})",
               R"({"flush":{}})", R"({"store":{"keyPacked":"FSo=","doc":{"id":42}}})",
               R"({"startCommit":{}})", R"({"acknowledge":{}})", R"({"load":{"keyPacked":"FSo="}})",
               R"({"flush":{}})", R"({"store":{"keyPacked":"FSo=","exists":true,"delete":true}})",
               R"({"startCommit":{}})", R"({"acknowledge":{}})"});
  ASSERT_TRUE(result.status.ok()) << result.status;
  ASSERT_EQ(result.lines.size(), 9u);
  EXPECT_EQ(result.lines[2], R"({"flushed":{}})");  // Nothing to load in the first one.
  EXPECT_EQ(result.lines[5], R"({"loaded":{"doc":{"id":42}}})");
  EXPECT_TRUE(driver.table.empty()) << "the delete was committed";
}

TEST(MaterializeLoop, EndOfInputBetweenTransactionsIsClean) {
  MemoryDriver driver;
  auto result = Serve(driver, {kOpen, R"({"acknowledge":{}})"});
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.lines.size(), 2u);
}

TEST(MaterializeLoop, StopIsHonouredBetweenTransactions) {
  MemoryDriver driver;
  StopSignal stop;
  driver.stop_when_opened = &stop;
  auto result = Serve(driver, {kOpen, R"({"acknowledge":{}})", R"({"flush":{}})"}, &stop);
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.lines, std::vector<std::string>{R"({"opened":{}})"});
}

TEST(MaterializeLoop, ProtocolViolationsAreNamed) {
  struct Case {
    std::vector<std::string> requests;
    std::string error;
  } cases[] = {
      {{kOpen, R"({"load":{"keyPacked":"FSo="}})"},
       "materialize protocol error (expected Acknowledge): got load"},
      {{kOpen, R"({"acknowledge":{}})", R"({"store":{}})"},
       "materialize protocol error (expected Load or Flush): got store"},
      {{kOpen, R"({"acknowledge":{}})", R"({"load":{"keyPacked":"FSo="}})"},
       "unexpected end of input in a transaction (expected Load or Flush)"},
      {{kOpen, R"({"acknowledge":{}})", R"({"flush":{}})", R"({"load":{}})"},
       "materialize protocol error (expected Store or StartCommit): got load"},
      {{kOpen, R"({"acknowledge":{}})", R"({"load":{"binding":3}})"},
       "Load or Flush names binding 3 but the task has 1 bindings"},
      {{R"({"flush":{}})"},
       "materialize protocol error (expected Spec, Validate, Apply or Open): got flush"},
      {{R"({"open":{"materialization":{"config":[]}}})"},
       "endpoint config is invalid: (root): expected object, got array"},
  };
  for (const auto& c : cases) {
    MemoryDriver driver;
    auto result = Serve(driver, c.requests);
    EXPECT_EQ(result.status.message(), c.error);
  }
}

}  // namespace
}  // namespace connectors::runtime
