// JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 over SHA-256), through OpenSSL's EVP
// APIs: what Google's service-account flow sends to its token endpoint (RFC 7523).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace connectors::auth {

// Unpadded base64url (RFC 4648 section 5), as JWTs use.
std::string Base64UrlEncode(std::string_view bytes);
// Standard base64 with padding, appended to `out` (what Pub/Sub's REST API takes for data).
void AppendBase64(std::string_view bytes, std::string* out);
// Length of AppendBase64's output for `n` input bytes.
constexpr size_t Base64Length(size_t n) { return (n + 2) / 3 * 4; }

// An RSA private key loaded from PEM ("BEGIN PRIVATE KEY" PKCS#8, as in Google key files, or
// "BEGIN RSA PRIVATE KEY"). Immutable after Parse; safe to share between threads.
class RsaPrivateKey {
 public:
  // Errors never quote the key. `what` names it in messages (e.g. "credentials_json
  // private_key").
  static absl::StatusOr<RsaPrivateKey> Parse(std::string_view pem, std::string_view what);

  RsaPrivateKey(RsaPrivateKey&&) noexcept;
  RsaPrivateKey& operator=(RsaPrivateKey&&) noexcept;
  ~RsaPrivateKey();

  // The RS256 signature of `data` (raw bytes, not encoded).
  absl::StatusOr<std::string> SignRs256(std::string_view data) const;

 private:
  struct Key;
  explicit RsaPrivateKey(std::shared_ptr<Key> key) : key_(std::move(key)) {}
  std::shared_ptr<Key> key_;
};

// `header.claims.signature`, each part base64url: the header is {"alg":"RS256","typ":"JWT"}
// plus "kid" when `key_id` is not empty; `claims_json` is a JSON object written by the caller.
absl::StatusOr<std::string> SignJwt(const RsaPrivateKey& key, std::string_view key_id,
                                    std::string_view claims_json);

}  // namespace connectors::auth
