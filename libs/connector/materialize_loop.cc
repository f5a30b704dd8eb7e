#include "libs/connector/materialize_loop.h"

#include "libs/base/strings.h"
#include "libs/connector/message_kind.h"
#include "libs/connector/unary.h"

namespace connectors::runtime {
namespace {

constexpr uint32_t kProtocolVersion = 3032023;

using ::materialize::Request;
using ::materialize::Response;

absl::Status ProtocolError(std::string_view expected, const Request& got) {
  auto kind = SingleKind(got);
  return absl::FailedPreconditionError(StrCat("materialize protocol error (expected ", expected,
                                              "): got ",
                                              kind.ok() ? *kind : MessageOf(kind.status())));
}

absl::Status CheckBinding(uint32_t binding, size_t bindings, std::string_view what) {
  if (binding < bindings) return absl::OkStatus();
  return absl::FailedPreconditionError(
      StrCat(what, " names binding ", binding, " but the task has ", bindings, " bindings"));
}

absl::Status WriteAndFlush(MaterializeStream& stream, const Response& response) {
  if (auto status = stream.Write(response); !status.ok()) return status;
  return stream.Flush();
}

// Hands the transactor the Loads (until Flush) or Stores (until StartCommit) of a phase.
// `first` is a request already read for this phase.
template <class Item>
class Phase final : public RequestIterator<Item> {
 public:
  using Select = bool (*)(const Request&);
  using Get = const Item& (*)(const Request&);

  Phase(MaterializeStream& stream, Request& request, bool pending, size_t bindings, Select is_item,
        Select is_end, Get get, std::string_view expected)
      : stream_(stream),
        request_(request),
        pending_(pending),
        bindings_(bindings),
        is_item_(is_item),
        is_end_(is_end),
        get_(get),
        expected_(expected) {}

  absl::StatusOr<const Item*> Next() override {
    if (done_) return nullptr;
    if (!pending_) {
      auto more = stream_.Read(&request_, /*interruptible=*/false);
      if (!more.ok()) return more.status();
      if (!*more) {
        return absl::FailedPreconditionError(
            StrCat("unexpected end of input in a transaction (expected ", expected_, ")"));
      }
    }
    pending_ = false;
    if (is_end_(request_)) {
      done_ = true;
      return nullptr;
    }
    if (!is_item_(request_)) return ProtocolError(expected_, request_);
    const Item& item = get_(request_);
    if (auto status = CheckBinding(item.binding(), bindings_, expected_); !status.ok()) {
      return status;
    }
    return &item;
  }

  bool done() const { return done_; }

 private:
  MaterializeStream& stream_;
  Request& request_;
  bool pending_;
  const size_t bindings_;
  const Select is_item_;
  const Select is_end_;
  const Get get_;
  const std::string_view expected_;
  bool done_ = false;
};

class Transactions {
 public:
  Transactions(MaterializeStream& stream, Transactor& transactor, size_t bindings)
      : stream_(stream), transactor_(transactor), bindings_(bindings) {}

  // Runs transactions until input ends or stop is requested between transactions.
  absl::Status Run() {
    while (true) {
      auto more = stream_.Read(&request_, /*interruptible=*/true);
      if (absl::IsCancelled(more.status())) return absl::OkStatus();
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      if (!request_.has_acknowledge()) return ProtocolError("Acknowledge", request_);
      if (auto status = Acknowledge(); !status.ok()) return status;

      // The runtime ends a session by closing input here, after an Acknowledge.
      more = stream_.Read(&request_, /*interruptible=*/true);
      if (absl::IsCancelled(more.status())) return absl::OkStatus();
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      if (auto status = LoadAndFlush(); !status.ok()) return status;
      if (auto status = StoreAndCommit(); !status.ok()) return status;
    }
  }

 private:
  absl::Status Acknowledge() {
    auto state = transactor_.Acknowledge();
    if (!state.ok()) return state.status();
    Response response;
    auto* acknowledged = response.mutable_acknowledged();
    if (state->has_value()) *acknowledged->mutable_state() = std::move(**state);
    return WriteAndFlush(stream_, response);
  }

