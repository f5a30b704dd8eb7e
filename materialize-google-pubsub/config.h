// Endpoint and resource configs of materialize-google-pubsub: their schemas (schema-gen) and
// parsing. Configs reach the parsers already checked against the schemas by the runtime; the
// parsers check what a schema cannot say and name the field in every error.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/schema-gen/schema.h"
#include "proto/flow.pb.h"

namespace connectors::pubsub {

inline constexpr char kPubsubScope[] = "https://www.googleapis.com/auth/pubsub";
inline constexpr char kDefaultApiEndpoint[] = "https://pubsub.googleapis.com";

struct EndpointConfig {
  std::string project_id;
  enum class Auth { kNone, kServiceAccount, kOAuthClient };
  Auth auth = Auth::kNone;
  std::string credentials_json;  // Secret. kServiceAccount.
  std::string client_id;         // kOAuthClient.
  std::string client_secret;     // Secret.
  std::string refresh_token;     // Secret.
  // Advanced.
  std::string api_endpoint = kDefaultApiEndpoint;  // Scheme and host, no trailing slash.
  std::string emulator_host;  // host:port; plain HTTP and no authentication when set.
  std::string token_uri;      // Replaces the token endpoint of the credentials when set.
};

struct ResourceConfig {
  std::string topic;
  std::string identifier;
  bool create_default_subscription = true;
  bool ordering_key = false;

  std::string DefaultSubscription() const { return topic + "-sub"; }
};

schema::Schema EndpointConfigSchema();
schema::Schema ResourceConfigSchema();
// Google's OAuth2 provider block for the Spec response (the "Client" credentials option).
flow::OAuth2 GoogleOAuth2();

absl::StatusOr<EndpointConfig> ParseEndpointConfig(std::string_view json);
// `binding` is the binding's index, for error messages.
absl::StatusOr<ResourceConfig> ParseResourceConfig(std::string_view json, int binding);

}  // namespace connectors::pubsub
