// A file's body over HTTP(S) as a ByteSource (libcurl): headers first, then the body pulled
// chunk by chunk with the transfer paused while the consumer is busy, so memory is bounded by
// one buffer whatever the file's size.
//
// Open() retries transport failures and 408/429/5xx answers with exponential backoff, waiting
// at least what a Retry-After header asks; other non-2xx answers are errors naming the status,
// the URL (without credentials) and the start of the body. Conditional requests
// (If-None-Match / If-Modified-Since) may be answered 304. When the connection drops
// mid-body, Next() resumes with a Range request guarded by If-Range, so the consumer sees one
// uninterrupted stream; if the server sends a different version instead, Next() fails with
// Aborted ("changed while it was read") and the caller restarts the file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/connector/logging.h"
#include "libs/filesource/byte_source.h"

namespace connectors::http_file {

struct HttpAuth {
  enum class Kind { kNone, kBasic, kBearer };
  Kind kind = Kind::kNone;
  std::string user, password, token;
};

struct HttpFileRequest {
  std::string url;
  HttpAuth auth;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string if_none_match;      // An ETag.
  std::string if_modified_since;  // An HTTP-date.
};

struct HttpRetryOptions {
  int max_attempts = 6;  // Per request, including the first.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration max_retry_after = absl::Minutes(5);
  int max_resumes = 10;  // Range requests after dropped connections, per file.
  // A body that delivers nothing for this long is treated as a dropped connection.
  absl::Duration stall_timeout = absl::Seconds(60);
  absl::Duration connect_timeout = absl::Seconds(30);
};

// The URL with any user:password@ removed, for logs, errors and `_meta/file`.
std::string RedactUrl(std::string_view url);

class HttpFileStream final : public filesource::ByteSource {
 public:
  ~HttpFileStream() override;

  // Sends the request and waits for the final response's headers (redirects are followed).
  // `stopping` is polled while waiting; when it turns true the call ends with Cancelled.
  static absl::StatusOr<std::unique_ptr<HttpFileStream>> Open(HttpFileRequest request,
                                                              HttpRetryOptions retry,
                                                              const Logger& log,
                                                              std::function<bool()> stopping);

  int status() const;  // 200, 206 or 304.
  const std::string& etag() const;
  const std::string& last_modified() const;
  const std::string& content_type() const;
  const std::string& content_encoding() const;
  int64_t content_length() const;  // -1 when unknown.
  uint64_t bytes_received() const;

  absl::StatusOr<std::string_view> Next() override;

 private:
  struct Transfer;
  explicit HttpFileStream(std::unique_ptr<Transfer> transfer);
  std::unique_ptr<Transfer> t_;
};

}  // namespace connectors::http_file
