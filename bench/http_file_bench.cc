// source-http-file over loopback: a JSONL and a CSV file (1 GiB each by default) served by the
// harness's HTTP file server and captured through the driver (download, parse, decorate,
// checkpoint; documents counted, not framed), beside the limits measured in the same run:
//   download: libcurl GET of the same URL into a discarding callback (what `curl -o /dev/null`
//             does), and the curl CLI itself when installed;
//   parse:    simdjson's parse_many over the same JSONL bytes from memory, parse only.
//
// Usage: http_file_bench [--megabytes=N] (default 1024; files go to $TMPDIR, deleted after).
#include <curl/curl.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "libs/base/strings.h"
#include "source-http-file/http_file.h"
#include "tests/harness/http_file_server.h"
#include "tests/harness/temp_dir.h"

namespace connectors::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(std::string_view what) {
  std::fprintf(stderr, "http_file_bench: %.*s\n", int(what.size()), what.data());
  std::exit(1);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Writes ~`bytes` of records; returns the record count.
uint64_t WriteFixture(const std::string& path, uint64_t bytes, bool csv) {
  std::ofstream out(path, std::ios::binary);
  if (csv) out << "id,name,email,amount,created,note\n";
  uint64_t written = 0, n = 0;
  std::string line;
  while (written < bytes) {
    line.clear();
    if (csv) {
      line = StrCat(n, ",User ", n, ",user", n, "@example.com,", n % 1000, ".25,",
                    "2024-05-01 12:00:00,\"free text, with a comma and some more words here\"\n");
    } else {
      line = StrCat("{\"id\":", n, ",\"name\":\"User ", n, "\",\"email\":\"user", n,
                    "@example.com\",\"amount\":", n % 1000,
                    ".25,\"created\":\"2024-05-01T12:00:00Z\","
                    "\"tags\":[\"a\",\"b\"],\"note\":\"free text with some more words here\"}\n");
    }
    out << line;
    written += line.size();
    ++n;
  }
  return n;
}

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

double CurlDownload(const std::string& url) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  const auto start = Clock::now();
  if (curl_easy_perform(curl) != CURLE_OK) Fail("curl download failed");
  const double s = Seconds(start);
  curl_easy_cleanup(curl);
  return s;
}

double CurlCli(const std::string& url) {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) return -1;
  const auto start = Clock::now();
  if (std::system(StrCat("curl -s -o /dev/null '", url, "'").c_str()) != 0) return -1;
  return Seconds(start);
}

double SimdjsonParse(const std::string& path, uint64_t expect) {
  // The file is read into memory first (not timed): parse only.
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  simdjson::padded_string padded(data);
  data = std::string();
  simdjson::dom::parser parser;
  const auto start = Clock::now();
  simdjson::dom::document_stream stream;
  if (parser.parse_many(padded, 1 << 20).get(stream)) Fail("parse_many");
  uint64_t docs = 0;
  for (auto doc : stream) {
    if (doc.error()) Fail("simdjson parse error");
    ++docs;
  }
  const double s = Seconds(start);
  if (docs != expect) Fail("simdjson counted a different number of documents");
  return s;
}

class CountingSession final : public runtime::CaptureSession, public runtime::CaptureOutput {
 public:
  CountingSession() : log_(STDERR_FILENO, LogLevel::kWarn) {}
  runtime::CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override { return false; }
  bool WaitForStop(absl::Duration) override { return false; }
  uint64_t acknowledged() const override { return 0; }
  bool WaitForAcknowledged(uint64_t, absl::Duration) override { return true; }
  absl::Status Document(uint32_t, std::string_view doc) override {
    ++docs;
    bytes += doc.size();
    return absl::OkStatus();
  }
  absl::Status SourcedSchema(uint32_t, std::string_view) override { return absl::OkStatus(); }
  absl::Status Checkpoint(std::string_view, bool) override { return absl::OkStatus(); }
  uint64_t docs = 0, bytes = 0;

 private:
  Logger log_;
};

double Capture(const std::string& url, uint64_t expect, uint64_t* doc_bytes) {
  http_file::HttpFileDriver driver;
  ::capture::Request::Open open;
  open.mutable_capture()->set_config_json(StrCat("{\"url\":\"", url, "\"}"));
  auto* binding = open.mutable_capture()->add_bindings();
  binding->set_resource_config_json(R"({"stream":"bench"})");
  binding->set_state_key("bench");
  open.mutable_range()->set_key_end(0xFFFFFFFF);
  Logger log(STDERR_FILENO, LogLevel::kWarn);
  auto capture = driver.Open(open, log);
  if (!capture.ok()) Fail(MessageOf(capture.status()));
  CountingSession session;
  const auto start = Clock::now();
  if (auto s = (*capture)->Run(session); !s.ok()) Fail(MessageOf(s));
  const double s = Seconds(start);
  if (session.docs != expect) Fail("the capture emitted a different number of documents");
  *doc_bytes = session.bytes;
  return s;
}

void Row(const char* what, double seconds, uint64_t bytes, uint64_t docs) {
  if (seconds < 0) {
    std::printf("  %-44s %10s\n", what, "n/a");
    return;
  }
  std::printf("  %-44s %8.0f MB/s %12.0f docs/s %7.2f s\n", what, bytes / seconds / 1e6,
              docs > 0 ? docs / seconds : 0.0, seconds);
}

}  // namespace
}  // namespace connectors::bench

int main(int argc, char** argv) {
  using namespace connectors;
  using namespace connectors::bench;
  uint64_t megabytes = 1024;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.rfind("--megabytes=", 0) == 0) megabytes = std::strtoull(argv[i] + 12, nullptr, 10);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto dir = harness::TempDir::Create("http-file-bench-");
  if (!dir.ok()) Fail(MessageOf(dir.status()));
  harness::HttpFileServerOptions options;
  options.root = dir->path();
  auto server = harness::HttpFileServer::Start(options);
  if (!server.ok()) Fail(MessageOf(server.status()));
  for (bool csv : {false, true}) {
    const std::string name = csv ? "bench.csv" : "bench.jsonl";
    const std::string path = dir->Path(name);
    const uint64_t records = WriteFixture(path, megabytes << 20, csv);
    const uint64_t size = std::ifstream(path, std::ios::ate | std::ios::binary).tellg();
    const std::string url = server->url(name);
    std::printf("%s: %.0f MB, %llu records, over loopback\n", name.c_str(), size / 1e6,
                static_cast<unsigned long long>(records));
    uint64_t doc_bytes = 0;
    const double capture = Capture(url, records, &doc_bytes);
    Row("source-http-file capture (download+parse+docs)", capture, size, records);
    Row("libcurl GET, body discarded (limit)", CurlDownload(url), size, 0);
    Row("curl -s -o /dev/null (limit)", CurlCli(url), size, 0);
    if (!csv)
      Row("simdjson parse_many, in memory (limit)", SimdjsonParse(path, records), size, records);
    std::printf("  documents written: %.0f MB\n\n", doc_bytes / 1e6);
    std::remove(path.c_str());
  }
  return 0;
}
