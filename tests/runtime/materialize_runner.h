// Runs a materialization task with Flow's transaction loop: Validate and Apply, then Open and
// transactions of Acknowledge, Load/Flush, Store/StartCommit over documents read from the
// source collections' journals, reduced per key (last write wins, /_meta/op "d" deletes).
// The runtime persists its read offsets and the connector's state only after the connector
// has started its commit, and resumes from them, or from the connector's own checkpoint when
// the endpoint is authoritative, after a crash of either side.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "libs/connector/logging.h"
#include "libs/connector/stop.h"
#include "proto/flow.pb.h"
#include "tests/runtime/catalog.h"
#include "tests/runtime/store.h"

namespace connectors::local {

struct MaterializeOptions {
  // Return once every source is fully materialized (else keep waiting for new documents).
  bool until_caught_up = false;
  // Bound on the source bytes read into one transaction.
  size_t max_transaction_bytes = 8 << 20;
};

struct PreparedMaterialization {
  flow::MaterializationSpec spec;
  std::optional<flow::ConnectorState> applied_state;  // From Applied, to fold into the state.
};

// Validates the materialization with its connector and builds the spec it runs with (field
// selection included); with `apply`, also asks the connector to apply it, passing
// `connector_state`.
// Validate and Apply carry the spec last applied (recorded in `store`), as Flow sends them.
absl::StatusOr<PreparedMaterialization> PrepareMaterialization(
    const Catalog& catalog, const Materialization& materialization, Store& store, bool apply,
    std::string_view connector_state, const Logger& log);

// The connector state persisted for a materialization ("{}" if none).
absl::StatusOr<std::string> ConnectorStateOf(const Store& store, std::string_view materialization);

absl::Status RunMaterialization(const Catalog& catalog, const Materialization& materialization,
                                Store& store, runtime::StopSignal& stop,
                                const MaterializeOptions& options, const Logger& log);

}  // namespace connectors::local
