#include "libs/connector/capture_loop.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "libs/base/strings.h"
#include "libs/connector/message_kind.h"
#include "libs/connector/unary.h"

namespace connectors::runtime {
namespace {

constexpr uint32_t kProtocolVersion = 3032023;

absl::Status ProtocolError(std::string_view expected, const ::capture::Request& got) {
  auto kind = SingleKind(got);
  return absl::FailedPreconditionError(StrCat("capture protocol error (expected ", expected,
                                              "): got ",
                                              kind.ok() ? *kind : MessageOf(kind.status())));
}

// The session a running capture writes through. Output calls may come from several threads;
// acknowledgements arrive on the reader thread.
class Session final : public CaptureSession, public CaptureOutput {
 public:
  Session(CaptureStream& stream, StopSignal& stop, const Logger& log, size_t bindings)
      : stream_(stream), stop_(stop), log_(log), bindings_(bindings) {}

  CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override { return stop_.stopped(); }
  bool WaitForStop(absl::Duration timeout) override { return stop_.WaitFor(timeout); }

  absl::Status Document(uint32_t binding, std::string_view doc_json) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (auto status = CheckBinding(binding); !status.ok()) return status;
    ++pending_documents_;
    return stream_.WriteCaptured(binding, doc_json);
  }

  absl::Status SourcedSchema(uint32_t binding, std::string_view schema_json) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (auto status = CheckBinding(binding); !status.ok()) return status;
    ::capture::Response response;
    response.mutable_sourced_schema()->set_binding(binding);
    response.mutable_sourced_schema()->set_schema_json(std::string(schema_json));
    return stream_.Write(response);
  }

  absl::Status Checkpoint(std::string_view state_json, bool merge_patch) override {
    std::lock_guard<std::mutex> lock(write_mu_);
    ::capture::Response response;
    auto* state = response.mutable_checkpoint()->mutable_state();
    state->set_updated_json(state_json.empty() ? "{}" : std::string(state_json));
    state->set_merge_patch(merge_patch);
    {
      // Counted before it is sent: the runtime may acknowledge it the moment it arrives.
      std::lock_guard<std::mutex> ack_lock(ack_mu_);
      ++checkpoints_;
    }
    pending_documents_ = 0;
    if (auto status = stream_.Write(response); !status.ok()) return status;
    return stream_.Flush();
  }

  uint64_t acknowledged() const override {
    std::lock_guard<std::mutex> lock(ack_mu_);
    return acknowledged_;
  }

  bool WaitForAcknowledged(uint64_t checkpoints, absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(ack_mu_);
    while (acknowledged_ < checkpoints) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration() || stop_.stopped()) return false;
      // Bounded waits so that a stop (which doesn't notify this variable) is seen promptly.
      ack_cv_.wait_for(lock, absl::ToChronoNanoseconds(std::min(left, absl::Milliseconds(50))));
    }
    return true;
  }

  absl::Status OnAcknowledge(uint32_t checkpoints) {
    std::lock_guard<std::mutex> lock(ack_mu_);
    if (acknowledged_ + checkpoints > checkpoints_) {
      return absl::FailedPreconditionError(
          StrCat("capture protocol error: Acknowledge of ", checkpoints, " checkpoints, but only ",
                 checkpoints_ - acknowledged_, " are awaiting acknowledgement"));
    }
    acknowledged_ += checkpoints;
    ack_cv_.notify_all();
    return absl::OkStatus();
  }

  uint64_t pending_documents() const {
    std::lock_guard<std::mutex> lock(write_mu_);
    return pending_documents_;
  }

 private:
  absl::Status CheckBinding(uint32_t binding) const {
    if (binding < bindings_) return absl::OkStatus();
    return absl::InvalidArgumentError(
        StrCat("capture wrote to binding ", binding, " but the task has ", bindings_, " bindings"));
  }

  CaptureStream& stream_;
  StopSignal& stop_;
  const Logger& log_;
  const size_t bindings_;

  mutable std::mutex write_mu_;
  uint64_t pending_documents_ = 0;

  mutable std::mutex ack_mu_;
  std::condition_variable ack_cv_;
  uint64_t checkpoints_ = 0;
  uint64_t acknowledged_ = 0;
};

