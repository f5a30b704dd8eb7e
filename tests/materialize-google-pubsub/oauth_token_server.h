// A small OAuth2 token endpoint for tests, so that the service-account flow runs for real: it
// verifies each JWT assertion's RS256 signature against the test key's public half (and its
// header and claims: kid, iss, aud, scope, iat/exp) before issuing a token. It also serves the
// refresh-token and client-credentials grants. Listens on 127.0.0.1 at a kernel-chosen port,
// in a thread of the test; stopped by the destructor.
//
// TestServiceAccount() generates a fresh 2048-bit RSA key with the `openssl` command and
// writes a JSON key file whose token_uri points at a given URL.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace connectors::testing {

struct TestServiceAccount {
  std::string private_key_pem;
  std::string public_key_pem;
  std::string client_email = "flow-tester@test-project.iam.gserviceaccount.com";
  std::string key_id = "test-key-1";

  // Generates the key pair with `openssl genpkey` in `dir`.
  static absl::StatusOr<TestServiceAccount> Generate(const std::string& dir);
  // A JSON key file in Google's format.
  std::string KeyJson(const std::string& token_uri, const std::string& project_id) const;
};

class OAuthTokenServer {
 public:
  struct Options {
    std::string public_key_pem;  // Verifies jwt-bearer assertions.
    std::string client_email;
    std::string key_id;
    std::string required_scope;
    int expires_in_seconds = 3600;
    // Refresh-token and client-credentials grants.
    std::string client_id = "test-client";
    std::string client_secret = "test-secret";
    std::string refresh_token = "test-refresh-token";
  };

  static absl::StatusOr<std::unique_ptr<OAuthTokenServer>> Start(Options options);
  ~OAuthTokenServer();

  std::string token_url() const;
  // Tokens issued so far, and whether `token` is one of them.
  int issued() const { return issued_.load(); }
  bool Valid(const std::string& token) const;
  // Assertions rejected so far (bad signature, claims, ...).
  int rejected() const { return rejected_.load(); }

 private:
  struct Impl;
  explicit OAuthTokenServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<int> issued_ = 0;
  std::atomic<int> rejected_ = 0;
  mutable std::mutex mu_;
  std::set<std::string> tokens_;
};

}  // namespace connectors::testing