  absl::Status LoadAndFlush() {
    Phase<Request::Load> loads(
        stream_, request_, /*pending=*/true, bindings_,
        [](const Request& r) { return r.has_load(); },
        [](const Request& r) { return r.has_flush(); },
        [](const Request& r) -> const Request::Load& { return r.load(); }, "Load or Flush");
    Response loaded;
    auto status = transactor_.Load(loads, [&](uint32_t binding, std::string_view doc) {
      if (auto s = CheckBinding(binding, bindings_, "Loaded"); !s.ok()) return s;
      loaded.mutable_loaded()->set_binding(binding);
      loaded.mutable_loaded()->set_doc_json(std::string(doc));
      return stream_.Write(loaded);
    });
    if (!status.ok()) return status;
    if (!loads.done()) {
      return absl::InternalError("the connector finished loading before reading every Load");
    }
    Response flushed;
    flushed.mutable_flushed();
    return WriteAndFlush(stream_, flushed);
  }

  absl::Status StoreAndCommit() {
    Phase<Request::Store> stores(
        stream_, request_, /*pending=*/false, bindings_,
        [](const Request& r) { return r.has_store(); },
        [](const Request& r) { return r.has_start_commit(); },
        [](const Request& r) -> const Request::Store& { return r.store(); },
        "Store or StartCommit");
    if (auto status = transactor_.Store(stores); !status.ok()) return status;
    if (!stores.done()) {
      return absl::InternalError("the connector finished storing before reading every Store");
    }
    auto state = transactor_.StartCommit(request_.start_commit().runtime_checkpoint());
    if (!state.ok()) return state.status();
    Response response;
    auto* started = response.mutable_started_commit();
    if (state->has_value()) *started->mutable_state() = std::move(**state);
    return WriteAndFlush(stream_, response);
  }

  MaterializeStream& stream_;
  Transactor& transactor_;
  const size_t bindings_;
  Request request_;
};

absl::Status RunSession(MaterializeDriver& driver, const ConfigCheck& configs,
                        MaterializeStream& stream, const Logger& log, const Request::Open& open) {
  if (auto status =
          configs.All(open.materialization().config_json(), open.materialization().bindings());
      !status.ok())
    return status;
  auto opened = driver.Open(open, log);
  if (!opened.ok()) return opened.status();
  Response response;
  *response.mutable_opened() = std::move(opened->opened);
  if (auto status = WriteAndFlush(stream, response); !status.ok()) return status;
  Transactions transactions(stream, *opened->transactor, open.materialization().bindings_size());
  return transactions.Run();
}

}  // namespace

absl::Status ServeMaterialize(MaterializeDriver& driver, const ConfigCheck& configs,
                              MaterializeStream& stream, const Logger& log) {
  Request request;
  auto more = stream.Read(&request, /*interruptible=*/true);
  if (absl::IsCancelled(more.status())) return absl::OkStatus();
  if (!more.ok()) return more.status();
  if (!*more) return absl::OkStatus();
  if (auto kind = SingleKind(request); !kind.ok()) return kind.status();

  Response response;
  if (request.has_spec()) {
    *response.mutable_spec() = driver.Spec();
    response.mutable_spec()->set_protocol(kProtocolVersion);
  } else if (request.has_validate()) {
    auto validated = CheckedValidate(driver, configs, request.validate(), log);
    if (!validated.ok()) return validated.status();
    *response.mutable_validated() = std::move(*validated);
  } else if (request.has_apply()) {
    auto applied =
        CheckedApply(driver, configs, request.apply(), request.apply().materialization(), log);
    if (!applied.ok()) return applied.status();
    *response.mutable_applied() = std::move(*applied);
  } else if (request.has_open()) {
    return RunSession(driver, configs, stream, log, request.open());
  } else {
    return ProtocolError("Spec, Validate, Apply or Open", request);
  }
  return WriteAndFlush(stream, response);
}

}  // namespace connectors::runtime
