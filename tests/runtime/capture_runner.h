// Runs a capture task as Flow does: Validate and Apply, then sessions of Open, documents and
// checkpoints. Documents become visible in their collections only when their checkpoint
// commits, atomically with the connector state, so a crash of the connector or of the runtime
// never exposes half a transaction. Explicit acknowledgements are sent after each commit.
#pragma once

#include <ostream>

#include "absl/status/status.h"
#include "libs/connector/logging.h"
#include "libs/connector/stop.h"
#include "proto/flow.pb.h"
#include "tests/runtime/catalog.h"
#include "tests/runtime/store.h"

namespace connectors::local {

struct CaptureOptions {
  // Run one session and return when the connector exits (else restart it after the capture's
  // interval, until stopped).
  bool once = false;
  // Print captured documents to this stream instead of committing them (state is not kept).
  std::ostream* preview = nullptr;
};

// Validates the capture with its connector and builds the spec it runs with; with `apply`,
// also asks the connector to apply it.
// Validate and Apply carry the spec last applied (recorded in `store`), as Flow sends them.
absl::StatusOr<flow::CaptureSpec> PrepareCapture(const Catalog& catalog, const Capture& capture,
                                                 Store& store, bool apply, const Logger& log);

absl::Status RunCapture(const Catalog& catalog, const Capture& capture, Store& store,
                        runtime::StopSignal& stop, const CaptureOptions& options,
                        const Logger& log);

}  // namespace connectors::local
