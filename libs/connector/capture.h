// The contract a capture connector implements (see shared/design/architecture.md). A driver
// answers Spec, Discover, Validate and Apply with values and Open with a running capture. It
// never sees a codec, a frame or a gRPC stream: the runtime floor (RunCaptureConnector in
// main.h) validates configs against the driver's schemas before calling it, turns its output
// into Captured/Checkpoint responses, and feeds acknowledgements back.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/connector/logging.h"
#include "proto/capture.pb.h"

namespace connectors::runtime {

// Where a running capture writes. Thread-safe: engines may write from several threads.
class CaptureOutput {
 public:
  virtual ~CaptureOutput() = default;
  // One document (a JSON object) for binding index `binding` of Open.capture.bindings.
  virtual absl::Status Document(uint32_t binding, std::string_view doc_json) = 0;
  // A restrictive JSON schema observed at the source; commits with the next checkpoint.
  virtual absl::Status SourcedSchema(uint32_t binding, std::string_view schema_json) = 0;
  // Closes the group of documents written since the previous checkpoint: they commit
  // together with `state_json`, an RFC 7396 merge patch onto the connector state (or its
  // replacement when `merge_patch` is false). Flushes output.
  virtual absl::Status Checkpoint(std::string_view state_json, bool merge_patch = true) = 0;
};

// What a running capture sees of its session.
class CaptureSession {
 public:
  virtual ~CaptureSession() = default;
  virtual CaptureOutput& output() = 0;
  virtual const Logger& log() const = 0;
  // True once the session should end: input closed, SIGTERM/SIGINT, or a runtime error. The
  // capture finishes its current unit of work, checkpoints it and returns.
  virtual bool stopping() const = 0;
  // Sleeps up to `timeout`, waking early on stop. Returns stopping().
  virtual bool WaitForStop(absl::Duration timeout) = 0;
  // Number of checkpoints the runtime has acknowledged as durably committed.
  virtual uint64_t acknowledged() const = 0;
  // Waits until at least `checkpoints` are acknowledged (true), or timeout/stop (false).
  virtual bool WaitForAcknowledged(uint64_t checkpoints, absl::Duration timeout) = 0;
};

// A capture that has connected and is ready to stream.
class Capture {
 public:
  virtual ~Capture() = default;
  // Whether the runtime should send Acknowledge after each committed transaction.
  virtual bool explicit_acknowledgements() const = 0;
  // Streams documents and checkpoints until done or stopping. Returning OK right after a
  // checkpoint ends the session cleanly (the runtime restarts the connector later).
  virtual absl::Status Run(CaptureSession& session) = 0;
};

class CaptureDriver {
 public:
  virtual ~CaptureDriver() = default;
  // Schemas, documentation URL and resource path pointers. The runtime sets the protocol
  // version and validates every endpoint and resource config against these schemas.
  virtual ::capture::Response::Spec Spec() const = 0;
  virtual absl::StatusOr<::capture::Response::Discovered> Discover(
      const ::capture::Request::Discover& request, const Logger& log) = 0;
  virtual absl::StatusOr<::capture::Response::Validated> Validate(
      const ::capture::Request::Validate& request, const Logger& log) = 0;
  virtual absl::StatusOr<::capture::Response::Applied> Apply(
      const ::capture::Request::Apply& request, const Logger& log) = 0;
  // Connects and prepares a capture; the runtime replies Opened only after this succeeds.
  virtual absl::StatusOr<std::unique_ptr<Capture>> Open(const ::capture::Request::Open& request,
                                                        const Logger& log) = 0;
};

}  // namespace connectors::runtime
