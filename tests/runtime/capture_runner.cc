#include "tests/runtime/capture_runner.h"

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "libs/base/strings.h"
#include "libs/connector/message_kind.h"
#include "libs/json/merge_patch.h"
#include "tests/runtime/connector.h"
#include "tests/runtime/documents.h"
#include "tests/runtime/progress.h"
#include "tests/runtime/specs.h"

namespace connectors::local {
namespace {

// Flow restarts a capture that exited on its own after this long, unless it sets an interval.
constexpr absl::Duration kDefaultInterval = absl::Minutes(5);

std::string KindOf(const google::protobuf::Message& m) {
  auto kind = runtime::SingleKind(m);
  return kind.ok() ? std::string(*kind) : "an empty message";
}

struct Binding {
  std::string collection;
  DocumentChecker checker;
};

class Session {
 public:
  Session(const Capture& capture, const flow::CaptureSpec& spec, std::vector<Binding>& bindings,
          Store& store, const CaptureOptions& options, Progress& progress, const Logger& log)
      : capture_(capture),
        spec_(spec),
        bindings_(bindings),
        store_(store),
        options_(options),
        progress_(progress),
        log_(log) {}

  // One connector process from Open until it exits. Stop ends its input, which asks the
  // connector to finish its current work and checkpoint.
  absl::Status Run(runtime::StopSignal& stop) {
    auto rpc = StartCaptureRpc(capture_.endpoint, capture_.name, log_);
    if (!rpc.ok()) return rpc.status();
    auto state = store_.TaskState(capture_.name);
    if (!state.ok()) return state.status();
    state_ = state->empty() || options_.preview != nullptr ? "{}" : *state;

    capture::Request open;
    *open.mutable_open()->mutable_capture() = spec_;
    open.mutable_open()->set_version(SpecVersion(spec_));
    open.mutable_open()->mutable_range()->set_key_end(0xFFFFFFFF);
    open.mutable_open()->mutable_range()->set_r_clock_end(0xFFFFFFFF);
    open.mutable_open()->set_state_json(state_);
    if (auto status = (*rpc)->Send(open); !status.ok()) return status;

    std::mutex send_mu;
    bool input_closed = false;
    std::thread stopper([&] {
      while (!stop.WaitFor(absl::Milliseconds(100)) && !done_) {
      }
      std::lock_guard<std::mutex> lock(send_mu);
      if (!input_closed) (*rpc)->CloseSend();
      input_closed = true;
    });
    absl::Status status = Stream(**rpc, send_mu, input_closed);
    done_ = true;
    stopper.join();
    absl::Status finished = (*rpc)->Finish();
    if (!finished.ok()) return finished;
    if (status.ok() && !pending_.empty()) {
      return absl::FailedPreconditionError(
          StrCat("connector ", capture_.name, " exited with ", pending_.size(),
                 " documents after its last checkpoint (unexpected EOF within a checkpoint)"));
    }
    return status;
  }

 private:
  absl::Status Stream(CaptureRpc& rpc, std::mutex& send_mu, bool& input_closed) {
    capture::Response response;
    auto more = rpc.Receive(&response);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (!response.has_opened()) return ProtocolError("Opened", response);
    explicit_acks_ = response.opened().explicit_acknowledgements();

    while (true) {
      more = rpc.Receive(&response);
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      if (response.has_captured()) {
        if (auto status = OnCaptured(response.captured()); !status.ok()) return status;
      } else if (response.has_checkpoint()) {
        if (auto status = OnCheckpoint(response.checkpoint()); !status.ok()) return status;
        std::lock_guard<std::mutex> lock(send_mu);
        if (explicit_acks_ && !input_closed) {
          capture::Request ack;
          ack.mutable_acknowledge()->set_checkpoints(1);
          // A connector may exit right after a checkpoint, before reading its acknowledgement;
          // its exit status, not the closed pipe, says whether that was an error.
          if (!rpc.Send(ack).ok()) input_closed = true;
        }
      } else if (response.has_sourced_schema()) {
        log_.Debug("sourced schema",
                   {LogField::Str("task", capture_.name),
                    LogField::Uint("binding", response.sourced_schema().binding())});
      } else {
        return ProtocolError("Captured, SourcedSchema or Checkpoint", response);
      }
    }
  }

  absl::Status ProtocolError(std::string_view expected, const capture::Response& got) {
    return absl::FailedPreconditionError(StrCat("connector ", capture_.name,
                                                " protocol error (expected ", expected, "): got ",
                                                KindOf(got)));
  }

  absl::Status OnCaptured(const capture::Response::Captured& captured) {
    if (captured.binding() >= bindings_.size()) {
      return absl::FailedPreconditionError(
          StrCat("connector ", capture_.name, " captured into binding ", captured.binding(),
                 " but the capture has ", bindings_.size(), " bindings"));
    }
    Binding& binding = bindings_[captured.binding()];
    auto doc = binding.checker.Check(captured.doc_json(), uuids_);
    if (!doc.ok()) {
      return absl::InvalidArgumentError(StrCat("connector ", capture_.name, " binding ",
                                               captured.binding(), ": ", MessageOf(doc.status())));
    }
    progress_.AddDocuments(1, captured.doc_json().size());
    if (options_.preview != nullptr) {
      *options_.preview << binding.collection << "\t" << doc->doc_json << "\n";
      options_.preview->flush();
    }
    pending_.emplace_back(captured.binding(), std::move(*doc));
    return absl::OkStatus();
  }

