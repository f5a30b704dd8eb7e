#include "source-http-file/http_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <random>

#include "absl/time/clock.h"
#include "libs/auth/http/client.h"
#include "libs/base/strings.h"

namespace connectors::http_file {
namespace {

// The body is handed out in chunks of at most this many bytes; the transfer pauses while a
// chunk is with the consumer.
constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kErrorBodyBytes = 500;
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

struct CurlList {
  curl_slist* list = nullptr;
  ~CurlList() { curl_slist_free_all(list); }
  void Add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t host = scheme + 3;
  const size_t end = url.find_first_of("/?#", host);
  const std::string_view authority =
      url.substr(host, end == std::string_view::npos ? std::string_view::npos : end - host);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return StrCat(url.substr(0, host), url.substr(host + at + 1));
}

struct HttpFileStream::Transfer {
  HttpFileRequest request;
  HttpRetryOptions retry;
  const Logger* log;
  std::function<bool()> stopping;
  std::string redacted;
  std::string effective_url;  // After redirects; resumes go there.

  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  CurlList headers;
  char error[CURL_ERROR_SIZE] = {0};

  // Response of the current transfer.
  int status = 0;
  bool headers_done = false;
  std::vector<std::pair<std::string, std::string>> response_headers;
  bool done = false;
  CURLcode result = CURLE_OK;
  std::string body;     // Bytes not yet handed out (or the chunk being handed out).
  bool handed = false;  // `body` was returned by Next() and may be dropped.
  bool paused = false;
  bool collect_error_body = false;

  // The file as a whole.
  std::string etag, last_modified, content_type, content_encoding;
  int64_t content_length = -1;  // Of the whole file.
  uint64_t received = 0;        // Body bytes handed to the consumer.
  int resumes = 0;
  int final_status = 0;
  std::mt19937_64 rng{std::random_device{}()};

  ~Transfer() { Stop(); }

