// The contract a materialization implements (see shared/design/architecture.md). A driver
// answers Spec, Validate and Apply with values and Open with a Transactor. The runtime floor
// (RunMaterializeConnector in main.h) runs Flow's transaction loop around the transactor, so
// the ordering rules of FLOW_PROTOCOL.md section 4.3 hold for every materialization:
//
//   Open -> Opened
//   per transaction: Acknowledge -> transactor.Acknowledge -> Acknowledged
//                    Load* Flush -> transactor.Load (Loaded*) -> Flushed
//                    Store* StartCommit -> transactor.Store, transactor.StartCommit
//                                         -> StartedCommit
//
// Acknowledge completes before Load is called, so loads always read committed data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/connector/logging.h"
#include "proto/materialize.pb.h"

namespace connectors::runtime {

// Yields the requests of one phase: Loads until Flush, or Stores until StartCommit.
template <class Request>
class RequestIterator {
 public:
  virtual ~RequestIterator() = default;
  // The next request of the phase, or nullptr once the phase ended. The pointee is valid
  // until the following call.
  virtual absl::StatusOr<const Request*> Next() = 0;
};

using LoadIterator = RequestIterator<::materialize::Request::Load>;
using StoreIterator = RequestIterator<::materialize::Request::Store>;
// Reports one loaded document: the binding index and the stored document.
using LoadedFn = absl::FunctionRef<absl::Status(uint32_t binding, std::string_view doc_json)>;

class Transactor {
 public:
  virtual ~Transactor() = default;
  // Consumes every Load of the transaction (until Next returns nullptr) and reports each key
  // that exists through `loaded`. Keys that don't exist are omitted.
  virtual absl::Status Load(LoadIterator& loads, LoadedFn loaded) = 0;
  // Consumes every Store of the transaction.
  virtual absl::Status Store(StoreIterator& stores) = 0;
  // Begins committing the stored documents together with `runtime_checkpoint` (for endpoints
  // that are authoritative). Returns a state update that commits atomically with the
  // runtime's checkpoint, if any.
  virtual absl::StatusOr<std::optional<flow::ConnectorState>> StartCommit(
      const consumer::Checkpoint& runtime_checkpoint) = 0;
  // The runtime durably committed the previous transaction; finish this connector's side of
  // it (e.g. apply staged work idempotently). Returns a best-effort state update, if any.
  virtual absl::StatusOr<std::optional<flow::ConnectorState>> Acknowledge() = 0;
};

struct OpenedTransactor {
  std::unique_ptr<Transactor> transactor;
  ::materialize::Response::Opened opened;
};

class MaterializeDriver {
 public:
  virtual ~MaterializeDriver() = default;
  // Schemas and documentation URL. The runtime sets the protocol version and validates every
  // endpoint and resource config against these schemas.
  virtual ::materialize::Response::Spec Spec() const = 0;
  virtual absl::StatusOr<::materialize::Response::Validated> Validate(
      const ::materialize::Request::Validate& request, const Logger& log) = 0;
  virtual absl::StatusOr<::materialize::Response::Applied> Apply(
      const ::materialize::Request::Apply& request, const Logger& log) = 0;
  virtual absl::StatusOr<OpenedTransactor> Open(const ::materialize::Request::Open& request,
                                                const Logger& log) = 0;
};

}  // namespace connectors::runtime
