#include "libs/auth/token_source.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "libs/auth/jwt.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::auth {
namespace {

constexpr absl::Duration kMaxRefreshMargin = absl::Minutes(5);

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) StrAppend(&out, out.empty() ? "" : " ", scope);
  return out;
}

// The endpoint's error text, cut short: it is shown to users and never holds our secrets, but
// may be an HTML page.
std::string Excerpt(std::string_view body) { return std::string(body.substr(0, 300)); }

}  // namespace

absl::StatusOr<std::string> CachingTokenSource::AccessToken() {
  std::lock_guard lock(mu_);
  const absl::Time now = absl::Now();
  if (!cached_.access_token.empty() && now < refresh_at_) return cached_.access_token;
  auto token = Fetch();
  if (!token.ok()) return token.status();
  const absl::Duration lifetime = token->expiry - now;
  refresh_at_ = token->expiry - std::min(kMaxRefreshMargin, lifetime / 2);
  cached_ = *std::move(token);
  return cached_.access_token;
}

absl::StatusOr<Token> ParseTokenResponse(const http::Response& response, std::string_view what) {
  json::Parser parser;
  auto doc = parser.Parse(response.body);
  if (!response.ok()) {
    std::string_view error, description;
    if (doc.ok()) {
      if ((*doc)["error"].get(error)) {
      }
      if ((*doc)["error_description"].get(description)) {
      }
    }
    const std::string detail = error.empty()
                                   ? Excerpt(response.body)
                                   : StrCat(error, description.empty() ? "" : ": ", description);
    std::string hint = "check the credentials";
    if (error == "invalid_grant") {
      hint = "the key or refresh token was revoked, expired or does not belong to this client";
    } else if (error == "invalid_client" || error == "unauthorized_client") {
      hint = "check the client id and secret";
    } else if (error == "invalid_scope") {
      hint = "the credentials may not request this scope";
    }
    const std::string message = StrCat(what, " was refused by the token endpoint (HTTP ",
                                       response.status, ": ", detail, "); ", hint);
    if (response.status == 400 || response.status == 401) {
      return absl::UnauthenticatedError(message);
    }
    if (response.status == 403) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  if (!doc.ok()) {
    return absl::UnavailableError(
        StrCat(what, ": the token endpoint's answer is not JSON: ", Excerpt(response.body)));
  }
  Token token;
  std::string_view access_token;
  if ((*doc)["access_token"].get(access_token) != simdjson::SUCCESS || access_token.empty()) {
    return absl::UnavailableError(
        StrCat(what, ": the token endpoint's answer has no access_token"));
  }
  token.access_token = std::string(access_token);
  int64_t expires_in = 0;
  if ((*doc)["expires_in"].get(expires_in) == simdjson::SUCCESS && expires_in > 0) {
    token.expiry = absl::Now() + absl::Seconds(expires_in);
  } else {
    // Without a lifetime, assume the common hour rather than trusting the token forever.
    token.expiry = absl::Now() + absl::Hours(1);
  }
  return token;
}

absl::StatusOr<Token> RequestToken(http::Client& client, const std::string& token_url,
                                   const std::string& form,
                                   const std::vector<http::Header>& extra_headers,
                                   std::string_view what) {
  http::Request request;
  request.method = "POST";
  request.url = token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.headers.insert(request.headers.end(), extra_headers.begin(), extra_headers.end());
  request.body = form;
  request.timeout = absl::Seconds(60);
  http::RetryPolicy policy;
  policy.max_attempts = 5;
  auto response = client.SendWithRetry(request, policy);
  if (!response.ok()) {
    return absl::UnavailableError(
        StrCat(what, ": could not reach the token endpoint: ", MessageOf(response.status())));
  }
  return ParseTokenResponse(*response, what);
}

absl::StatusOr<Token> RefreshTokenSource::Fetch() {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"grant_type", "refresh_token"},
      {"refresh_token", options_.refresh_token},
      {"client_id", options_.client_id},
      {"client_secret", options_.client_secret}};
  if (!options_.scopes.empty()) fields.push_back({"scope", JoinScopes(options_.scopes)});
  const std::string what = StrCat("the refresh token of OAuth client \"", options_.client_id, "\"");
  return RequestToken(client_, options_.token_url, http::FormEncode(fields), {}, what);
}

absl::StatusOr<Token> ClientCredentialsTokenSource::Fetch() {
  std::vector<std::pair<std::string, std::string>> fields = {{"grant_type", "client_credentials"}};
  if (!options_.scopes.empty()) fields.push_back({"scope", JoinScopes(options_.scopes)});
  std::vector<http::Header> headers;
  if (options_.credentials_in_form) {
    fields.push_back({"client_id", options_.client_id});
    fields.push_back({"client_secret", options_.client_secret});
  } else {
    // RFC 6749 section 2.3.1: both parts form-encoded, then base64 for Basic.
    const std::string user = StrCat(http::FormEncode({{"u", options_.client_id}}).substr(2), ":",
                                    http::FormEncode({{"p", options_.client_secret}}).substr(2));
    std::string basic = "Basic ";
    AppendBase64(user, &basic);
    headers.push_back({"Authorization", std::move(basic)});
  }
  const std::string what = StrCat("OAuth client \"", options_.client_id, "\"");
  return RequestToken(client_, options_.token_url, http::FormEncode(fields), headers, what);
}

}  // namespace connectors::auth
