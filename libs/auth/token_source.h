// OAuth2 access tokens for REST clients. A TokenSource hands out a valid bearer token,
// fetching a new one from its token endpoint only when the cached one is missing or close to
// expiry; every implementation is thread-safe (concurrent callers share one fetch).
//
//   auto tokens = auth::ServiceAccountTokenSource::Create(key_json, {kPubsubScope});
//   auto token = (*tokens)->AccessToken();   // "ya29...." for an Authorization: Bearer header
//
// Errors name what was configured (the key file, the client id) and what the endpoint said,
// never the secret itself (keys, client secrets, refresh tokens, issued tokens).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/auth/http/client.h"

namespace connectors::auth {

inline constexpr char kGoogleTokenUrl[] = "https://oauth2.googleapis.com/token";

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token valid for a while yet (at least the refresh margin, see CachingTokenSource).
  virtual absl::StatusOr<std::string> AccessToken() = 0;
};

// A fixed token (e.g. an API key the user pasted), never refreshed.
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  absl::StatusOr<std::string> AccessToken() override { return token_; }

 private:
  std::string token_;
};

// A token and when it stops working.
struct Token {
  std::string access_token;
  absl::Time expiry = absl::InfiniteFuture();
};

// Caches what Fetch() returns and fetches again once less than min(5 min, half the token's
// lifetime) is left, so a request never starts with a token about to lapse.
class CachingTokenSource : public TokenSource {
 public:
  absl::StatusOr<std::string> AccessToken() final;

 protected:
  virtual absl::StatusOr<Token> Fetch() = 0;

 private:
  std::mutex mu_;
  Token cached_;
  absl::Time refresh_at_ = absl::InfinitePast();
};

// Parses a token endpoint's answer (RFC 6749 section 5): access_token and expires_in on
// success; `error` / `error_description` otherwise, turned into an error that starts with
// `what` and says what to do. Retryable statuses are retried by the caller before this.
absl::StatusOr<Token> ParseTokenResponse(const http::Response& response, std::string_view what);

// POSTs a form to a token endpoint with retries and parses the answer.
absl::StatusOr<Token> RequestToken(http::Client& client, const std::string& token_url,
                                   const std::string& form,
                                   const std::vector<http::Header>& extra_headers,
                                   std::string_view what);

// The refresh-token grant (RFC 6749 section 6): a user's long-lived refresh token exchanged for
// access tokens. A rotated refresh token in the answer replaces the old one.
class RefreshTokenSource final : public CachingTokenSource {
 public:
  struct Options {
    std::string token_url = kGoogleTokenUrl;
    std::string client_id;
    std::string client_secret;        // Secret.
    std::string refresh_token;        // Secret.
    std::vector<std::string> scopes;  // Optional: narrows the grant.
  };
  explicit RefreshTokenSource(Options options) : options_(std::move(options)) {}

 protected:
  absl::StatusOr<Token> Fetch() override;

 private:
  Options options_;
  http::Client client_;
};

// The client-credentials grant (RFC 6749 section 4.4): a machine identity's id and secret,
// sent as HTTP Basic authentication (or in the form, for endpoints that want that).
class ClientCredentialsTokenSource final : public CachingTokenSource {
 public:
  struct Options {
    std::string token_url;
    std::string client_id;
    std::string client_secret;  // Secret.
    std::vector<std::string> scopes;
    bool credentials_in_form = false;
  };
  explicit ClientCredentialsTokenSource(Options options) : options_(std::move(options)) {}

 protected:
  absl::StatusOr<Token> Fetch() override;

 private:
  Options options_;
  http::Client client_;
};

}  // namespace connectors::auth
