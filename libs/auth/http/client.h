// A small HTTP client over libcurl for REST APIs and OAuth token endpoints: one request, one
// buffered response. A Client owns one curl easy handle, so consecutive requests reuse the
// connection (keep-alive); it is not thread-safe: use one Client per thread.
//
// Send() makes exactly one attempt. SendWithRetry() retries transport failures (refused,
// reset, dropped, timed out) and retryable statuses (408, 429, 500, 502, 503, 504) with
// exponential backoff and full jitter, waiting at least as long as a Retry-After header asks
// (capped by the policy). Non-2xx responses are returned, not turned into errors: the caller
// knows what the API's error bodies mean.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE, HEAD.
  std::string url;
  std::vector<Header> headers;
  std::string_view body;  // Not copied: must outlive the call.
  absl::Duration timeout = absl::Seconds(120);
  absl::Duration connect_timeout = absl::Seconds(10);
};

struct Response {
  int status = 0;
  std::vector<Header> headers;  // Names in lower case, in the order received.
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
  // The first header named `name` (case-insensitive).
  std::optional<std::string_view> Find(std::string_view name) const;
};

struct RetryPolicy {
  int max_attempts = 8;  // Including the first.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // A Retry-After longer than this is cut to it.
  absl::Duration max_retry_after = absl::Seconds(120);
  // Told about each retry before its wait: the attempt that failed (1-based), why, and the wait.
  std::function<void(int attempt, std::string_view why, absl::Duration wait)> on_retry;
  // When set and true, no further attempt is made (waits end early too): the last result is
  // returned. For callers that give up on work in flight, e.g. after another request failed.
  const std::atomic<bool>* cancelled = nullptr;
};

// 408, 429, 500, 502, 503, 504.
bool IsRetryableStatus(int status);

// The wait a Retry-After value asks for: delta-seconds or an HTTP date (relative to `now`).
std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now);

// application/x-www-form-urlencoded body of the given pairs.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

class Client {
 public:
  Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // One attempt. Transport failures are Unavailable (DeadlineExceeded on timeout), naming the
  // method and URL but never headers or body (they may carry secrets).
  absl::StatusOr<Response> Send(const Request& request);
  // Attempts until a response that is not retryable, or the policy's attempts are used up
  // (then the last response, or the last transport error).
  absl::StatusOr<Response> SendWithRetry(const Request& request, const RetryPolicy& policy);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

}  // namespace connectors::http
