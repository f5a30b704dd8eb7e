#include "tests/materialize-google-pubsub/fault_proxy.h"

#include <httplib.h>

#include <optional>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::testing {
namespace {

void GoogleError(httplib::Response& res, int code, std::string_view status,
                 std::string_view message) {
  res.status = code;
  res.set_content(StrCat(R"({"error":{"code":)", code, R"(,"message":")", message,
                         R"(","status":")", status, R"("}})"),
                  "application/json");
}

// Sends the status line and headers, then closes the connection before the body.
void Drop(httplib::Response& res) {
  res.status = 200;
  res.set_content_provider(1000, "application/json",
                           [](size_t, size_t, httplib::DataSink&) { return false; });
}

int CountMessages(const std::string& body) {
  json::Parser parser;
  auto doc = parser.Parse(body);
  simdjson::dom::array messages;
  if (!doc.ok() || (*doc)["messages"].get(messages) != simdjson::SUCCESS) return 0;
  return static_cast<int>(messages.size());
}

}  // namespace

struct FaultProxy::Impl {
  httplib::Server server;
  int port = 0;
  int upstream_port = 0;
  std::thread thread;
  std::mutex mu;
  std::deque<Fault> faults;
  std::set<std::string> denied_topics;
  std::function<bool(const std::string&)> valid_bearer;
};

FaultProxy::FaultProxy() : impl_(std::make_unique<Impl>()) {}

FaultProxy::~FaultProxy() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string FaultProxy::url() const { return StrCat("http://", host_port()); }
std::string FaultProxy::host_port() const { return StrCat("127.0.0.1:", impl_->port); }

void FaultProxy::Inject(Fault fault, int count) {
  std::lock_guard lock(impl_->mu);
  for (int i = 0; i < count; ++i) impl_->faults.push_back(fault);
}

void FaultProxy::DenyTopic(std::string topic) {
  std::lock_guard lock(impl_->mu);
  impl_->denied_topics.insert(std::move(topic));
}

void FaultProxy::RequireBearer(std::function<bool(const std::string&)> valid) {
  std::lock_guard lock(impl_->mu);
  impl_->valid_bearer = std::move(valid);
}

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  FaultProxy* self = proxy.get();
  self->impl_->upstream_port = upstream_port;
  self->impl_->server.set_payload_max_length(64 << 20);

  auto handle = [self](const httplib::Request& req, httplib::Response& res) {
    Impl& impl = *self->impl_;
    const bool publish = req.path.ends_with(":publish");
    std::optional<Fault> fault;
    bool denied = false;
    std::function<bool(const std::string&)> valid;
    {
      std::lock_guard lock(impl.mu);
      for (const auto& topic : impl.denied_topics) {
        if (req.path.find("/topics/" + topic) != std::string::npos) denied = true;
      }
      valid = impl.valid_bearer;
      if (publish && !impl.faults.empty()) {
        fault = impl.faults.front();
        impl.faults.pop_front();
      }
    }
    if (valid) {
      const std::string header = req.get_header_value("Authorization");
      if (header.rfind("Bearer ", 0) != 0 || !valid(header.substr(7))) {
        ++self->unauthenticated_;
        return GoogleError(res, 401, "UNAUTHENTICATED",
                           "Request had invalid authentication credentials.");
      }
    }
    if (denied) {
      return GoogleError(res, 403, "PERMISSION_DENIED",
                         "User not authorized to perform this action.");
    }
    if (publish) {
      ++self->publish_requests_;
      const int count = CountMessages(req.body);
      int seen = self->max_messages_.load();
      while (count > seen && !self->max_messages_.compare_exchange_weak(seen, count)) {
      }
      if (self->quota_exhausted_) fault = Fault::kTooManyRequests;
    }
    if (fault.has_value()) ++self->faults_injected_;
    if (fault == Fault::kTooManyRequests) {
      res.set_header("Retry-After", StrCat(self->retry_after_seconds_.load()));
      return GoogleError(res, 429, "RESOURCE_EXHAUSTED", "Quota exceeded (injected).");
    }
    if (fault == Fault::kUnavailable) {
      return GoogleError(res, 503, "UNAVAILABLE", "The service is unavailable (injected).");
    }
    if (fault == Fault::kDropBefore) return Drop(res);
    if (fault == Fault::kSlow) absl::SleepFor(self->slow_delay_);

    httplib::Client upstream("127.0.0.1", impl.upstream_port);
    upstream.set_read_timeout(120, 0);
    upstream.set_write_timeout(120, 0);
    httplib::Headers headers;
    const std::string content_type = req.get_header_value("Content-Type");
    httplib::Result result(nullptr, httplib::Error::Unknown);
    if (req.method == "GET") {
      result = upstream.Get(req.path.c_str());
    } else if (req.method == "PUT") {
      result = upstream.Put(req.path.c_str(), req.body, content_type.c_str());
    } else if (req.method == "POST") {
      result = upstream.Post(req.path.c_str(), req.body, content_type.c_str());
    } else if (req.method == "DELETE") {
      result = upstream.Delete(req.path.c_str());
    }
    if (!result) {
      return GoogleError(res, 502, "UNAVAILABLE", "The emulator did not answer the proxy.");
    }
    if (fault == Fault::kDropAfter) return Drop(res);
    res.status = result->status;
    res.set_content(result->body, result->get_header_value("Content-Type").c_str());
  };
  const std::string any = ".*";
  self->impl_->server.Get(any.c_str(), handle);
  self->impl_->server.Put(any.c_str(), handle);
  self->impl_->server.Post(any.c_str(), handle);
  self->impl_->server.Delete(any.c_str(), handle);
  // Stopping waits for idle keep-alive connections; keep that short.
  self->impl_->server.set_keep_alive_timeout(1);
  self->impl_->port = self->impl_->server.bind_to_any_port("127.0.0.1");
  if (self->impl_->port <= 0) return absl::UnavailableError("fault proxy: bind failed");
  self->impl_->thread = std::thread([self] { self->impl_->server.listen_after_bind(); });
  return proxy;
}

}  // namespace connectors::testing
