#include "tests/materialize-google-pubsub/oauth_token_server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/process/subprocess.h"

namespace connectors::testing {
namespace {

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";

absl::Status RunOpenssl(std::vector<std::string> args) {
  process::SpawnOptions options;
  options.argv = {"openssl"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.pipe_stderr = false;
  auto child = process::Subprocess::Spawn(options);
  if (!child.ok()) return child.status();
  child->CloseStdin();
  auto code = child->Wait(absl::Seconds(60));
  if (!code.ok()) return code.status();
  if (*code != 0) return absl::InternalError(StrCat("openssl ", args[0], " failed"));
  return absl::OkStatus();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string WebSafeDecode(std::string_view text) {
  std::string out;
  if (!absl::WebSafeBase64Unescape(absl::string_view(text.data(), text.size()), &out)) return {};
  return out;
}

bool VerifyRs256(const std::string& public_pem, std::string_view data, std::string_view sig) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

void Error(httplib::Response& res, int status, std::string_view error,
           std::string_view description) {
  std::string body;
  json::Writer(&body)
      .BeginObject()
      .Key("error")
      .String(error)
      .Key("error_description")
      .String(description)
      .EndObject();
  res.status = status;
  res.set_content(body, "application/json");
}

}  // namespace

absl::StatusOr<TestServiceAccount> TestServiceAccount::Generate(const std::string& dir) {
  const std::string key = dir + "/sa_key.pem", pub = dir + "/sa_key.pub.pem";
  if (auto s = RunOpenssl(
          {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key});
      !s.ok()) {
    return s;
  }
  if (auto s = RunOpenssl({"pkey", "-in", key, "-pubout", "-out", pub}); !s.ok()) return s;
  TestServiceAccount account;
  account.private_key_pem = ReadAll(key);
  account.public_key_pem = ReadAll(pub);
  if (account.private_key_pem.empty() || account.public_key_pem.empty()) {
    return absl::InternalError("openssl wrote no key");
  }
  return account;
}

std::string TestServiceAccount::KeyJson(const std::string& token_uri,
                                        const std::string& project_id) const {
  std::string out;
  json::Writer(&out)
      .BeginObject()
      .Key("type")
      .String("service_account")
      .Key("project_id")
      .String(project_id)
      .Key("private_key_id")
      .String(key_id)
      .Key("private_key")
      .String(private_key_pem)
      .Key("client_email")
      .String(client_email)
      .Key("client_id")
      .String("1234567890")
      .Key("auth_uri")
      .String("https://accounts.google.com/o/oauth2/auth")
      .Key("token_uri")
      .String(token_uri)
      .EndObject();
  return out;
}

struct OAuthTokenServer::Impl {
  Options options;
  httplib::Server server;
  int port = 0;
  std::thread thread;
};

OAuthTokenServer::OAuthTokenServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OAuthTokenServer::~OAuthTokenServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string OAuthTokenServer::token_url() const {
  return StrCat("http://127.0.0.1:", impl_->port, "/token");
}

bool OAuthTokenServer::Valid(const std::string& token) const {
  std::lock_guard lock(mu_);
  return tokens_.contains(token);
}

absl::StatusOr<std::unique_ptr<OAuthTokenServer>> OAuthTokenServer::Start(Options options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  std::unique_ptr<OAuthTokenServer> server(new OAuthTokenServer(std::move(impl)));
  OAuthTokenServer* self = server.get();
  const Options& opts = self->impl_->options;

  auto issue = [self, &opts](httplib::Response& res) {
    const std::string token = StrCat("test-access-token-", ++self->issued_);
    {
      std::lock_guard lock(self->mu_);
      self->tokens_.insert(token);
    }
    std::string body;
    json::Writer(&body)
        .BeginObject()
        .Key("access_token")
        .String(token)
        .Key("expires_in")
        .Int(opts.expires_in_seconds)
        .Key("token_type")
        .String("Bearer")
        .EndObject();
    res.set_content(body, "application/json");
  };

  // Checks one jwt-bearer assertion; an empty answer means it is good.
  auto check_assertion = [self, &opts](const std::string& assertion) -> std::string {
    const size_t dot1 = assertion.find('.');
    const size_t dot2 = assertion.find('.', dot1 + 1);
    if (dot1 == std::string::npos || dot2 == std::string::npos) return "not a JWT";
    const std::string_view signed_part = std::string_view(assertion).substr(0, dot2);
    const std::string signature = WebSafeDecode(std::string_view(assertion).substr(dot2 + 1));
    if (!VerifyRs256(opts.public_key_pem, signed_part, signature)) return "Invalid JWT Signature.";
    json::Parser parser;
    auto header = parser.Parse(WebSafeDecode(std::string_view(assertion).substr(0, dot1)));
    if (!header.ok()) return "bad header";
    std::string_view alg, kid;
    if ((*header)["alg"].get(alg)) {
    }
    if ((*header)["kid"].get(kid)) {
    }
    if (alg != "RS256") return "alg must be RS256";
    if (kid != opts.key_id) return "unknown kid";
    json::Parser claims_parser;
    auto claims = claims_parser.Parse(
        WebSafeDecode(std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1)));
    if (!claims.ok()) return "bad claims";
    std::string_view iss, aud, scope;
    int64_t iat = 0, exp = 0;
    if ((*claims)["iss"].get(iss)) {
    }
    if ((*claims)["aud"].get(aud)) {
    }
    if ((*claims)["scope"].get(scope)) {
    }
    if ((*claims)["iat"].get(iat)) {
    }
    if ((*claims)["exp"].get(exp)) {
    }
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    if (iss != opts.client_email) return "wrong iss";
    if (aud != self->token_url()) return "aud is not this token endpoint";
    if (scope.find(opts.required_scope) == std::string_view::npos) return "scope missing";
    if (iat > now + 60 || exp <= now || exp - iat > 3600) return "bad iat/exp";
    return "";
  };

  self->impl_->server.Post("/token", [self, &opts, issue, check_assertion](
                                         const httplib::Request& req, httplib::Response& res) {
    const std::string grant = req.get_param_value("grant_type");
    if (grant == kJwtBearer) {
      const std::string problem = check_assertion(req.get_param_value("assertion"));
      if (!problem.empty()) {
        ++self->rejected_;
        return Error(res, 400, "invalid_grant", problem);
      }
      return issue(res);
    }
    if (grant == "refresh_token") {
      if (req.get_param_value("client_id") != opts.client_id ||
          req.get_param_value("client_secret") != opts.client_secret) {
        ++self->rejected_;
        return Error(res, 401, "invalid_client", "Unauthorized");
      }
      if (req.get_param_value("refresh_token") != opts.refresh_token) {
        ++self->rejected_;
        return Error(res, 400, "invalid_grant", "Token has been expired or revoked.");
      }
      return issue(res);
    }
    if (grant == "client_credentials") {
      std::string basic;
      const std::string header = req.get_header_value("Authorization");
      if (header.rfind("Basic ", 0) == 0) {
        absl::Base64Unescape(absl::string_view(header).substr(6), &basic);
      }
      if (basic != opts.client_id + ":" + opts.client_secret) {
        ++self->rejected_;
        return Error(res, 401, "invalid_client", "Unauthorized");
      }
      return issue(res);
    }
    return Error(res, 400, "unsupported_grant_type", grant);
  });
  // Stopping waits for idle keep-alive connections; keep that short.
  self->impl_->server.set_keep_alive_timeout(1);
  self->impl_->port = self->impl_->server.bind_to_any_port("127.0.0.1");
  if (self->impl_->port <= 0) return absl::UnavailableError("token server: bind failed");
  self->impl_->thread = std::thread([self] { self->impl_->server.listen_after_bind(); });
  return server;
}

}  // namespace connectors::testing
