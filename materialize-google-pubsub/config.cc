#include "materialize-google-pubsub/config.h"

#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::pubsub {
namespace {

// Pub/Sub resource names: 3 to 255 characters, a letter first, then letters, digits and
// - _ . ~ + %.
constexpr char kNamePattern[] = "^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$";

std::string Text(const simdjson::dom::element& object, const char* key) {
  std::string_view value;
  if (object[key].get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

schema::Schema EndpointConfigSchema() {
  using namespace schema;
  return Object("Materialize Google Cloud Pub/Sub",
                "Publishes each document of the bound collections as a message to a Pub/Sub "
                "topic (at least once).")
      .Property("project_id",
                String("Google Cloud Project ID", "The project that holds the topics.")
                    .MinLength(1)
                    .Order(0))
      .Property(
          "credentials",
          OneOf("Authentication", "How to authenticate with Google Cloud.", "auth_type", "Service",
                {{"Service Account Key", "Service",
                  Object()
                      .Property("credentials_json",
                                String("Service Account JSON",
                                       "The JSON key file of a service account with the Pub/Sub "
                                       "Editor role (or Publisher, when the topics already exist).")
                                    .Secret()
                                    .Multiline()
                                    .Order(1))
                      .Required({"credentials_json"})},
                 {"Google OAuth", "Client",
                  Object()
                      .Property("client_id", String("Client ID", "OAuth client ID.").Order(1))
                      .Property("client_secret",
                                String("Client Secret", "OAuth client secret.").Secret().Order(2))
                      .Property("refresh_token",
                                String("Refresh Token", "OAuth refresh token.").Secret().Order(3))
                      .Required({"client_id", "client_secret", "refresh_token"}),
                  "google"}})
              .Order(1))
      .Property(
          "advanced",
          Object("Advanced Options", "Options that most materializations leave alone.")
              .Property("api_endpoint",
                        String("Pub/Sub API Endpoint",
                               "Base URL of the Pub/Sub REST API, e.g. a regional endpoint "
                               "such as https://us-east1-pubsub.googleapis.com (recommended "
                               "with ordering keys).")
                            .Default(kDefaultApiEndpoint)
                            .Pattern("^https?://[^/]+/?$")
                            .Order(0))
              .Property("emulator_host",
                        String("Emulator Host",
                               "host:port of a Pub/Sub emulator, as in PUBSUB_EMULATOR_HOST. "
                               "Plain HTTP without authentication; credentials are not needed.")
                            .Pattern("^[^/:]+:[0-9]+$")
                            .Order(1))
              .Property("token_uri",
                        String("Token Endpoint",
                               "Replaces the OAuth token endpoint of the credentials (the key "
                               "file's token_uri).")
                            .Format("uri")
                            .Order(2))
              .Advanced()
              .Order(2))
      .Required({"project_id"});
}

schema::Schema ResourceConfigSchema() {
  using namespace schema;
  return Object("Google Cloud Pub/Sub Topic", "A topic that receives a collection's documents.")
      .Property("topic", String("Topic Name",
                                "Topic to publish to, created by Apply when missing: 3 to 255 "
                                "letters, digits and - _ . ~ + %, starting with a letter.")
                             .Pattern(kNamePattern)
                             .CollectionName()
                             .Order(0))
      .Property("identifier",
                String("Resource Binding Identifier",
                       "Set as the \"identifier\" attribute of every message of this binding, so "
                       "that consumers can tell apart collections that share a topic.")
                    .Order(1))
      .Property("create_default_subscription",
                Boolean("Create with Default Subscription",
                        "Create a subscription named <topic>-sub with the topic, so that no "
                        "message is dropped before a consumer subscribes.")
                    .Default(true)
                    .Order(2))
      .Property("ordering_key",
                Boolean("Publish with Ordering Keys",
                        "Give every message an ordering key derived from the document's key, so "
                        "that subscriptions with message ordering receive the documents of a "
                        "key in order.")
                    .Order(3))
      .Required({"topic"});
}

flow::OAuth2 GoogleOAuth2() {
  flow::OAuth2 oauth;
  oauth.set_provider("google");
  oauth.set_auth_url_template(
      StrCat("https://accounts.google.com/o/oauth2/auth?access_type=offline&prompt=consent"
             "&client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}"
             "&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}"
             "&response_type=code&scope=",
             kPubsubScope, "&state={{#urlencode}}{{{ state }}}{{/urlencode}}"));
  oauth.set_access_token_url_template("https://oauth2.googleapis.com/token");
  oauth.set_access_token_body(
      R"({"grant_type": "authorization_code", "client_id": "{{{ client_id }}}", )"
      R"("client_secret": "{{{ client_secret }}}", "redirect_uri": "{{{ redirect_uri }}}", )"
      R"("code": "{{{ code }}}"})");
  (*oauth.mutable_access_token_response_json_map())["refresh_token"] = R"("/refresh_token")";
  return oauth;
}

absl::StatusOr<EndpointConfig> ParseEndpointConfig(std::string_view json) {
  json::Parser parser;
  auto doc = parser.Parse(json);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(StrCat("endpoint config: ", MessageOf(doc.status())));
  }
  EndpointConfig config;
  config.project_id = Text(*doc, "project_id");
  simdjson::dom::element advanced;
  if ((*doc)["advanced"].get(advanced) == simdjson::SUCCESS) {
    if (auto endpoint = Text(advanced, "api_endpoint"); !endpoint.empty()) {
      config.api_endpoint = TrimSlash(endpoint);
    }
    config.emulator_host = Text(advanced, "emulator_host");
    config.token_uri = Text(advanced, "token_uri");
  }
  if (config.project_id.size() < 3) {
    return absl::InvalidArgumentError(StrCat("endpoint config: project_id \"", config.project_id,
                                             "\" is too short; give the Google Cloud project ID"));
  }
  simdjson::dom::element credentials;
  if ((*doc)["credentials"].get(credentials) == simdjson::SUCCESS) {
    const std::string type = Text(credentials, "auth_type");
    if (type == "Service") {
      config.auth = EndpointConfig::Auth::kServiceAccount;
      config.credentials_json = Text(credentials, "credentials_json");
    } else if (type == "Client") {
      config.auth = EndpointConfig::Auth::kOAuthClient;
      config.client_id = Text(credentials, "client_id");
      config.client_secret = Text(credentials, "client_secret");
      config.refresh_token = Text(credentials, "refresh_token");
    }
  }
  if (config.auth == EndpointConfig::Auth::kNone && config.emulator_host.empty()) {
    return absl::InvalidArgumentError(
        "endpoint config: credentials are required (a service account's JSON key, or Google "
        "OAuth) unless advanced.emulator_host points at a Pub/Sub emulator");
  }
  return config;
}

absl::StatusOr<ResourceConfig> ParseResourceConfig(std::string_view json, int binding) {
  json::Parser parser;
  auto doc = parser.Parse(json);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        StrCat("binding ", binding, " resource config: ", MessageOf(doc.status())));
  }
  ResourceConfig config;
  config.topic = Text(*doc, "topic");
  config.identifier = Text(*doc, "identifier");
  bool flag = true;
  if ((*doc)["create_default_subscription"].get(flag) == simdjson::SUCCESS) {
    config.create_default_subscription = flag;
  }
  if ((*doc)["ordering_key"].get(flag) == simdjson::SUCCESS) config.ordering_key = flag;
  if (config.topic.size() < 3 || config.topic.size() > 255 || config.topic.rfind("goog", 0) == 0) {
    return absl::InvalidArgumentError(
        StrCat("binding ", binding, " resource config: topic \"", config.topic,
               "\" is not a valid Pub/Sub topic name (3 to 255 characters, a letter first, not "
               "starting with \"goog\")"));
  }
  return config;
}

}  // namespace connectors::pubsub