// Reads requests during a session: only Acknowledge is valid. Ends at end of input (which
// stops the session), at stop, or at the first error.
absl::Status ReadAcknowledgements(CaptureStream& stream, Session& session, StopSignal& stop,
                                  const Logger& log) {
  ::capture::Request request;
  while (true) {
    auto more = stream.Read(&request, /*interruptible=*/true);
    if (absl::IsCancelled(more.status())) return absl::OkStatus();
    if (!more.ok()) return more.status();
    if (!*more) {
      log.Debug("input closed; ending the capture session");
      return absl::OkStatus();
    }
    if (!request.has_acknowledge()) return ProtocolError("Acknowledge", request);
    if (auto status = session.OnAcknowledge(request.acknowledge().checkpoints()); !status.ok()) {
      return status;
    }
  }
}

absl::Status RunSession(CaptureDriver& driver, const ConfigCheck& configs, CaptureStream& stream,
                        StopSignal& stop, const Logger& log, const ::capture::Request::Open& open) {
  if (auto status = configs.All(open.capture().config_json(), open.capture().bindings());
      !status.ok())
    return status;
  auto capture = driver.Open(open, log);
  if (!capture.ok()) return capture.status();

  ::capture::Response opened;
  opened.mutable_opened()->set_explicit_acknowledgements((*capture)->explicit_acknowledgements());
  if (auto status = stream.Write(opened); !status.ok()) return status;
  if (auto status = stream.Flush(); !status.ok()) return status;

  Session session(stream, stop, log, open.capture().bindings_size());
  absl::Status reader_status;
  std::atomic<bool> reader_done = false;
  std::thread reader([&] {
    reader_status = ReadAcknowledgements(stream, session, stop, log);
    reader_done = true;
    stop.Stop();
  });
  absl::Status run_status = (*capture)->Run(session);
  if (run_status.ok() && session.pending_documents() > 0) {
    run_status = absl::FailedPreconditionError(
        StrCat("capture ended with ", session.pending_documents(),
               " documents after its last checkpoint; they would be lost"));
  }
  if (run_status.ok()) run_status = stream.Flush();
  stop.Stop();
  if (!reader_done) stream.CancelReads();
  reader.join();
  return run_status.ok() ? reader_status : run_status;
}

}  // namespace

absl::Status ServeCapture(CaptureDriver& driver, const ConfigCheck& configs, CaptureStream& stream,
                          StopSignal& stop, const Logger& log) {
  ::capture::Request request;
  auto more = stream.Read(&request, /*interruptible=*/true);
  if (absl::IsCancelled(more.status())) return absl::OkStatus();
  if (!more.ok()) return more.status();
  if (!*more) return absl::OkStatus();  // No request at all: nothing to do.
  if (auto kind = SingleKind(request); !kind.ok()) return kind.status();

  ::capture::Response response;
  if (request.has_spec()) {
    *response.mutable_spec() = driver.Spec();
    response.mutable_spec()->set_protocol(kProtocolVersion);
  } else if (request.has_discover()) {
    if (auto status = configs.Endpoint(request.discover().config_json()); !status.ok()) {
      return status;
    }
    auto discovered = driver.Discover(request.discover(), log);
    if (!discovered.ok()) return discovered.status();
    *response.mutable_discovered() = std::move(*discovered);
  } else if (request.has_validate()) {
    auto validated = CheckedValidate(driver, configs, request.validate(), log);
    if (!validated.ok()) return validated.status();
    *response.mutable_validated() = std::move(*validated);
  } else if (request.has_apply()) {
    auto applied = CheckedApply(driver, configs, request.apply(), request.apply().capture(), log);
    if (!applied.ok()) return applied.status();
    *response.mutable_applied() = std::move(*applied);
  } else if (request.has_open()) {
    return RunSession(driver, configs, stream, stop, log, request.open());
  } else {
    return ProtocolError("Spec, Discover, Validate, Apply or Open", request);
  }
  if (auto status = stream.Write(response); !status.ok()) return status;
  return stream.Flush();
}

}  // namespace connectors::runtime
