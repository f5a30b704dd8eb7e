// Constraints for a binding's projections (materializations.md sections 1.2-1.4): what a new
// table accepts, and what an existing table still accepts without a backfill.
#pragma once

#include "absl/status/statusor.h"
#include "libs/materialize-sql/dialect.h"
#include "libs/materialize-sql/info_schema.h"
#include "libs/materialize-sql/table.h"
#include "proto/materialize.pb.h"

namespace connectors::sql {

// Validates one binding. `last` is the binding with the same resource path in the last
// materialization, or nullptr. Returns the Validated binding with both the `constraints` map
// and `projection_constraints` filled (FLOW_PROTOCOL.md section 7). Hard errors (nullable
// keys, no document for standard updates, delta -> standard) are InvalidArgument naming the
// collection and what to do.
absl::StatusOr<materialize::Response::Validated::Binding> ValidateBinding(
    const materialize::Request::Validate::Binding& binding, const ResourceConfig& resource,
    const InfoSchema& info, const flow::MaterializationSpec::Binding* last, const Dialect& dialect);

// The binding of `last` whose resource path equals `path`, or nullptr.
const flow::MaterializationSpec::Binding* FindLastBinding(const flow::MaterializationSpec& last,
                                                          const std::vector<std::string>& path);

}  // namespace connectors::sql
