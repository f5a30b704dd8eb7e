// source-http-file end to end through flow-local: the real connector binary, the runtime's
// schema validation and durable commits, and a second run that finds nothing new.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/filesource/testing/archives.h"
#include "libs/process/subprocess.h"
#include "tests/harness/http_file_server.h"
#include "tests/harness/temp_dir.h"
#include "tests/snapshot/snapshot.h"

namespace connectors {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  EXPECT_NE(value, nullptr) << name;
  return value == nullptr ? "" : fs::absolute(value).string();
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Pipeline : public testing::Test {
 protected:
  void SetUp() override {
    auto http = harness::HttpFileServer::Start();
    ASSERT_TRUE(http.ok()) << http.status();
    http_.emplace(*std::move(http));
    auto dir = harness::TempDir::Create("pipeline-");
    ASSERT_TRUE(dir.ok());
    dir_.emplace(*std::move(dir));
    ASSERT_TRUE(harness::WriteFile(StrCat(http_->root(), "/people.csv"),
                                   "id,name,joined\n1,Ann,2024-01-02 03:04:05\n2,Bob,\n")
                    .ok());
    ASSERT_TRUE(harness::WriteFile(StrCat(http_->root(), "/events.jsonl.gz"),
                                   filesource::testing::Gzip("{\"id\":10,\"kind\":\"click\"}\n"))
                    .ok());
    std::ofstream(Catalog()) << StrCat(R"(captures:
  acmeCo/http:
    endpoint:
      local:
        command: [")",
                                       Env("HTTP_FILE_BINARY"), R"("]
        config:
          url: ")",
                                       http_->url("people.csv"), R"("
          additionalUrls: [")",
                                       http_->url("events.jsonl.gz"), R"("]
    bindings:
      - resource: {stream: files}
        target: acmeCo/files
collections:
  acmeCo/files:
    key: [/_meta/file, /_meta/offset]
    schema:
      type: object
      required: [_meta]
      properties:
        id: {type: integer}
        joined: {type: [string, "null"], format: date-time}
        _meta:
          type: object
          required: [file, offset]
          properties:
            file: {type: string}
            offset: {type: integer}
)");
  }

  std::string Catalog() { return StrCat(dir_->path(), "/catalog.yaml"); }

  int FlowLocal(std::vector<std::string> args) {
    process::SpawnOptions options;
    options.argv = {Env("FLOW_LOCAL_BINARY")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    for (std::string flag : {"--catalog", "--data-dir"}) {
      options.argv.push_back(flag);
      options.argv.push_back(flag == "--catalog" ? Catalog() : StrCat(dir_->path(), "/data"));
    }
    options.pipe_stderr = false;
    auto child = process::Subprocess::Spawn(options);
    EXPECT_TRUE(child.ok()) << child.status();
    child->CloseStdin();
    auto code = child->Wait(absl::Seconds(60));
    EXPECT_TRUE(code.ok()) << code.status();
    return code.ok() ? *code : -1;
  }

  std::string Journal() {
    return Read(StrCat(dir_->path(), "/data/collections/acmeCo%2Ffiles.jsonl"));
  }

  std::vector<snapshot::Mask> Masks() {
    auto masks = snapshot::DefaultMasks();
    masks.push_back({R"(127\.0\.0\.1:[0-9]+)", "<host>"});
    masks.push_back({R"("etag":"\\"[0-9a-f]+-[0-9a-f]+\\"")", R"("etag":"<etag>")"});
    masks.push_back({R"("lastModified":"[^"]*")", R"("lastModified":"<time>")"});
    return masks;
  }

  std::optional<harness::HttpFileServer> http_;
  std::optional<harness::TempDir> dir_;
};

TEST_F(Pipeline, CapturesOnceAndSkipsUnchangedFiles) {
  ASSERT_EQ(FlowLocal({"capture", "--task", "acmeCo/http", "--once"}), 0);
  const std::string first = Journal();
  // The second session asks conditionally and gets 304 for both files: nothing new.
  ASSERT_EQ(FlowLocal({"capture", "--task", "acmeCo/http", "--once"}), 0);
  EXPECT_EQ(Journal(), first);
  const std::string log = http_->LogTail();
  EXPECT_NE(log.find("GET /people.csv 304"), std::string::npos) << log;
  EXPECT_NE(log.find("GET /events.jsonl.gz 304"), std::string::npos) << log;
  snapshot::ExpectMatches("tests/source-http-file/snapshots/pipeline.snap", first, Masks());
}

TEST_F(Pipeline, DiscoverProposesTheFileBinding) {
  std::ofstream(Catalog()) << StrCat(R"(captures:
  acmeCo/http:
    endpoint:
      local:
        command: [")",
                                     Env("HTTP_FILE_BINARY"), R"("]
        config: {url: ")",
                                     http_->url("people.csv"), R"("}
)");
  ASSERT_EQ(FlowLocal({"discover", "--task", "acmeCo/http"}), 0);
  snapshot::ExpectMatches(
      "tests/source-http-file/snapshots/discover.snap",
      snapshot::Normalize(Read(Catalog()), {{Env("HTTP_FILE_BINARY"), "<binary>"}}), Masks());
  // The discovered catalog runs as written.
  ASSERT_EQ(FlowLocal({"capture", "--task", "acmeCo/http", "--once"}), 0);
  const std::string journal =
      Read(StrCat(dir_->path(), "/data/collections/acmeCo%2Fpeople.csv.jsonl"));
  EXPECT_NE(journal.find(R"("name":"Bob")"), std::string::npos) << journal;
}

}  // namespace
}  // namespace connectors
