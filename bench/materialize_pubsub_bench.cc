// materialize-google-pubsub: publishing N documents of 500 bytes (default 1M) through the
// connector's transactor, against a plain batched publisher of the same messages, on the
// Pub/Sub emulator (tests/harness) in the same run: a fresh emulator per measurement, since it
// keeps every message in memory and slows down as its heap fills.
//
//   plain batched publisher (limit): the requests ({"messages":[...]} of 1,000 base64
//     messages) built before timing, then POSTed by 4 threads on their own connections, the
//     same concurrency as the connector's lanes.
//   connector Store + StartCommit: the connector's transactor fed Store requests (packed key,
//     document) in transactions of 100,000 documents: op attribute from /_meta/op, identifier
//     attribute, batching within Pub/Sub's limits, base64, 4 lanes, waiting for every ack.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "libs/auth/http/client.h"
#include "libs/auth/jwt.h"
#include "libs/base/strings.h"
#include "libs/tuple/tuple.h"
#include "materialize-google-pubsub/driver.h"
#include "materialize-google-pubsub/pubsub_client.h"
#include "tests/harness/pubsub_emulator.h"

namespace connectors {
namespace {

constexpr size_t kDocBytes = 500;
constexpr size_t kTransaction = 100'000;
constexpr int kThreads = 4;
constexpr char kProject[] = "bench-project";

std::string Document(int64_t id) {
  std::string doc = StrCat(R"({"_meta":{"op":"c"},"id":)", id, R"(,"name":"customer )", id,
                           R"(","email":"c)", id, R"(@example.com","note":")");
  const size_t tail = 2;  // "}
  doc.append(kDocBytes - doc.size() - tail, static_cast<char>('a' + id % 26));
  doc += "\"}";
  return doc;
}

[[noreturn]] void Fail(std::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "materialize_pubsub_bench: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(status.message().size()), status.message().data());
  std::exit(1);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Plain publisher: every request body prepared first; 4 threads POST them.
double PlainPublish(const harness::PubsubEmulator& emulator, size_t docs,
                    const std::string& topic) {
  pubsub::PubsubClient setup(pubsub::Endpoint{emulator.url(), kProject, nullptr});
  if (auto created = setup.CreateTopic(topic); !created.ok()) {
    Fail("create topic", created.status());
  }
  std::vector<std::string> bodies;
  for (size_t start = 0; start < docs; start += 1000) {
    std::string body = R"({"messages":[)";
    for (size_t i = start; i < std::min(docs, start + 1000); ++i) {
      body += i == start ? R"({"data":")" : R"(,{"data":")";
      auth::AppendBase64(Document(static_cast<int64_t>(i)), &body);
      body += R"(","attributes":{"identifier":"bench","op":"c"}})";
    }
    body += "]}";
    bodies.push_back(std::move(body));
  }
  const std::string url =
      StrCat(emulator.url(), "/v1/projects/", kProject, "/topics/", topic, ":publish");
  std::atomic<size_t> next = 0;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      http::Client client;
      for (size_t i; (i = next++) < bodies.size();) {
        http::Request request{.method = "POST", .url = url, .body = bodies[i]};
        request.headers = {{"Content-Type", "application/json"}};
        auto response = client.SendWithRetry(request, http::RetryPolicy{});
        if (!response.ok()) Fail("plain publish", response.status());
        if (!response->ok()) Fail("plain publish", pubsub::ErrorOf(*response, "publish", url));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return Seconds(start);
}

class Stores final : public runtime::StoreIterator {
 public:
  Stores(size_t begin, size_t end) : next_(begin), end_(end) {}
  absl::StatusOr<const materialize::Request::Store*> Next() override {
    if (next_ >= end_) return nullptr;
    const auto id = static_cast<int64_t>(next_++);
    store_.set_binding(0);
    store_.set_key_json(StrCat("[", id, "]"));
    std::string packed;
    tuple::AppendInt(id, &packed);
    store_.set_key_packed(packed);
    store_.set_doc_json(Document(id));
    return &store_;
  }

 private:
  size_t next_, end_;
  materialize::Request::Store store_;
};

double ConnectorPublish(const harness::PubsubEmulator& emulator, size_t docs,
                        const std::string& topic) {
  const std::string config =
      StrCat(R"({"project_id":")", kProject, R"(","advanced":{"emulator_host":")",
             emulator.host_port(), R"("}})");
  flow::MaterializationSpec spec;
  spec.set_name("bench/to-pubsub");
  spec.set_config_json(config);
  auto* binding = spec.add_bindings();
  binding->set_resource_config_json(StrCat(R"({"topic":")", topic, R"(","identifier":"bench",)",
                                           R"("create_default_subscription":false})"));
  binding->mutable_collection()->set_name("bench/docs");
  binding->set_delta_updates(true);
  const Logger log(2, LogLevel::kWarn);
  pubsub::PubsubDriver driver;
  materialize::Request::Apply apply;
  *apply.mutable_materialization() = spec;
  if (auto applied = driver.Apply(apply, log); !applied.ok()) Fail("apply", applied.status());
  materialize::Request::Open open;
  *open.mutable_materialization() = spec;
  auto opened = driver.Open(open, log);
  if (!opened.ok()) Fail("open", opened.status());
  const auto start = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < docs; begin += kTransaction) {
    Stores stores(begin, std::min(docs, begin + kTransaction));
    if (auto s = opened->transactor->Store(stores); !s.ok()) Fail("store", s);
    auto committed = opened->transactor->StartCommit(consumer::Checkpoint());
    if (!committed.ok()) Fail("commit", committed.status());
  }
  return Seconds(start);
}

