// The one entry point of every connector binary: `return RunCaptureConnector(argc, argv,
// driver);` (or RunMaterializeConnector). It serves the Flow protocol either on stdin/stdout
// with the codec from FLOW_RUNTIME_CODEC (json | proto, default proto; --codec overrides), or
// as a gRPC server (--grpc-listen HOST:PORT, or the CONNECTOR_GRPC_LISTEN environment variable
// so that an image can be switched to gRPC without changing its entrypoint) offering capture.Connector/Capture or
// materialize.Connector/Materialize, one session per stream.
//
// Logs are structured JSON on stderr at LOG_LEVEL (--log-level overrides). SIGTERM/SIGINT
// stop gracefully: a capture finishes its current unit of work and checkpoints, a
// materialization finishes its current transaction, output is flushed, exit code 0. A fatal
// error is logged as the final error line and the exit code is 1.
#pragma once

#include "libs/connector/capture.h"
#include "libs/connector/materialize.h"

namespace connectors::runtime {

int RunCaptureConnector(int argc, char** argv, CaptureDriver& driver);
int RunMaterializeConnector(int argc, char** argv, MaterializeDriver& driver);

}  // namespace connectors::runtime
