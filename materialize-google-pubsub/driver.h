// materialize-google-pubsub: publishes every document of the bound collections as a Pub/Sub
// message (data: the document's JSON; attributes: the binding's identifier and the operation
// c/u/d; optionally an ordering key from the document's key). Pub/Sub has neither
// transactions nor idempotent publishing, so delivery is at least once: documents are
// published while the transaction's Stores arrive and StartCommit returns only once Pub/Sub
// acknowledged every one of them. A crash before the runtime's commit replays the transaction,
// and its documents are published again. Every binding is delta-updates; Loads never happen.
#pragma once

#include "libs/connector/materialize.h"
#include "materialize-google-pubsub/publisher.h"

namespace connectors::pubsub {

class PubsubDriver final : public runtime::MaterializeDriver {
 public:
  PubsubDriver() = default;
  // Tests tune batching, lanes and retries.
  explicit PubsubDriver(PublisherOptions options) : options_(std::move(options)) {}

  materialize::Response::Spec Spec() const override;
  absl::StatusOr<materialize::Response::Validated> Validate(
      const materialize::Request::Validate& request, const Logger& log) override;
  absl::StatusOr<materialize::Response::Applied> Apply(const materialize::Request::Apply& request,
                                                       const Logger& log) override;
  absl::StatusOr<runtime::OpenedTransactor> Open(const materialize::Request::Open& request,
                                                 const Logger& log) override;

 private:
  PublisherOptions options_;
};

// The ordering key of a document: 16 hex digits of the SHA-256 of its packed key, so documents
// of one key share it and keys spread evenly.
std::string OrderingKeyOf(std::string_view key_packed);

}  // namespace connectors::pubsub
