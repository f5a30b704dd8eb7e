// The runtime's side of one connector RPC, as Flow's connector-init provides it: a fresh
// connector per RPC (a local process, a podman container, or a stream to a gRPC server),
// requests written in the connector's codec, responses read and checked strictly (unknown
// JSON keys, undecodable frames and messages setting several kinds are errors naming the
// connector). The connector's stderr log lines are relayed with the task name attached, and a
// failed connector's last log message becomes the error.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/connector/logging.h"
#include "proto/capture.pb.h"
#include "proto/materialize.pb.h"
#include "tests/runtime/catalog.h"

namespace connectors::local {

template <class Request, class Response>
class ConnectorRpc {
 public:
  virtual ~ConnectorRpc() = default;
  virtual absl::Status Send(const Request& request) = 0;
  // The next response, or false once the connector has no more output.
  virtual absl::StatusOr<bool> Receive(Response* response) = 0;
  // Ends the requests (the connector sees end of input).
  virtual void CloseSend() = 0;
  // Waits for the connector to finish. A failure carries the connector's last log message.
  virtual absl::Status Finish() = 0;
};

using CaptureRpc = ConnectorRpc<capture::Request, capture::Response>;
using MaterializeRpc = ConnectorRpc<materialize::Request, materialize::Response>;

absl::StatusOr<std::unique_ptr<CaptureRpc>> StartCaptureRpc(const Endpoint& endpoint,
                                                            const std::string& task,
                                                            const Logger& log);
absl::StatusOr<std::unique_ptr<MaterializeRpc>> StartMaterializeRpc(const Endpoint& endpoint,
                                                                    const std::string& task,
                                                                    const Logger& log);

// Runs a unary RPC (Spec, Discover, Validate, Apply): one request, exactly one response.
template <class Request, class Response>
absl::StatusOr<Response> Unary(ConnectorRpc<Request, Response>& rpc, const Request& request);

}  // namespace connectors::local
