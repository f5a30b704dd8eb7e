// Turns catalog entries into the Flow specs connectors receive: collection specs with their
// projections, capture and materialization specs with resource paths from Validate, state
// keys, journal read suffixes, and the field selection chosen from a materialization's
// constraints. The same rules as Flow's control plane, for the documented catalog subset.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "proto/capture.pb.h"
#include "proto/flow.pb.h"
#include "proto/materialize.pb.h"
#include "tests/runtime/catalog.h"
#include "tests/runtime/store.h"

namespace connectors::local {

// Projections: the root document as "flow_document", each key pointer, and each top-level
// property of the schema, with inferred types.
absl::StatusOr<flow::CollectionSpec> CollectionSpecOf(const Collection& collection);

capture::Request::Validate CaptureValidateRequest(
    const Catalog& catalog, const Capture& capture,
    const std::map<std::string, flow::CollectionSpec>& collections);
absl::StatusOr<flow::CaptureSpec> CaptureSpecOf(const Capture& capture,
                                                const capture::Request::Validate& validate,
                                                const capture::Response::Validated& validated);

materialize::Request::Validate MaterializeValidateRequest(
    const Materialization& materialization,
    const std::map<std::string, flow::CollectionSpec>& collections);
// Fails when a required field is forbidden or a selected key or included field is not
// selectable, naming the binding and field.
absl::StatusOr<flow::MaterializationSpec> MaterializationSpecOf(
    const Materialization& materialization, const materialize::Request::Validate& validate,
    const materialize::Response::Validated& validated);

// A version string for a spec: a hash of its canonical JSON, so an unchanged spec keeps its
// version across runs (as Flow's build ids do for an unchanged publication).
std::string SpecVersion(const google::protobuf::Message& spec);

// The spec a task last applied, with its version, as persisted in the store; empty when the
// task was never applied. `spec` is left untouched when there is none.
absl::StatusOr<std::string> LastApplied(const Store& store, const std::string& task,
                                        google::protobuf::Message* spec);
// Records `spec` as the task's last applied spec.
absl::Status RecordApplied(Store& store, const std::string& task,
                           const google::protobuf::Message& spec);

// Stable per-binding state key: the escaped resource path, versioned by the backfill counter.
std::string StateKey(const google::protobuf::RepeatedPtrField<std::string>& resource_path,
                     uint32_t backfill);

}  // namespace connectors::local
