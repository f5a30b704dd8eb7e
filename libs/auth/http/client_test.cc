// The client against a real HTTP server in this process (cpp-httplib on a kernel-chosen
// loopback port): bodies and headers both ways, retries on 503 and 429 with Retry-After,
// dropped connections, timeouts.
#include "libs/auth/http/client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"

namespace connectors::http {
namespace {

class Server {
 public:
  Server() {
    server_.set_payload_max_length(64 << 20);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Server() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& operator*() { return server_; }
  std::string Url(std::string_view path) const { return StrCat("http://127.0.0.1:", port_, path); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

RetryPolicy Fast(int attempts) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.initial_backoff = absl::Milliseconds(1);
  policy.max_backoff = absl::Milliseconds(5);
  return policy;
}

TEST(HttpClient, SendsBodyAndHeadersAndReadsTheResponse) {
  Server server;
  (*server).Put("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Seen", req.get_header_value("X-Custom"));
    res.status = 201;
    res.set_content(StrCat(req.method, ":", req.body), "text/plain");
  });
  Client client;
  Request request;
  request.method = "PUT";
  request.url = server.Url("/echo");
  request.headers = {{"X-Custom", "value 1"}, {"Content-Type", "text/plain"}};
  const std::string body(3 << 20, 'x');  // Larger than any socket buffer.
  request.body = body;
  auto response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_TRUE(response->body == "PUT:" + body) << response->body.size();
  EXPECT_EQ(response->Find("x-seen").value_or(""), std::string_view("value 1"));
  EXPECT_EQ(response->Find("X-SEEN").value_or(""), std::string_view("value 1"));
  // The handle is reused for the next request.
  request.method = "GET";
  auto missing = client.Send(Request{.url = server.Url("/nothing")});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpClient, RetriesRetryableStatusesThenSucceeds) {
  Server server;
  std::atomic<int> calls = 0;
  (*server).Post("/flaky", [&](const httplib::Request& req, httplib::Response& res) {
    const int n = ++calls;
    res.status = n == 1 ? 503 : n == 2 ? 500 : 200;
    res.set_content(req.body, "text/plain");
  });
  Client client;
  int retries = 0;
  RetryPolicy policy = Fast(5);
  policy.on_retry = [&](int, std::string_view why, absl::Duration) {
    ++retries;
    EXPECT_TRUE(why == "HTTP 503" || why == "HTTP 500") << why;
  };
  auto response = client.SendWithRetry(
      Request{.method = "POST", .url = server.Url("/flaky"), .body = "payload"}, policy);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "payload");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(retries, 2);
}

TEST(HttpClient, HonoursRetryAfterOn429) {
  Server server;
  std::atomic<int> calls = 0;
  (*server).Get("/quota", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
    }
  });
  Client client;
  const absl::Time start = absl::Now();
  auto response = client.SendWithRetry(Request{.url = server.Url("/quota")}, Fast(3));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(950)) << "Retry-After: 1 was not honoured";
}

TEST(HttpClient, GivesUpAfterMaxAttemptsWithTheLastResponse) {
  Server server;
  std::atomic<int> calls = 0;
  (*server).Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
  });
  Client client;
  auto response = client.SendWithRetry(Request{.url = server.Url("/down")}, Fast(3));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(calls, 3);
  // 4xx other than 408/429 are answers, not retried.
  (*server).Get("/bad", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 400;
  });
  calls = 0;
  response = client.SendWithRetry(Request{.url = server.Url("/bad")}, Fast(3));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(calls, 1);
}

TEST(HttpClient, CancellationStopsRetrying) {
  Server server;
  std::atomic<int> calls = 0;
  (*server).Get("/down", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 503;
  });
  Client client;
  std::atomic<bool> cancelled = false;
  RetryPolicy policy;
  policy.max_attempts = 100;
  policy.initial_backoff = absl::Seconds(2);
  policy.cancelled = &cancelled;
  policy.on_retry = [&](int, std::string_view, absl::Duration) { cancelled = true; };
  const absl::Time start = absl::Now();
  auto response = client.SendWithRetry(Request{.url = server.Url("/down")}, policy);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(calls, 1);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
}

TEST(HttpClient, DroppedConnectionsAreRetriedAndReportedAsUnavailable) {
  Server server;
  std::atomic<int> calls = 0;
  (*server).Get("/drop", [&](const httplib::Request&, httplib::Response& res) {
    const bool drop = ++calls <= 2;
    // A provider that fails makes the server close the connection mid-response.
    res.set_content_provider(100, "text/plain", [drop](size_t, size_t, httplib::DataSink& sink) {
      if (drop) return false;
      sink.write(std::string(100, 'y').data(), 100);
      return true;
    });
  });
  Client client;
  auto once = client.Send(Request{.url = server.Url("/drop")});
  EXPECT_EQ(once.status().code(), absl::StatusCode::kUnavailable) << once.status();
  auto response = client.SendWithRetry(Request{.url = server.Url("/drop")}, Fast(3));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, std::string(100, 'y'));
}

TEST(HttpClient, TimesOutAndRefusedConnectionsFail) {
  Server server;
  (*server).Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    absl::SleepFor(absl::Milliseconds(1500));
  });
  Client client;
  auto slow = client.Send(Request{.url = server.Url("/slow"), .timeout = absl::Milliseconds(200)});
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded) << slow.status();
  EXPECT_NE(slow.status().message().find("/slow"), absl::string_view::npos);
  auto refused = client.SendWithRetry(Request{.url = "http://127.0.0.1:1/x"}, Fast(2));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
}

TEST(HttpClient, RetryAfterAndFormEncoding) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  EXPECT_EQ(ParseRetryAfter("7", now), absl::Seconds(7));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now), absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", now), std::nullopt);
  EXPECT_EQ(FormEncode({{"grant_type", "refresh_token"}, {"a b", "x+y/z=&"}}),
            "grant_type=refresh_token&a%20b=x%2By%2Fz%3D%26");
}

}  // namespace
}  // namespace connectors::http
