// Builders for materialize-postgres tests: collections with projections, Validate/Apply/Open
// requests, vector-backed Load/Store iterators, and the driver calls in one place.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "libs/connector/logging.h"
#include "libs/connector/materialize.h"
#include "libs/tuple/tuple.h"
#include "proto/materialize.pb.h"

namespace connectors::postgres::testing {

struct Field {
  std::string field;
  std::string ptr;  // "" for the root document.
  std::vector<std::string> types;
  bool must = true;
  bool key = false;
  std::string format;
};

flow::CollectionSpec Collection(std::string_view name, const std::vector<Field>& fields);

// A validate request for one binding per (resource config JSON, collection).
materialize::Request::Validate ValidateRequest(
    std::string_view config_json,
    const std::vector<std::pair<std::string, flow::CollectionSpec>>& bindings);

// The spec built from a Validate request and its response the way the control plane does:
// keys, then every selectable non-root field as a value, then the document.
flow::MaterializationSpec SpecOf(std::string_view name,
                                 const materialize::Request::Validate& request,
                                 const materialize::Response::Validated& validated);

const Logger& TestLog();

template <class Request>
class VectorIterator final : public runtime::RequestIterator<Request> {
 public:
  explicit VectorIterator(std::vector<Request> requests) : requests_(std::move(requests)) {}
  absl::StatusOr<const Request*> Next() override {
    if (next_ >= requests_.size()) return nullptr;
    return &requests_[next_++];
  }

 private:
  std::vector<Request> requests_;
  size_t next_ = 0;
};

materialize::Request::Store Store(uint32_t binding, const std::vector<tuple::Element>& key,
                                  const std::vector<tuple::Element>& values, std::string doc,
                                  bool exists = false, bool is_delete = false);
materialize::Request::Load Load(uint32_t binding, const std::vector<tuple::Element>& key);

consumer::Checkpoint CheckpointAt(int64_t offset);

}  // namespace connectors::postgres::testing
