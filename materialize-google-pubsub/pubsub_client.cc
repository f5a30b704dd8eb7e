#include "materialize-google-pubsub/pubsub_client.h"

#include "libs/auth/service_account.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::pubsub {
namespace {

// Topic names may hold '%' and '+', which mean something else in a URL path.
std::string PathEscape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '%') {
      out += "%25";
    } else if (c == '+') {
      out += "%2B";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusCode CodeOf(std::string_view status, int http_status) {
  if (status == "NOT_FOUND") return absl::StatusCode::kNotFound;
  if (status == "ALREADY_EXISTS") return absl::StatusCode::kAlreadyExists;
  if (status == "PERMISSION_DENIED") return absl::StatusCode::kPermissionDenied;
  if (status == "UNAUTHENTICATED") return absl::StatusCode::kUnauthenticated;
  if (status == "RESOURCE_EXHAUSTED") return absl::StatusCode::kResourceExhausted;
  if (status == "INVALID_ARGUMENT") return absl::StatusCode::kInvalidArgument;
  if (status == "FAILED_PRECONDITION") return absl::StatusCode::kFailedPrecondition;
  if (status == "DEADLINE_EXCEEDED") return absl::StatusCode::kDeadlineExceeded;
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

std::string_view HintFor(absl::StatusCode code, std::string_view action) {
  switch (code) {
    case absl::StatusCode::kPermissionDenied:
      return "grant the service account the Pub/Sub Publisher role (roles/pubsub.publisher) on "
             "the topic, and Pub/Sub Editor (roles/pubsub.editor) for Apply to create topics";
    case absl::StatusCode::kUnauthenticated:
      return "the credentials were not accepted; check the service account key";
    case absl::StatusCode::kNotFound:
      return action == "publishing to"
                 ? "the topic does not exist (was it deleted while the materialization was "
                   "running?); re-apply the materialization to create it again"
                 : "check the project ID";
    case absl::StatusCode::kResourceExhausted:
      return "Pub/Sub's quota is exceeded and stayed exceeded while retrying with backoff; raise "
             "the project's Pub/Sub quota or reduce the publish rate";
    default:
      return "";
  }
}

}  // namespace

absl::StatusOr<Endpoint> EndpointOf(const EndpointConfig& config) {
  Endpoint endpoint;
  endpoint.project = config.project_id;
  if (!config.emulator_host.empty()) {
    endpoint.base_url = StrCat("http://", config.emulator_host);
    return endpoint;
  }
  endpoint.base_url = config.api_endpoint;
  if (config.auth == EndpointConfig::Auth::kServiceAccount) {
    auth::ServiceAccountTokenSource::Options options;
    options.scopes = {kPubsubScope};
    options.token_url_override = config.token_uri;
    auto source = auth::ServiceAccountTokenSource::Create(config.credentials_json, options,
                                                          "credentials.credentials_json");
    if (!source.ok()) return source.status();
    endpoint.tokens = *std::move(source);
  } else if (config.auth == EndpointConfig::Auth::kOAuthClient) {
    auth::RefreshTokenSource::Options options;
    if (!config.token_uri.empty()) options.token_url = config.token_uri;
    options.client_id = config.client_id;
    options.client_secret = config.client_secret;
    options.refresh_token = config.refresh_token;
    endpoint.tokens = std::make_shared<auth::RefreshTokenSource>(std::move(options));
  }
  return endpoint;
}

absl::Status ErrorOf(const http::Response& response, std::string_view action,
                     std::string_view resource) {
  std::string_view status, message;
  json::Parser parser;
  auto doc = parser.Parse(response.body);
  if (doc.ok()) {
    simdjson::dom::element error;
    if ((*doc)["error"].get(error) == simdjson::SUCCESS) {
      if (error["status"].get(status)) {
      }
      if (error["message"].get(message)) {
      }
    }
  }
  const std::string detail =
      message.empty() ? std::string(response.body.substr(0, 200)) : std::string(message);
  const absl::StatusCode code = CodeOf(status, response.status);
  const std::string_view hint = HintFor(code, action);
  return absl::Status(
      code, StrCat(action, " ", resource, ": HTTP ", response.status, status.empty() ? "" : " ",
                   status, ": ", detail, hint.empty() ? "" : "; ", hint));
}

PubsubClient::PubsubClient(Endpoint endpoint, http::RetryPolicy retry)
    : endpoint_(std::move(endpoint)), retry_(std::move(retry)) {}

std::string PubsubClient::TopicName(std::string_view topic) const {
  return StrCat("projects/", endpoint_.project, "/topics/", topic);
}

std::string PubsubClient::SubscriptionName(std::string_view sub) const {
  return StrCat("projects/", endpoint_.project, "/subscriptions/", sub);
}

absl::StatusOr<http::Response> PubsubClient::Call(std::string_view method, std::string_view path,
                                                  std::string_view body, absl::Duration timeout) {
  http::Request request;
  request.method = std::string(method);
  request.url = StrCat(endpoint_.base_url, "/v1/", path);
  request.headers = {{"Content-Type", "application/json"}};
  if (endpoint_.tokens != nullptr) {
    auto token = endpoint_.tokens->AccessToken();
    if (!token.ok()) return token.status();
    request.headers.push_back({"Authorization", StrCat("Bearer ", *token)});
  }
  request.body = body;
  request.timeout = timeout;
  return http_.SendWithRetry(request, retry_);
}

absl::StatusOr<bool> PubsubClient::TopicExists(std::string_view topic) {
  const std::string name = TopicName(topic);
  auto response = Call("GET", PathEscape(name), "");
  if (!response.ok()) return response.status();
  if (response->status == 404) return false;
  if (!response->ok()) return ErrorOf(*response, "looking up topic", name);
  return true;
}

absl::StatusOr<bool> PubsubClient::CreateTopic(std::string_view topic) {
  const std::string name = TopicName(topic);
  auto response = Call("PUT", PathEscape(name), "{}");
  if (!response.ok()) return response.status();
  if (response->status == 409) return false;
  if (!response->ok()) return ErrorOf(*response, "creating topic", name);
  return true;
}

absl::StatusOr<bool> PubsubClient::CreateSubscription(std::string_view subscription,
                                                      std::string_view topic,
                                                      bool message_ordering) {
  const std::string name = SubscriptionName(subscription);
  const std::string body =
      StrCat(R"({"topic":")", TopicName(topic), R"(","enableMessageOrdering":)",
             message_ordering ? "true" : "false", "}");
  auto response = Call("PUT", PathEscape(name), body);
  if (!response.ok()) return response.status();
  if (response->status == 409) return false;
  if (!response->ok()) return ErrorOf(*response, "creating subscription", name);
  return true;
}

absl::Status PubsubClient::Publish(std::string_view topic, std::string_view body, size_t messages,
                                   absl::Duration timeout) {
  const std::string name = TopicName(topic);
  auto response = Call("POST", StrCat(PathEscape(name), ":publish"), body, timeout);
  if (!response.ok()) {
    return absl::Status(response.status().code(), StrCat("publishing ", messages, " messages to ",
                                                         name, ": ", MessageOf(response.status())));
  }
  if (!response->ok()) return ErrorOf(*response, "publishing to", name);
  return absl::OkStatus();
}

}  // namespace connectors::pubsub