int Main(int argc, char** argv) {
  size_t docs = 1'000'000;
  int repeats = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--docs=", 7) == 0) docs = std::strtoull(argv[i] + 7, nullptr, 10);
    if (std::strncmp(argv[i], "--repeats=", 10) == 0) repeats = std::atoi(argv[i] + 10);
    // Other arguments (run.sh passes the same ones to every benchmark) are ignored.
  }
  if (!harness::PubsubEmulator::Installed()) {
    std::printf("materialize_pubsub_bench: SKIPPED, %s\n",
                harness::PubsubEmulator::Missing().c_str());
    return 0;
  }
  std::printf(
      "materialize_pubsub_bench: %zu documents of %zu bytes to the Pub/Sub emulator, 4 "
      "concurrent requests, best of %d runs, e.g.\n"
      "  %s\n",
      docs, kDocBytes, repeats, Document(7).c_str());
  std::fflush(stdout);
  // The emulator keeps every message in memory (even of deleted topics) and slows down as its
  // heap fills, so each measurement gets a fresh emulator, warmed up (JIT) by 50,000 messages.
  // The paths run in turn and each keeps its fastest run (interference only slows a run).
  auto measure = [&](auto publish, const std::string& name) {
    auto emulator = harness::PubsubEmulator::Start();
    if (!emulator.ok()) Fail("start the emulator", emulator.status());
    PlainPublish(*emulator, 50'000, "warm-up");
    return publish(*emulator, docs, name);
  };
  double plain = 1e300, connector = 1e300;
  for (int run = 0; run < repeats; ++run) {
    plain = std::min(plain, measure(PlainPublish, "plain"));
    connector = std::min(connector, measure(ConnectorPublish, "connector"));
  }
  const double mb = static_cast<double>(docs * kDocBytes) / 1e6;
  std::printf("%-40s %12s %10s %10s\n", "path", "messages/s", "MB/s", "seconds");
  std::printf("%-40s %12.0f %10.1f %10.2f\n", "plain batched publisher (limit)", docs / plain,
              mb / plain, plain);
  std::printf("%-40s %12.0f %10.1f %10.2f\n", "connector Store + StartCommit", docs / connector,
              mb / connector, connector);
  std::printf("connector / plain time: %.2f\n", connector / plain);
  return 0;
}

}  // namespace
}  // namespace connectors

int main(int argc, char** argv) { return connectors::Main(argc, argv); }
