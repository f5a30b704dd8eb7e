// Serves one materialize RPC on a stream: a unary request (Spec, Validate, Apply) or a
// session (Open, then Flow's transaction loop around the driver's Transactor).
#pragma once

#include "absl/status/status.h"
#include "libs/connector/config_check.h"
#include "libs/connector/materialize.h"
#include "libs/connector/stream.h"

namespace connectors::runtime {

// The stream's stop signal is honoured between transactions only, so a stopped session never
// leaves a transaction half done. Returns the error that ends the RPC, if any.
absl::Status ServeMaterialize(MaterializeDriver& driver, const ConfigCheck& configs,
                              MaterializeStream& stream, const Logger& log);

}  // namespace connectors::runtime