  void Stop() {
    if (easy != nullptr) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      easy = nullptr;
    }
    if (multi != nullptr) {
      curl_multi_cleanup(multi);
      multi = nullptr;
    }
  }

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : response_headers) {
      if (key == name) return value;
    }
    return "";
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response (after a redirect or a 100 Continue): start over.
      t->response_headers.clear();
      const size_t space = line.find(' ');
      t->status = space == std::string_view::npos
                      ? 0
                      : std::atoi(std::string(line.substr(space + 1, 3)).c_str());
      t->headers_done = false;
    } else if (Trim(line).empty()) {
      const bool redirect =
          t->status >= 300 && t->status < 400 && t->status != 304 && !t->Header("location").empty();
      if (t->status >= 200 && !redirect) t->headers_done = true;
    } else {
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        t->response_headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                         std::string(Trim(line.substr(colon + 1))));
      }
    }
    return size * count;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const size_t n = size * count;
    if (t->collect_error_body) {
      if (t->body.size() < kErrorBodyBytes) t->body.append(data, std::min(n, kErrorBodyBytes));
      return n;
    }
    if (!t->body.empty() && t->body.size() + n > kBufferBytes) {
      t->paused = true;
      return CURL_WRITEFUNC_PAUSE;  // Redelivered after the consumer takes the buffer.
    }
    t->body.append(data, n);
    return n;
  }

  // Starts a GET; `from` > 0 asks for the rest of the file from that byte.
  absl::Status Start(uint64_t from) {
    Stop();
    multi = curl_multi_init();
    easy = curl_easy_init();
    if (multi == nullptr || easy == nullptr) return absl::InternalError("curl: out of memory");
    status = 0;
    headers_done = done = paused = handed = collect_error_body = false;
    result = CURLE_OK;
    response_headers.clear();
    body.clear();
    error[0] = '\0';
    headers = CurlList();
    for (const auto& [key, value] : request.headers) headers.Add(StrCat(key, ": ", value));
    if (from > 0) {
      headers.Add(StrCat("Range: bytes=", from, "-"));
      headers.Add(StrCat("If-Range: ", !etag.empty() ? etag : last_modified));
    } else {
      if (!request.if_none_match.empty())
        headers.Add(StrCat("If-None-Match: ", request.if_none_match));
      if (!request.if_modified_since.empty()) {
        headers.Add(StrCat("If-Modified-Since: ", request.if_modified_since));
      }
    }
    const std::string& url = from > 0 && !effective_url.empty() ? effective_url : request.url;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.list);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     long(absl::ToInt64Milliseconds(retry.connect_timeout)));
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, long(absl::ToInt64Seconds(retry.stall_timeout))));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "estuary-source-http-file");
    switch (request.auth.kind) {
      case HttpAuth::Kind::kBasic:
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(easy, CURLOPT_USERNAME, request.auth.user.c_str());
        curl_easy_setopt(easy, CURLOPT_PASSWORD, request.auth.password.c_str());
        break;
      case HttpAuth::Kind::kBearer:
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, request.auth.token.c_str());
        break;
      case HttpAuth::Kind::kNone:
        break;
    }
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
      return absl::InternalError("curl: cannot start the transfer");
    }
    return absl::OkStatus();
  }

  // Runs the transfer until `ready()` or the transfer ends.
  template <class Ready>
  absl::Status Pump(Ready ready) {
    while (true) {
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) {
          done = true;
          result = msg->data.result;
        }
      }
      if (ready() || done) return absl::OkStatus();
      if (stopping && stopping()) {
        return absl::CancelledError(StrCat("stopped while reading ", redacted));
      }
      curl_multi_poll(multi, nullptr, 0, int(absl::ToInt64Milliseconds(kPollInterval)), nullptr);
    }
  }

  std::string TransportError() const {
    return StrCat(curl_easy_strerror(result), error[0] != '\0' ? StrCat(" (", error, ")") : "");
  }

  absl::Duration Backoff(int attempt, absl::Duration floor) {
    absl::Duration cap = retry.initial_backoff * (int64_t(1) << std::min(attempt - 1, 20));
    cap = std::min(cap, retry.max_backoff);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return std::max(cap * jitter(rng), std::min(floor, retry.max_retry_after));
  }

  bool Wait(absl::Duration wait) {
    const absl::Time until = absl::Now() + wait;
    while (absl::Now() < until) {
      if (stopping && stopping()) return false;
      absl::SleepFor(std::min(until - absl::Now(), kPollInterval));
    }
    return true;
  }

  // Sends the request until a final, non-retryable answer.
  absl::Status Request() {
    for (int attempt = 1;; ++attempt) {
      if (auto s = Start(0); !s.ok()) return s;
      if (auto s = Pump([&] { return headers_done; }); !s.ok()) return s;
      std::string why;
      absl::Duration floor;
      if (!headers_done) {
        why = StrCat("transport error: ", TransportError());
      } else if (status >= 200 && status < 300) {
        return Accept();
      } else if (status == 304) {
        final_status = 304;
        return absl::OkStatus();
      } else if (http::IsRetryableStatus(status)) {
        why = StrCat("HTTP ", status);
        const std::string after = Header("retry-after");
        if (auto wait = http::ParseRetryAfter(after, absl::Now())) floor = *wait;
      } else {
        return StatusError();
      }
      if (attempt >= retry.max_attempts) {
        return absl::UnavailableError(
            StrCat("GET ", redacted, " failed after ", attempt, " attempts; last: ", why));
      }
      const absl::Duration wait = Backoff(attempt, floor);
      log->Warn("retrying HTTP request",
                {LogField::Str("url", redacted), LogField::Str("reason", why),
                 LogField::Int("attempt", attempt),
                 LogField::Double("waitSeconds", absl::ToDoubleSeconds(wait))});
      if (!Wait(wait)) return absl::CancelledError(StrCat("stopped while retrying ", redacted));
    }
  }

  absl::Status Accept() {
    final_status = status;
    // Resumes go where the redirects led, and ask for the version this response carries.
    char* effective = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK &&
        effective != nullptr) {
      effective_url = effective;
    }
    etag = Header("etag");
    last_modified = Header("last-modified");
    content_type = Header("content-type");
    content_encoding = Header("content-encoding");
    const std::string length = Header("content-length");
    content_length = length.empty() || status != 200 ? -1 : std::atoll(length.c_str());
    return absl::OkStatus();
  }

  absl::Status StatusError() {
    const int code = status;
    collect_error_body = true;
    if (paused) {
      paused = false;
      curl_easy_pause(easy, CURLPAUSE_CONT);
    }
    if (!done) Pump([] { return false; }).IgnoreError();
    std::string snippet = body.substr(0, kErrorBodyBytes);
    for (char& c : snippet) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    std::string message = StrCat("GET ", redacted, ": HTTP ", code);
    if (!Trim(snippet).empty()) StrAppend(&message, ": ", Trim(snippet));
    switch (code) {
      case 401:
      case 403:
        return absl::PermissionDeniedError(
            StrCat(message, "; check the credentials and headers in the endpoint config"));
      case 404:
      case 410:
        return absl::NotFoundError(StrCat(message, "; check the endpoint config's url"));
      default:
        return absl::FailedPreconditionError(message);
    }
  }

  // After a dropped connection: ask for the rest of the same version of the file.
  absl::Status Resume() {
    const std::string why = TransportError();
    if (etag.empty() && last_modified.empty()) {
      return absl::UnavailableError(
          StrCat("GET ", redacted, ": the connection failed after ", received, " bytes (", why,
                 ") and the server gives no ETag or Last-Modified to resume "
                 "from"));
    }
    for (int attempt = 1;; ++attempt) {
      if (++resumes > retry.max_resumes) {
        return absl::UnavailableError(StrCat("GET ", redacted, ": the connection failed after ",
                                             received, " bytes (", why, "), ", retry.max_resumes,
                                             " resumes used up"));
      }
      log->Warn("resuming an interrupted download",
                {LogField::Str("url", redacted), LogField::Uint("fromByte", received),
                 LogField::Str("reason", why)});
      if (!Wait(Backoff(attempt, absl::ZeroDuration()))) {
        return absl::CancelledError(StrCat("stopped while resuming ", redacted));
      }
      if (auto s = Start(received); !s.ok()) return s;
      if (auto s = Pump([&] { return headers_done; }); !s.ok()) return s;
      if (!headers_done) continue;  // Transport failure again.
      if (status == 206) {
        const std::string range = Header("content-range");
        if (range.rfind(StrCat("bytes ", received, "-"), 0) != 0) {
          return absl::DataLossError(StrCat("GET ", redacted, ": resumed at byte ", received,
                                            " but the server sent range \"", range, "\""));
        }
        return absl::OkStatus();
      }
      if (status == 200) {
        return absl::AbortedError(StrCat("GET ", redacted,
                                         ": the file changed while it was read "
                                         "(its version differs after ",
                                         received, " bytes)"));
      }
      if (http::IsRetryableStatus(status)) continue;
      return StatusError();
    }
  }
};

