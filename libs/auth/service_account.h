// Google service-account authentication (RFC 7523 JWT bearer grant): a JWT asserting the
// account's identity and scopes, signed RS256 with the key file's private key, is exchanged at
// the key file's token_uri for an access token; tokens are cached and renewed before expiry.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/auth/jwt.h"
#include "libs/auth/token_source.h"

namespace connectors::auth {

// The fields of a service account's JSON key file that authentication uses.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key_id;
  std::string project_id;
  std::string token_uri;  // Where the JWT is exchanged (https://oauth2.googleapis.com/token).
};

// Parses a key file's JSON. `what` names the config field in errors (e.g. "credentials
// credentials_json"); errors never quote the key.
absl::StatusOr<ServiceAccountKey> ParseServiceAccountKey(std::string_view key_json,
                                                         std::string_view what,
                                                         std::string* private_key_pem);

class ServiceAccountTokenSource final : public CachingTokenSource {
 public:
  struct Options {
    std::vector<std::string> scopes;
    // Replaces the key file's token_uri (tests, private endpoints). Also the JWT's audience.
    std::string token_url_override;
    absl::Duration assertion_lifetime = absl::Hours(1);  // Google's maximum.
  };

  static absl::StatusOr<std::unique_ptr<ServiceAccountTokenSource>> Create(
      std::string_view key_json, Options options, std::string_view what = "service account key");

  const ServiceAccountKey& key() const { return key_; }

 protected:
  absl::StatusOr<Token> Fetch() override;

 private:
  ServiceAccountTokenSource(ServiceAccountKey key, RsaPrivateKey private_key, Options options)
      : key_(std::move(key)), private_key_(std::move(private_key)), options_(std::move(options)) {}

  ServiceAccountKey key_;
  RsaPrivateKey private_key_;
  Options options_;
  http::Client client_;
};

}  // namespace connectors::auth
