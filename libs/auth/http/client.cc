#include "libs/auth/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <mutex>
#include <random>

#include "absl/time/clock.h"
#include "libs/base/strings.h"

namespace connectors::http {
namespace {

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using ListPtr = std::unique_ptr<curl_slist, ListDeleter>;

// libcurl wants one global init before any handle exists.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<Response*>(user)->body.append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const std::string_view line(data, size * count);
  // A new status line (after a 100 Continue or a redirect) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers.clear();
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    response->headers.push_back(
        Header{Lower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1)))});
  }
  return line.size();
}

}  // namespace

struct Client::Handle {
  EasyPtr curl;
  std::mt19937_64 random{std::random_device{}()};
};

std::optional<std::string_view> Response::Find(std::string_view name) const {
  const std::string lower = Lower(name);
  for (const auto& header : headers) {
    if (header.name == lower) return std::string_view(header.value);
  }
  return std::nullopt;
}

bool IsRetryableStatus(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  const std::string date(value);
  const time_t when = curl_getdate(date.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::max(absl::ZeroDuration(), absl::FromTimeT(when) - now);
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  auto escape = [&](std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
  };
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    escape(name);
    out.push_back('=');
    escape(value);
  }
  return out;
}

Client::Client() : handle_(std::make_unique<Handle>()) { GlobalInit(); }
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

absl::StatusOr<Response> Client::Send(const Request& request) {
  if (!handle_->curl) {
    handle_->curl.reset(curl_easy_init());
    if (!handle_->curl) return absl::InternalError("curl_easy_init failed");
  }
  CURL* curl = handle_->curl.get();
  curl_easy_reset(curl);  // Keeps the connection cache.

  curl_slist* raw_list = nullptr;
  for (const auto& header : request.headers) {
    raw_list = curl_slist_append(raw_list, StrCat(header.name, ": ", header.value).c_str());
  }
  // Large bodies would otherwise wait for a 100 Continue that some servers never send.
  raw_list = curl_slist_append(raw_list, "Expect:");
  ListPtr list(raw_list);

  Response response;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(request.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    // Never a null pointer, which libcurl takes as "read the body with the read callback"
    // (stdin by default: in a connector, the protocol stream).
    static constexpr char kEmpty[] = "";
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                     request.body.data() != nullptr ? request.body.data() : kEmpty);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    const std::string what =
        StrCat(request.method, " ", request.url, ": ", error[0] ? error : curl_easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(what);
    return absl::UnavailableError(what);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

absl::StatusOr<Response> Client::SendWithRetry(const Request& request, const RetryPolicy& policy) {
  absl::Duration backoff = policy.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Response> response = Send(request);
    if (response.ok() && !IsRetryableStatus(response->status)) return response;
    auto cancelled = [&] { return policy.cancelled != nullptr && policy.cancelled->load(); };
    if (attempt >= policy.max_attempts || cancelled()) return response;

    // Full jitter: a random wait in [0, backoff], so many clients do not retry in step.
    std::uniform_real_distribution<double> fraction(0.0, 1.0);
    absl::Duration wait = backoff * fraction(handle_->random);
    backoff = std::min(policy.max_backoff, backoff * 2);
    std::string why;
    if (response.ok()) {
      why = StrCat("HTTP ", response->status);
      if (auto value = response->Find("retry-after")) {
        if (auto asked = ParseRetryAfter(*value, absl::Now())) {
          wait = std::max(wait, std::min(*asked, policy.max_retry_after));
        }
      }
    } else {
      why = std::string(MessageOf(response.status()));
    }
    if (policy.on_retry) policy.on_retry(attempt, why, wait);
    // Sleeps in slices so that cancellation ends the wait soon.
    for (const absl::Time until = absl::Now() + wait; !cancelled();) {
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      absl::SleepFor(std::min(left, absl::Milliseconds(50)));
    }
    if (cancelled()) return response;
  }
}

}  // namespace connectors::http