  absl::Status OnCheckpoint(const capture::Response::Checkpoint& checkpoint) {
    if (!checkpoint.has_state()) {
      return absl::FailedPreconditionError(
          StrCat("connector ", capture_.name, " sent a Checkpoint without state"));
    }
    const auto& update = checkpoint.state();
    if (update.merge_patch()) {
      auto merged = json::ApplyMergePatch(state_, update.updated_json());
      if (!merged.ok()) {
        return absl::InvalidArgumentError(
            StrCat("connector ", capture_.name,
                   " sent an invalid state patch: ", MessageOf(merged.status())));
      }
      state_ = std::move(*merged);
    } else {
      state_ = update.updated_json().empty() ? "{}" : update.updated_json();
    }
    if (options_.preview == nullptr) {
      Store::Transaction txn = store_.Begin();
      for (const auto& [binding, doc] : pending_) {
        txn.Append(bindings_[binding].collection, doc.key_packed, doc.doc_json, doc.is_delete);
      }
      txn.SetTaskState(capture_.name, state_);
      if (auto status = txn.Commit(); !status.ok()) return status;
    }
    pending_.clear();
    progress_.AddCommit();
    return absl::OkStatus();
  }

  const Capture& capture_;
  const flow::CaptureSpec& spec_;
  std::vector<Binding>& bindings_;
  Store& store_;
  const CaptureOptions& options_;
  Progress& progress_;
  const Logger& log_;
  UuidClock uuids_;
  std::string state_;
  bool explicit_acks_ = false;
  std::atomic<bool> done_ = false;
  std::vector<std::pair<uint32_t, CollectionDocument>> pending_;
};

absl::StatusOr<capture::Response> CaptureUnary(const Capture& capture,
                                               const capture::Request& request, const Logger& log) {
  auto rpc = StartCaptureRpc(capture.endpoint, capture.name, log);
  if (!rpc.ok()) return rpc.status();
  return Unary(**rpc, request);
}

}  // namespace

absl::StatusOr<flow::CaptureSpec> PrepareCapture(const Catalog& catalog, const Capture& capture,
                                                 Store& store, bool apply, const Logger& log) {
  flow::CaptureSpec last;
  auto last_version = LastApplied(store, capture.name, &last);
  if (!last_version.ok()) return last_version.status();
  std::map<std::string, flow::CollectionSpec> collections;
  for (const auto& binding : capture.bindings) {
    auto spec = CollectionSpecOf(catalog.collections.at(binding.target));
    if (!spec.ok()) return spec.status();
    collections[binding.target] = std::move(*spec);
  }
  capture::Request validate;
  *validate.mutable_validate() = CaptureValidateRequest(catalog, capture, collections);
  if (!last_version->empty()) {
    *validate.mutable_validate()->mutable_last_capture() = last;
    validate.mutable_validate()->set_last_version(*last_version);
  }
  auto validated = CaptureUnary(capture, validate, log);
  if (!validated.ok()) return validated.status();
  if (!validated->has_validated() ||
      validated->validated().bindings_size() != validate.validate().bindings_size()) {
    return absl::FailedPreconditionError(StrCat("connector ", capture.name,
                                                " answered Validate with ", KindOf(*validated),
                                                " instead of one validated binding per binding"));
  }
  auto spec = CaptureSpecOf(capture, validate.validate(), validated->validated());
  if (!spec.ok() || !apply) return spec;

  capture::Request request;
  *request.mutable_apply()->mutable_capture() = *spec;
  request.mutable_apply()->set_version(SpecVersion(*spec));
  if (!last_version->empty()) {
    *request.mutable_apply()->mutable_last_capture() = last;
    request.mutable_apply()->set_last_version(*last_version);
  }
  auto applied = CaptureUnary(capture, request, log);
  if (!applied.ok()) return applied.status();
  if (!applied->has_applied()) {
    return absl::FailedPreconditionError(
        StrCat("connector ", capture.name, " answered Apply with ", KindOf(*applied)));
  }
  if (!applied->applied().action_description().empty()) {
    log.Info("applied", {LogField::Str("task", capture.name),
                         LogField::Str("actions", applied->applied().action_description())});
  }
  if (auto status = RecordApplied(store, capture.name, *spec); !status.ok()) return status;
  return spec;
}

absl::Status RunCapture(const Catalog& catalog, const Capture& capture, Store& store,
                        runtime::StopSignal& stop, const CaptureOptions& options,
                        const Logger& log) {
  auto spec = PrepareCapture(catalog, capture, store, /*apply=*/true, log);
  if (!spec.ok()) return spec.status();

  std::vector<Binding> bindings;
  for (const auto& binding : spec->bindings()) {
    auto checker = DocumentChecker::Create(binding.collection());
    if (!checker.ok()) return checker.status();
    bindings.push_back({binding.collection().name(), std::move(*checker)});
  }
  Progress progress(capture.name, "checkpoints", log);
  const absl::Duration interval = capture.interval.value_or(kDefaultInterval);
  while (true) {
    const absl::Time started = absl::Now();
    Session session(capture, *spec, bindings, store, options, progress, log);
    if (auto status = session.Run(stop); !status.ok()) return status;
    if (options.once || stop.stopped()) return absl::OkStatus();
    const absl::Duration wait = interval - (absl::Now() - started);
    log.Info("connector exited; restarting after its interval",
             {LogField::Str("task", capture.name),
              LogField::Double("seconds", absl::ToDoubleSeconds(wait))});
    if (stop.WaitFor(std::max(wait, absl::ZeroDuration()))) return absl::OkStatus();
  }
}

}  // namespace connectors::local
