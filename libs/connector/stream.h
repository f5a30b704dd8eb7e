// The runtime floor's view of one RPC: requests in, responses out. Implemented over
// stdin/stdout with a codec (stdio_stream.h) and over a gRPC server stream (grpc_server.cc), so
// the protocol loops in capture_loop.cc and materialize_loop.cc are written once.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/capture.pb.h"
#include "proto/materialize.pb.h"

namespace connectors::runtime {

template <class Request, class Response>
class Stream {
 public:
  virtual ~Stream() = default;
  // Reads the next request. False when the peer has no more requests (end of input).
  // Interruptible reads return Cancelled once the session's stop signal is set.
  virtual absl::StatusOr<bool> Read(Request* request, bool interruptible) = 0;
  // Queues a response; Flush sends everything queued.
  virtual absl::Status Write(const Response& response) = 0;
  virtual absl::Status Flush() = 0;
  // Unblocks a Read pending on another thread once the session is over (it returns false).
  // Reads that honour the stop signal need nothing more.
  virtual void CancelReads() {}
};

class CaptureStream : public Stream<::capture::Request, ::capture::Response> {
 public:
  // Queues Response{captured{binding, doc}}. Streams that can encode it directly override this.
  virtual absl::Status WriteCaptured(uint32_t binding, std::string_view doc_json) {
    ::capture::Response response;
    auto* captured = response.mutable_captured();
    captured->set_binding(binding);
    captured->set_doc_json(std::string(doc_json));
    return Write(response);
  }
};

using MaterializeStream = Stream<::materialize::Request, ::materialize::Response>;

}  // namespace connectors::runtime
