// Serves a driver over gRPC: each stream of capture.Connector/Capture or
// materialize.Connector/Materialize is one RPC, handled by the same protocol loops as stdio.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "libs/connector/capture.h"
#include "libs/connector/config_check.h"
#include "libs/connector/materialize.h"
#include "libs/connector/stop.h"

namespace connectors::runtime {

// Listens on `address` (HOST:PORT; port 0 picks a free port, reported in the "serving gRPC"
// log line) until `stop` is set, then stops every session and drains.
absl::Status ServeCaptureGrpc(const std::string& address, CaptureDriver& driver,
                              const ConfigCheck& configs, StopSignal& stop, const Logger& log);
absl::Status ServeMaterializeGrpc(const std::string& address, MaterializeDriver& driver,
                                  const ConfigCheck& configs, StopSignal& stop, const Logger& log);

}  // namespace connectors::runtime
