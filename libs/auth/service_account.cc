#include "libs/auth/service_account.h"

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"

namespace connectors::auth {

absl::StatusOr<ServiceAccountKey> ParseServiceAccountKey(std::string_view key_json,
                                                         std::string_view what,
                                                         std::string* private_key_pem) {
  json::Parser parser;
  auto doc = parser.Parse(key_json);
  // simdjson's message names a position, never the text, so it cannot leak the key.
  if (!doc.ok()) {
    return absl::InvalidArgumentError(StrCat(what, " is not valid JSON (", MessageOf(doc.status()),
                                             "); paste the whole JSON key file of the "
                                             "service account"));
  }
  if (!doc->is_object()) {
    return absl::InvalidArgumentError(
        StrCat(what, " must be the JSON key file of a service account (a JSON object)"));
  }
  auto text = [&](const char* field) {
    std::string_view value;
    if ((*doc)[field].get(value)) {
    }
    return std::string(value);
  };
  const std::string type = text("type");
  if (type != "service_account") {
    return absl::InvalidArgumentError(
        StrCat(what, " has type \"", type.substr(0, 40),
               "\", not \"service_account\"; create a JSON key for a service account in the "
               "Google Cloud console (IAM > Service Accounts > Keys)"));
  }
  ServiceAccountKey key;
  key.client_email = text("client_email");
  key.private_key_id = text("private_key_id");
  key.project_id = text("project_id");
  key.token_uri = text("token_uri");
  *private_key_pem = text("private_key");
  std::string missing;
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"client_email", &key.client_email},
        {"private_key", private_key_pem}}) {
    if (value->empty()) StrAppend(&missing, missing.empty() ? "" : ", ", name);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(StrCat(what, " lacks ", missing,
                                             "; paste the service account's JSON key file "
                                             "unchanged"));
  }
  if (key.token_uri.empty()) key.token_uri = kGoogleTokenUrl;
  return key;
}

absl::StatusOr<std::unique_ptr<ServiceAccountTokenSource>> ServiceAccountTokenSource::Create(
    std::string_view key_json, Options options, std::string_view what) {
  std::string pem;
  auto key = ParseServiceAccountKey(key_json, what, &pem);
  if (!key.ok()) return key.status();
  auto private_key = RsaPrivateKey::Parse(pem, StrCat(what, " private_key"));
  if (!private_key.ok()) return private_key.status();
  if (!options.token_url_override.empty()) key->token_uri = options.token_url_override;
  return std::unique_ptr<ServiceAccountTokenSource>(
      new ServiceAccountTokenSource(*std::move(key), *std::move(private_key), std::move(options)));
}

absl::StatusOr<Token> ServiceAccountTokenSource::Fetch() {
  // A little slack in the past absorbs clock skew between us and the endpoint.
  const int64_t now = absl::ToUnixSeconds(absl::Now()) - 10;
  std::string scopes;
  for (const auto& scope : options_.scopes) StrAppend(&scopes, scopes.empty() ? "" : " ", scope);
  std::string claims;
  json::Writer writer(&claims);
  writer.BeginObject()
      .Key("iss")
      .String(key_.client_email)
      .Key("scope")
      .String(scopes)
      .Key("aud")
      .String(key_.token_uri)
      .Key("iat")
      .Int(now)
      .Key("exp")
      .Int(now + absl::ToInt64Seconds(options_.assertion_lifetime))
      .EndObject();
  auto assertion = SignJwt(private_key_, key_.private_key_id, claims);
  if (!assertion.ok()) return assertion.status();
  const std::string form = http::FormEncode(
      {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", *assertion}});
  return RequestToken(client_, key_.token_uri, form, {},
                      StrCat("service account ", key_.client_email));
}

}  // namespace connectors::auth