HttpFileStream::HttpFileStream(std::unique_ptr<Transfer> transfer) : t_(std::move(transfer)) {}
HttpFileStream::~HttpFileStream() = default;

absl::StatusOr<std::unique_ptr<HttpFileStream>> HttpFileStream::Open(
    HttpFileRequest request, HttpRetryOptions retry, const Logger& log,
    std::function<bool()> stopping) {
  GlobalInit();
  auto t = std::make_unique<Transfer>();
  t->redacted = RedactUrl(request.url);
  t->request = std::move(request);
  t->retry = retry;
  t->log = &log;
  t->stopping = std::move(stopping);
  if (auto s = t->Request(); !s.ok()) return s;
  return std::unique_ptr<HttpFileStream>(new HttpFileStream(std::move(t)));
}

int HttpFileStream::status() const { return t_->final_status; }
const std::string& HttpFileStream::etag() const { return t_->etag; }
const std::string& HttpFileStream::last_modified() const { return t_->last_modified; }
const std::string& HttpFileStream::content_type() const { return t_->content_type; }
const std::string& HttpFileStream::content_encoding() const { return t_->content_encoding; }
int64_t HttpFileStream::content_length() const { return t_->content_length; }
uint64_t HttpFileStream::bytes_received() const { return t_->received; }

absl::StatusOr<std::string_view> HttpFileStream::Next() {
  Transfer& t = *t_;
  if (t.final_status == 304) return std::string_view();
  if (t.handed) {
    t.body.clear();
    t.handed = false;
  }
  while (true) {
    if (t.paused && t.easy != nullptr) {
      t.paused = false;
      curl_easy_pause(t.easy, CURLPAUSE_CONT);
    }
    if (t.body.empty() && !t.done) {
      if (auto s = t.Pump([&] { return !t.body.empty(); }); !s.ok()) return s;
    }
    if (!t.body.empty()) {
      t.handed = true;
      t.received += t.body.size();
      return std::string_view(t.body);
    }
    // The transfer ended with nothing buffered.
    const bool complete =
        t.result == CURLE_OK && (t.content_length < 0 || t.received >= uint64_t(t.content_length));
    if (complete) return std::string_view();
    if (t.result == CURLE_OK) t.result = CURLE_PARTIAL_FILE;
    if (auto s = t.Resume(); !s.ok()) return s;
  }
}

}  // namespace connectors::http_file
