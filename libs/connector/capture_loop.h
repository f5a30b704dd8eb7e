// Serves one capture RPC on a stream: a unary request (Spec, Discover, Validate, Apply) or a
// session (Open, then documents and checkpoints out, acknowledgements in).
#pragma once

#include "absl/status/status.h"
#include "libs/connector/capture.h"
#include "libs/connector/config_check.h"
#include "libs/connector/stop.h"
#include "libs/connector/stream.h"

namespace connectors::runtime {

// `stop` is set by the caller on SIGTERM/SIGINT; the session also sets it itself at end of
// input. Returns the error that ends the RPC, if any.
absl::Status ServeCapture(CaptureDriver& driver, const ConfigCheck& configs, CaptureStream& stream,
                          StopSignal& stop, const Logger& log);

}  // namespace connectors::runtime
