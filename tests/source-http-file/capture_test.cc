// source-http-file against the harness's real HTTP file server: every fixture format and
// compression (golden snapshots), conditional requests, sharding, auth, retries, dropped
// connections, crashes mid-file and malformed input.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/filesource/testing/archives.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "tests/harness/http_file_server.h"
#include "tests/harness/temp_dir.h"
#include "tests/snapshot/snapshot.h"
#include "tests/source-http-file/support.h"

namespace connectors::http_file {
namespace {

using filesource::testing::Gzip;
using filesource::testing::Zip;
using filesource::testing::Zstd;
using harness::HttpFileServer;
using harness::HttpFileServerOptions;
using harness::WriteFile;
using testing::RunCapture;
using testing::RunOptions;
using testing::TestOptions;

std::string Config(const std::string& url, const std::string& extra = "") {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("url").String(url).EndObject();
  if (!extra.empty()) out = StrCat(out.substr(0, out.size() - 1), ",", extra, "}");
  return out;
}

RunOptions Options() {
  RunOptions options;
  options.driver = TestOptions();
  return options;
}

std::string Utf16Le(std::string_view ascii) {
  std::string out = "\xFF\xFE";
  for (char c : ascii) out += std::string{c, '\0'};
  return out;
}

// Fixture name -> bytes. Names carry the extensions that drive detection.
std::map<std::string, std::string> Fixtures() {
  std::map<std::string, std::string> f;
  f["people.csv"] =
      "id,name,city,joined\r\n1,\"Smith, Jo\",Paris,2024-01-02 03:04:05\r\n2,Ann,NULL,\r\n"
      "3,\"multi\nline\",Oslo,2024-02-03T04:05:06.789+01:00\r\n";
  f["pipes.tsv.gz"] = Gzip("a\tb\n1\tx\n") + Gzip("2\ty\n");  // Two gzip members.
  f["latin1.csv"] = "nom;ville\nJos\xE9;Montr\xE9\x61l\n";
  f["utf16.csv"] = Utf16Le("k,v\n1,\xE9t\xE9\n");
  f["events.jsonl.zst"] = Zstd("{\"e\":1,\"at\":\"2024-05-01 10:00:00\"}\n") + Zstd("{\"e\":2}\n");
  f["array.json"] =
      "[\n  {\"id\": 1, \"tags\": [\"a\"]},\n  {\"id\": 2, \"nested\": {\"x\": null}}\n]\n";
  f["bundle.zip"] = Zip({{"part1.csv", "k\n1\n2\n", true},
                         {".DS_Store", "junk", false},
                         {"part2.jsonl", "{\"k\":\"3\"}\n", true, true}});
  f["access.log"] =
      "#Version: 1.0\n#Fields: date time cs-uri-stem sc-status\n"
      "2024-01-02 03:04:05 /index.html 200\n2024-01-02 03:04:06 - 404\n";
  f["records.avro"] = filesource::testing::AvroFile("deflate", 3);
  f["book.xlsx"] =
      Zip({{"xl/worksheets/sheet1.xml",
            "<worksheet><sheetData><row><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" "
            "t=\"inlineStr\"><is><t>qty</t></is></c></row><row><c r=\"A2\" t=\"s\"><v>1</v></c>"
            "<c r=\"B2\"><v>3</v></c></row></sheetData></worksheet>",
            true},
           {"xl/sharedStrings.xml", "<sst><si><t>item</t></si><si><t>pen</t></si></sst>", true}});
  f["download"] = "{\"sniffed\":true}\n{\"sniffed\":false}\n";  // No extension: sniffed JSON.
  return f;
}

std::vector<snapshot::Mask> Masks() {
  return {{R"(127\.0\.0\.1:[0-9]+)", "<host>"},
          {R"("etag":"\\"[0-9a-f]+-[0-9a-f]+\\"")", R"("etag":"<etag>")"},
          {R"("lastModified":"[^"]*")", R"("lastModified":"<time>")"}};
}

std::string Msg(const absl::Status& status) { return std::string(status.message()); }

std::string Lines(const std::vector<std::string>& docs) {
  std::string out;
  for (const auto& doc : docs) StrAppend(&out, doc, "\n");
  return out;
}

class HttpFile : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(const HttpFileServerOptions& options) {
    auto server = HttpFileServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    http_.emplace(*std::move(server));
  }
  void Put(const std::string& name, const std::string& data) {
    ASSERT_TRUE(WriteFile(StrCat(http_->root(), "/", name), data).ok());
  }
  void Faults(const std::string& name, const std::string& script) {
    std::filesystem::create_directories(StrCat(http_->root(), "/.faults"));
    ASSERT_TRUE(WriteFile(StrCat(http_->root(), "/.faults/", name), script).ok());
  }
  // Sets a file's modification time `seconds` into the past, so a rewrite in the same second
  // still changes Last-Modified.
  void Age(const std::string& name, int seconds) {
    const std::string path = StrCat(http_->root(), "/", name);
    struct utimbuf times;
    times.actime = times.modtime = ::time(nullptr) - seconds;
    ASSERT_EQ(::utime(path.c_str(), &times), 0);
  }
  // How many requests the server logged with `line` ("GET /x 304"). The server logs a request
  // after answering it, so wait briefly for `at_least` of them.
  size_t Requests(const std::string& line, size_t at_least = 1) {
    size_t count = Count(line);
    for (int i = 0; i < 200 && count < at_least; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
      count = Count(line);
    }
    return count;
  }
  size_t Count(const std::string& line) {
    const std::string log = http_->LogTail();
    size_t count = 0;
    for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) {
      ++count;
    }
    return count;
  }
  std::optional<HttpFileServer> http_;
};

TEST_F(HttpFile, EveryFixtureMatchesItsSnapshot) {
  for (const auto& [name, data] : Fixtures()) Put(name, data);
  for (const auto& [name, data] : Fixtures()) {
    SCOPED_TRACE(name);
    auto result = RunCapture(Config(http_->url(name)), Options());
    ASSERT_TRUE(result.open_status.ok()) << result.open_status;
    ASSERT_TRUE(result.run_status.ok()) << result.run_status;
    EXPECT_EQ(result.uncommitted, 0u);
    std::string out =
        StrCat("# documents\n", Lines(result.committed), "# state\n", result.state, "\n");
    snapshot::ExpectMatches(StrCat("tests/source-http-file/snapshots/", name, ".snap"), out,
                            Masks());
  }
}

TEST_F(HttpFile, CsvColumnsAreTypedByTheCollectionSchema) {
  Put("typed.csv", "id,price,ok,label\n1,2.50,true,007\n2,x,false,\n");
  RunOptions options = Options();
  options.collection_schema =
      R"({"type":"object","properties":{"id":{"type":"integer"},"price":{"type":["number","null"]},)"
      R"("ok":{"type":"boolean"},"label":{"type":"string"}}})";
  auto result = RunCapture(Config(http_->url("typed.csv")), options);
  ASSERT_TRUE(result.run_status.ok()) << result.run_status;
  ASSERT_EQ(result.committed.size(), 2u);
  EXPECT_EQ(result.committed[0].rfind(R"({"id":1,"price":2.5,"ok":true,"label":"007",)", 0), 0u)
      << result.committed[0];
  EXPECT_EQ(result.committed[1].rfind(R"({"id":2,"price":"x","ok":false,"label":null,)", 0), 0u)
      << result.committed[1];
}

TEST_F(HttpFile, UnchangedFileIsNeitherDownloadedNorEmittedAgain) {
  Put("a.csv", "k\n1\n2\n");
  Age("a.csv", 100);
  auto first = RunCapture(Config(http_->url("a.csv")), Options());
  ASSERT_TRUE(first.run_status.ok()) << first.run_status;
  EXPECT_EQ(first.committed.size(), 2u);

  RunOptions again = Options();
  again.state_json = first.state;
  auto second = RunCapture(Config(http_->url("a.csv")), again);
  ASSERT_TRUE(second.run_status.ok()) << second.run_status;
  EXPECT_TRUE(second.committed.empty());
  EXPECT_EQ(Requests("GET /a.csv 304"), 1u) << http_->LogTail();

  // A new version is read again from offset 0.
  Put("a.csv", "k\n1\n2\n3\n");
  RunOptions third_options = Options();
  third_options.state_json = second.state;
  auto third = RunCapture(Config(http_->url("a.csv")), third_options);
  ASSERT_TRUE(third.run_status.ok()) << third.run_status;
  ASSERT_EQ(third.committed.size(), 3u);
  EXPECT_NE(third.committed[0].find(R"("offset":0)"), std::string::npos);
}

TEST_F(HttpFile, WithoutETagIfModifiedSinceIsUsed) {
  HttpFileServerOptions options;
  options.etag = false;
  Start(options);
  Put("b.jsonl", "{\"x\":1}\n");
  Age("b.jsonl", 100);
  auto first = RunCapture(Config(http_->url("b.jsonl")), Options());
  ASSERT_TRUE(first.run_status.ok()) << first.run_status;
  EXPECT_EQ(first.committed.size(), 1u);
  EXPECT_EQ(first.committed[0].find("etag"), std::string::npos);
  RunOptions again = Options();
  again.state_json = first.state;
  auto second = RunCapture(Config(http_->url("b.jsonl")), again);
  EXPECT_TRUE(second.committed.empty());
  EXPECT_EQ(Requests("GET /b.jsonl 304"), 1u) << http_->LogTail();
}

TEST_F(HttpFile, ShardsSplitFilesByPathHash) {
  std::vector<std::string> urls;
  for (int i = 0; i < 12; ++i) {
    Put(StrCat("f", i, ".csv"), StrCat("n\n", i, "\n"));
    urls.push_back(http_->url(StrCat("f", i, ".csv")));
  }
  std::string extra = "\"additionalUrls\":[";
  for (size_t i = 1; i < urls.size(); ++i) StrAppend(&extra, i > 1 ? "," : "", "\"", urls[i], "\"");
  extra += "]";
  const std::string config = Config(urls[0], extra);
  std::multiset<std::string> seen;
  size_t per_shard[2];
  for (int shard = 0; shard < 2; ++shard) {
    RunOptions options = Options();
    options.key_begin = shard == 0 ? 0 : 0x80000000;
    options.key_end = shard == 0 ? 0x7FFFFFFF : 0xFFFFFFFF;
    auto result = RunCapture(config, options);
    ASSERT_TRUE(result.run_status.ok()) << result.run_status;
    per_shard[shard] = result.committed.size();
    for (const auto& doc : result.committed) seen.insert(doc);
  }
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 12u) << "no file twice";
  EXPECT_GT(per_shard[0], 0u);
  EXPECT_GT(per_shard[1], 0u);
}

TEST_F(HttpFile, BasicAndBearerCredentials) {
  HttpFileServerOptions options;
  options.basic_auth_user = "reader";
  options.basic_auth_password = "s3cret-pw";
  options.bearer_token = "tok-123";
  Start(options);
  Put("c.csv", "k\n1\n");
  auto basic = RunCapture(
      Config(http_->url("c.csv"),
             R"("credentials":{"auth_type":"basic","user":"reader","password":"s3cret-pw"})"),
      Options());
  EXPECT_TRUE(basic.run_status.ok()) << basic.run_status;
  EXPECT_EQ(basic.committed.size(), 1u);
  auto bearer = RunCapture(
      Config(http_->url("c.csv"), R"("credentials":{"auth_type":"bearer","token":"tok-123"})"),
      Options());
  EXPECT_TRUE(bearer.run_status.ok()) << bearer.run_status;
  auto header = RunCapture(
      Config(http_->url("c.csv"),
             R"("headers":{"items":[{"key":"Authorization","value":"Bearer tok-123"}]})"),
      Options());
  EXPECT_TRUE(header.run_status.ok()) << header.run_status;
  auto wrong = RunCapture(
      Config(http_->url("c.csv"),
             R"("credentials":{"auth_type":"basic","user":"reader","password":"nope-pw"})"),
      Options());
  EXPECT_EQ(wrong.run_status.code(), absl::StatusCode::kPermissionDenied);
  const std::string message(wrong.run_status.message());
  EXPECT_NE(message.find(StrCat("GET ", http_->url("c.csv"), ": HTTP 401")), std::string::npos)
      << message;
  EXPECT_EQ(message.find("nope-pw"), std::string::npos) << "no secret in errors";
  EXPECT_EQ(Requests("GET /c.csv 401"), 1u) << "401 is not retried";
}

TEST_F(HttpFile, NotFoundNamesTheUrl) {
  auto result = RunCapture(Config(http_->url("missing.csv")), Options());
  EXPECT_EQ(result.run_status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Msg(result.run_status),
            StrCat("GET ", http_->url("missing.csv"),
                   ": HTTP 404: not found; check the endpoint config's url"));
}

TEST_F(HttpFile, ServerErrorsAreRetriedHonouringRetryAfter) {
  Put("d.csv", "k\n1\n");
  Faults("d.csv", "status 503 1\nstatus 500\nok\n");
  const absl::Time start = absl::Now();
  auto result = RunCapture(Config(http_->url("d.csv")), Options());
  ASSERT_TRUE(result.run_status.ok()) << result.run_status;
  EXPECT_EQ(result.committed.size(), 1u);
  EXPECT_GE(absl::Now() - start, absl::Seconds(1)) << "Retry-After: 1 was honoured";
  EXPECT_EQ(Requests("GET /d.csv 503"), 1u);
  EXPECT_EQ(Requests("GET /d.csv 500"), 1u);

  Faults("e.csv", "status 500\nstatus 500\nstatus 502\nstatus 500\nstatus 500\n");
  Put("e.csv", "k\n1\n");
  auto failing = RunCapture(Config(http_->url("e.csv")), Options());
  EXPECT_EQ(failing.run_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Msg(failing.run_status),
            StrCat("GET ", http_->url("e.csv"), " failed after 4 attempts; last: HTTP 500"));
}

TEST_F(HttpFile, RedirectsSlowBodiesAndDroppedConnectionsGiveTheSameDocuments) {
  std::string data = "id,text\n";
  for (int i = 0; i < 20000; ++i) StrAppend(&data, i, ",row number ", i, "\n");
  Put("big.csv", data);
  auto clean = RunCapture(Config(http_->url("big.csv")), Options());
  ASSERT_TRUE(clean.run_status.ok()) << clean.run_status;
  ASSERT_EQ(clean.committed.size(), 20000u);

  Put("big2.csv", data);
  Faults("big2.csv", "redirect /big.csv\n");
  Faults("big.csv", "drop-after 100000\ndrop-after 50000\nslow 2\n");
  auto faulty = RunCapture(Config(http_->url("big2.csv")), Options());
  ASSERT_TRUE(faulty.run_status.ok()) << faulty.run_status;
  ASSERT_EQ(faulty.committed.size(), clean.committed.size());
  for (size_t i = 0; i < clean.committed.size(); ++i) {
    std::string doc = faulty.committed[i];
    doc.replace(doc.find("big2.csv"), 8, "big.csv");
    ASSERT_EQ(doc, clean.committed[i]) << "resumed without gaps or duplicates";
  }
  EXPECT_GE(Requests("GET /big.csv 206", 2), 2u) << http_->LogTail();
}

TEST_F(HttpFile, ACrashMidFileResumesAfterTheCommittedRecords) {
  std::string data;
  for (int i = 0; i < 5000; ++i)
    StrAppend(&data, "{\"i\":", i, ",\"pad\":\"", std::string(40, 'p'), "\"}\n");
  Put("crash.jsonl", data);
  RunOptions options = Options();
  options.driver.checkpoint_bytes = 20000;
  options.crash_at_document = 3210;
  auto crashed = RunCapture(Config(http_->url("crash.jsonl")), options);
  EXPECT_FALSE(crashed.run_status.ok());
  ASSERT_GT(crashed.committed.size(), 0u);
  ASSERT_LT(crashed.committed.size(), 3210u);

  RunOptions resume = Options();
  resume.state_json = crashed.state;
  auto rest = RunCapture(Config(http_->url("crash.jsonl")), resume);
  ASSERT_TRUE(rest.run_status.ok()) << rest.run_status;
  std::vector<std::string> all = crashed.committed;
  all.insert(all.end(), rest.committed.begin(), rest.committed.end());
  ASSERT_EQ(all.size(), 5000u) << "every record exactly once";
  for (int i = 0; i < 5000; ++i) {
    ASSERT_NE(all[i].find(StrCat("\"offset\":", i, ",")), std::string::npos) << all[i];
  }
}

TEST_F(HttpFile, FileChangedDuringReadIsReadAgain) {
  std::string v1, v2;
  v1 = "n\n";
  for (int i = 0; i < 30000; ++i) StrAppend(&v1, i, "\n");
  v2 = v1 + "30000\n";
  Put("moving.csv", v1);
  Age("moving.csv", 100);
  // The connection drops; before the client resumes, a new version appears: If-Range fails,
  // the server sends the whole new file, and the capture starts the file over.
  Faults("moving.csv", "drop-after 60000\n");
  std::thread writer([&] {
    while (Count("GET /moving.csv 200") == 0) absl::SleepFor(absl::Milliseconds(1));
    Put("moving.csv", v2);
  });
  RunOptions options = Options();
  options.driver.retry.initial_backoff = absl::Seconds(2);  // Time for the rewrite.
  auto result = RunCapture(Config(http_->url("moving.csv")), options);
  writer.join();
  ASSERT_TRUE(result.run_status.ok()) << result.run_status;
  const std::string last = result.committed.back();
  EXPECT_NE(last.find(R"({"n":"30000",)"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("offset":30000,)"), std::string::npos) << last;
}

TEST_F(HttpFile, MalformedRowsUnderAndOverTheThreshold) {
  std::string data = "a,b\n";
  for (int i = 0; i < 300; ++i) StrAppend(&data, i % 100 == 50 ? "1,2,3\n" : StrCat(i, ",x\n"));
  Put("rows.csv", data);
  auto under =
      RunCapture(Config(http_->url("rows.csv"),
                        R"("parser":{"format":{"type":"csv","config":{"errorThreshold":5}}})"),
                 Options());
  ASSERT_TRUE(under.run_status.ok()) << under.run_status;
  EXPECT_EQ(under.committed.size(), 297u);
  auto over = RunCapture(Config(http_->url("rows.csv")), Options());
  EXPECT_EQ(Msg(over.run_status),
            StrCat("capturing ", http_->url("rows.csv"), ": CSV file ", http_->url("rows.csv"),
                   ", line 52 (byte 244): the row has 3 columns but the header has 2"));
  EXPECT_EQ(over.committed.size(), 50u) << "rows before the failure stay committed";
}

TEST_F(HttpFile, InvalidUtf8AndTruncatedGzipNameTheFileAndOffset) {
  Put("bad.jsonl", "{\"a\":\"ok\"}\n{\"a\":\"\xC3\x28\"}\n");
  auto utf8 = RunCapture(Config(http_->url("bad.jsonl"), R"("parser":{"format":{"type":"json"}})"),
                         Options());
  EXPECT_EQ(utf8.run_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(utf8.run_status.message()).find("invalid UTF-8 at byte 17"),
            std::string::npos)
      << utf8.run_status;
  std::string gz = Gzip(std::string(200000, 'z'));
  gz.resize(gz.size() - 10);
  Put("cut.csv.gz", gz);
  auto truncated = RunCapture(Config(http_->url("cut.csv.gz")), Options());
  EXPECT_EQ(truncated.run_status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(truncated.run_status.message())
                .find(StrCat("capturing ", http_->url("cut.csv.gz"))),
            std::string::npos)
      << truncated.run_status;
  EXPECT_NE(std::string(truncated.run_status.message()).find("gzip: truncated input"),
            std::string::npos)
      << truncated.run_status;
}

TEST_F(HttpFile, LargeTopLevelArrayIsStreamedInBoundedMemory) {
  const std::string path = StrCat(http_->root(), "/huge.json");
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("[", f);
    const std::string pad(200, 'x');
    for (int i = 0; i < 400000; ++i)
      std::fprintf(f, "%s{\"i\":%d,\"p\":\"%s\"}", i ? "," : "", i, pad.c_str());
    std::fputs("]\n", f);
    std::fclose(f);
  }
  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
  // Count without keeping documents: drive through a session that drops them.
  RunOptions options = Options();
  auto result = RunCapture(Config(http_->url("huge.json")), options);
  ASSERT_TRUE(result.run_status.ok()) << result.run_status;
  EXPECT_EQ(result.committed.size(), 400000u);
  // The file is ~90 MB; the committed documents are kept by the test session itself, so only
  // check that the connector did not hold the file on top of them.
  struct rusage after;
  getrusage(RUSAGE_SELF, &after);
  size_t docs_bytes = 0;
  for (const auto& d : result.committed) docs_bytes += d.capacity() + 32;
  EXPECT_LT((after.ru_maxrss - before.ru_maxrss) * 1024, long(docs_bytes + (60 << 20)));
}

TEST(HttpFileDriver, StreamNamesAndUrlChecks) {
  EXPECT_EQ(*StreamName("https://example.com/path/to//thing//"), "thing");
  EXPECT_EQ(*StreamName("https://user:pw@host.example:8081"), "host.example");
  EXPECT_EQ(*StreamName("http://h/data.csv?x=1"), "data.csv");
  for (const char* bad :
       {"example.com/file.csv", "/relative/path", "ftp://h/x", "http://h/a b", "https:///nohost"}) {
    auto name = StreamName(bad);
    EXPECT_FALSE(name.ok()) << bad;
    EXPECT_NE(std::string(name.status().message()).find("is not a full URL"), std::string::npos);
  }
  EXPECT_EQ(RedactUrl("https://u:p@h:1/x@y"), "https://h:1/x@y");
}

TEST(HttpFileDriver, SpecSnapshot) {
  HttpFileDriver driver;
  auto spec = driver.Spec();
  std::string out = StrCat("# config\n", spec.config_schema_json(), "\n# resource\n",
                           spec.resource_config_schema_json(), "\n");
  snapshot::ExpectMatches("tests/source-http-file/snapshots/spec.snap", out, {});
}

}  // namespace
}  // namespace connectors::http_file
