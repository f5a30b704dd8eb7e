// Streams over file descriptors framed by a codec: how a connector process talks to Flow's
// connector-init (stdin/stdout), and how the local runtime talks to a connector it spawned.
#pragma once

#include <utility>

#include "libs/connector/codec.h"
#include "libs/connector/stop.h"
#include "libs/connector/stream.h"

namespace connectors::runtime {

template <class Base, class Request, class Response>
class FdStream : public Base {
 public:
  FdStream(int in_fd, int out_fd, codec::Codec codec, codec::UnknownKeys unknown_keys,
           const StopSignal* stop)
      : reader_(in_fd, codec, unknown_keys), writer_(out_fd, codec), stop_(stop) {}

  absl::StatusOr<bool> Read(Request* request, bool interruptible) override {
    return reader_.Next(request, interruptible && stop_ != nullptr ? stop_->fd() : -1);
  }
  absl::Status Write(const Response& response) override { return writer_.Write(response); }
  absl::Status Flush() override { return writer_.Flush(); }

 protected:
  codec::FrameReader reader_;
  codec::FrameWriter writer_;
  const StopSignal* stop_;
};

class FdCaptureStream final
    : public FdStream<CaptureStream, ::capture::Request, ::capture::Response> {
 public:
  using FdStream::FdStream;
  absl::Status WriteCaptured(uint32_t binding, std::string_view doc_json) override {
    return writer_.WriteCaptured(binding, doc_json);
  }
};

using FdMaterializeStream =
    FdStream<MaterializeStream, ::materialize::Request, ::materialize::Response>;

}  // namespace connectors::runtime
