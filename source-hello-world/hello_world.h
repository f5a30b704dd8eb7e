// source-hello-world: a capture that emits a greeting document per binding every interval,
// with a checkpoint per document, resuming each binding's counter from the connector state.
// It exists to prove the connector runtime end to end (Spec, Discover, Validate, Apply, Open,
// checkpoints and acknowledgements) in every codec and over gRPC.
#pragma once

#include "libs/connector/capture.h"

namespace connectors::hello_world {

class HelloWorldDriver final : public runtime::CaptureDriver {
 public:
  ::capture::Response::Spec Spec() const override;
  absl::StatusOr<::capture::Response::Discovered> Discover(
      const ::capture::Request::Discover& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Validated> Validate(
      const ::capture::Request::Validate& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Applied> Apply(const ::capture::Request::Apply& request,
                                                     const Logger& log) override;
  absl::StatusOr<std::unique_ptr<runtime::Capture>> Open(const ::capture::Request::Open& request,
                                                         const Logger& log) override;
};

}  // namespace connectors::hello_world
