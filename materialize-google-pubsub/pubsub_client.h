// The few calls of Pub/Sub's REST API (v1) this connector makes: topic get/create,
// subscription create, publish. A PubsubClient holds one HTTP connection and is used by one
// thread at a time; clients share the Endpoint (and its thread-safe token source).
//
// Errors turn Google's {"error":{"code","message","status"}} into an absl::Status of the same
// meaning, naming the operation and the resource and saying what to do (grant a role,
// re-apply, raise a quota).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/auth/http/client.h"
#include "libs/auth/token_source.h"
#include "materialize-google-pubsub/config.h"

namespace connectors::pubsub {

struct Endpoint {
  std::string base_url;  // "https://pubsub.googleapis.com" or "http://127.0.0.1:8085".
  std::string project;
  std::shared_ptr<auth::TokenSource> tokens;  // Null: no authentication (emulator).
};

// The endpoint a config describes; builds (but does not yet use) its token source.
absl::StatusOr<Endpoint> EndpointOf(const EndpointConfig& config);

// The status for a failed API response.
absl::Status ErrorOf(const http::Response& response, std::string_view action,
                     std::string_view resource);

class PubsubClient {
 public:
  explicit PubsubClient(Endpoint endpoint, http::RetryPolicy retry = {});

  std::string TopicName(std::string_view topic) const;       // projects/P/topics/T
  std::string SubscriptionName(std::string_view sub) const;  // projects/P/subscriptions/S

  absl::StatusOr<bool> TopicExists(std::string_view topic);
  // Whether it was created (false: it already existed).
  absl::StatusOr<bool> CreateTopic(std::string_view topic);
  absl::StatusOr<bool> CreateSubscription(std::string_view subscription, std::string_view topic,
                                          bool message_ordering);
  // Publishes a ready request body ({"messages":[...]}) holding `messages` messages.
  absl::Status Publish(std::string_view topic, std::string_view body, size_t messages,
                       absl::Duration timeout);

  // An authorized call with retries: method, path below /v1/, JSON body.
  absl::StatusOr<http::Response> Call(std::string_view method, std::string_view path,
                                      std::string_view body,
                                      absl::Duration timeout = absl::Seconds(60));

 private:
  Endpoint endpoint_;
  http::RetryPolicy retry_;
  http::Client http_;
};

}  // namespace connectors::pubsub
