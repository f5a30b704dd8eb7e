// Helpers shared by the Pub/Sub tests: requests for the driver, a Store iterator over a
// vector, and reading back what a subscription received from the emulator.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/connector/materialize.h"
#include "materialize-google-pubsub/pubsub_client.h"

namespace connectors::testing {

// A collection keyed on /id with projections flow_document (root), id (key) and v.
flow::CollectionSpec Collection(const std::string& name);

struct BindingSpec {
  std::string resource_json;
  std::string collection = "acmeCo/things";
};
materialize::Request::Validate ValidateRequest(const std::string& config_json,
                                               const std::vector<BindingSpec>& bindings);
// A materialization spec as the runtime would build it after Validate.
flow::MaterializationSpec Materialization(const std::string& config_json,
                                          const std::vector<BindingSpec>& bindings);

class VectorStores final : public runtime::StoreIterator {
 public:
  explicit VectorStores(std::vector<materialize::Request::Store> stores)
      : stores_(std::move(stores)) {}
  absl::StatusOr<const materialize::Request::Store*> Next() override {
    return next_ < stores_.size() ? &stores_[next_++] : nullptr;
  }

 private:
  std::vector<materialize::Request::Store> stores_;
  size_t next_ = 0;
};

// A Store of {"id": id, "v": v} for `binding`, with its packed key (a one-integer tuple).
materialize::Request::Store StoreOf(uint32_t binding, int64_t id, const std::string& v,
                                    const std::string& op = "c");

struct Pulled {
  std::string data;
  std::map<std::string, std::string> attributes;
  std::string ordering_key;
};

// Pulls (and acknowledges) from `subscription` until `expected` messages arrived and nothing
// more comes for a moment, or `timeout` passes.
absl::StatusOr<std::vector<Pulled>> PullAll(pubsub::PubsubClient& client,
                                            const std::string& subscription, size_t expected,
                                            absl::Duration timeout = absl::Seconds(60));

}  // namespace connectors::testing
