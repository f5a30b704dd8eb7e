#include "tests/runtime/materialize_runner.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "libs/base/strings.h"
#include "libs/connector/message_kind.h"
#include "libs/json/merge_patch.h"
#include "libs/json/parse.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple_json.h"
#include "tests/runtime/connector.h"
#include "tests/runtime/documents.h"
#include "tests/runtime/progress.h"
#include "tests/runtime/specs.h"

namespace connectors::local {
namespace {

using materialize::Request;
using materialize::Response;

std::string KindOf(const google::protobuf::Message& m) {
  auto kind = runtime::SingleKind(m);
  return kind.ok() ? std::string(*kind) : "an empty message";
}

// A binding as the loop needs it: where it reads and how to pack its fields.
struct Source {
  std::string collection;
  std::string journal;  // "<collection>;<read suffix>", the key of its read offset.
  std::vector<std::string> key_ptrs;
  std::vector<std::string> key_fields_ptrs;
  std::vector<std::string> value_ptrs;
  bool has_document = false;
  bool delta_updates = false;
  uint64_t offset = 0;
};

struct Reduced {
  std::string doc;
  bool is_delete = false;
};

// Persisted task state: {"offsets":{journal:offset},"connectorState":{...}}.
struct TaskState {
  std::map<std::string, uint64_t> offsets;
  std::string connector_state = "{}";

  static absl::StatusOr<TaskState> Parse(std::string_view text) {
    TaskState state;
    if (text.empty()) return state;
    json::Parser parser;
    auto root = parser.Parse(text);
    if (!root.ok()) return root.status();
    simdjson::dom::object offsets;
    if ((*root)["offsets"].get(offsets) == simdjson::SUCCESS) {
      for (auto [journal, offset] : offsets) {
        uint64_t value = 0;
        if (offset.get(value) == simdjson::SUCCESS) state.offsets[std::string(journal)] = value;
      }
    }
    simdjson::dom::element connector;
    if ((*root)["connectorState"].get(connector) == simdjson::SUCCESS) {
      state.connector_state = json::ToJson(connector);
    }
    return state;
  }

  std::string ToJson() const {
    std::string out;
    json::Writer w(&out);
    w.BeginObject().Key("offsets").BeginObject();
    for (const auto& [journal, offset] : offsets) w.Key(journal).Uint(offset);
    w.EndObject().Key("connectorState").Raw(connector_state).EndObject();
    return out;
  }
};

absl::Status ApplyState(const flow::ConnectorState& update, std::string* state) {
  if (!update.merge_patch()) {
    *state = update.updated_json().empty() ? "{}" : update.updated_json();
    return absl::OkStatus();
  }
  auto merged = json::ApplyMergePatch(*state, update.updated_json());
  if (!merged.ok()) return merged.status();
  *state = std::move(*merged);
  return absl::OkStatus();
}

class Transactions {
 public:
  Transactions(const Materialization& materialization, std::vector<Source> sources, Store& store,
               MaterializeRpc& rpc, TaskState state, const MaterializeOptions& options,
               Progress& progress, const Logger& log)
      : name_(materialization.name),
        sources_(std::move(sources)),
        store_(store),
        rpc_(rpc),
        state_(std::move(state)),
        options_(options),
        progress_(progress),
        log_(log) {}

  absl::Status Run(runtime::StopSignal& stop) {
    while (true) {
      Request ack;
      ack.mutable_acknowledge();
      if (auto status = rpc_.Send(ack); !status.ok()) return status;
      awaiting_acknowledged_ = true;
      bool has_data = WaitForData(stop);
      if (!has_data) {
        // Between transactions: finish the acknowledgement, then end the session.
        if (auto status = ReceiveAcknowledged(); !status.ok()) return status;
        rpc_.CloseSend();
        return absl::OkStatus();
      }
      if (auto status = Transaction(); !status.ok()) return status;
    }
  }

 private:
  uint64_t Backlog() const {
    uint64_t backlog = 0;
    for (const auto& source : sources_) {
      backlog += store_.CommittedLength(source.collection) - source.offset;
    }
    return backlog;
  }

  // True once some source has unread documents; false on stop, or when caught up in
  // until_caught_up mode.
  bool WaitForData(runtime::StopSignal& stop) {
    while (true) {
      if (stop.stopped()) return false;
      progress_.SetBacklogBytes(Backlog());
      if (Backlog() > 0) return true;
      if (options_.until_caught_up) return false;
      store_.WaitForGrowth(sources_[0].collection, sources_[0].offset, absl::Milliseconds(200));
    }
  }

  absl::Status ReceiveAcknowledged() {
    if (!awaiting_acknowledged_) return absl::OkStatus();
    Response response;
    auto more = rpc_.Receive(&response);
    if (!more.ok()) return more.status();
    if (!*more) return Unexpected("Acknowledged", "end of output");
    if (!response.has_acknowledged()) return Unexpected("Acknowledged", KindOf(response));
    awaiting_acknowledged_ = false;
    if (response.acknowledged().has_state()) {
      return ApplyState(response.acknowledged().state(), &state_.connector_state);
    }
    return absl::OkStatus();
  }

  absl::Status Unexpected(std::string_view expected, std::string_view got) {
    return absl::FailedPreconditionError(
        StrCat("connector ", name_, " protocol error (expected ", expected, "): got ", got));
  }

  // Reads and reduces up to the transaction budget: last write per key wins.
  absl::StatusOr<std::map<std::pair<uint32_t, std::string>, Reduced>> ReadBatch(
      std::vector<uint64_t>& next_offsets, uint64_t& documents, uint64_t& bytes) {
    std::map<std::pair<uint32_t, std::string>, Reduced> batch;
    json::Parser parser;
    size_t budget = options_.max_transaction_bytes;
    for (uint32_t b = 0; b < sources_.size() && budget > 0; ++b) {
      const Source& source = sources_[b];
      auto entries = store_.ReadJournal(source.collection, source.offset, budget);
      if (!entries.ok()) return entries.status();
      for (const auto& entry : *entries) {
        auto doc = parser.Parse(entry.doc);
        if (!doc.ok()) return doc.status();
        auto key = PackKey(*doc, source.key_ptrs);
        if (!key.ok()) return key.status();
        std::string_view op;
        const bool is_delete = (*doc)["_meta"]["op"].get(op) == simdjson::SUCCESS && op == "d";
        batch[{b, std::move(*key)}] = Reduced{entry.doc, is_delete};
        next_offsets[b] = entry.end_offset;
        ++documents;
        bytes += entry.doc.size();
        budget -= std::min(budget, entry.doc.size() + 1);
      }
    }
    return batch;
  }

  absl::Status Transaction() {
    std::vector<uint64_t> next_offsets;
    for (const auto& s : sources_) next_offsets.push_back(s.offset);
    uint64_t documents = 0, bytes = 0;
    auto batch = ReadBatch(next_offsets, documents, bytes);
    if (!batch.ok()) return batch.status();

    auto loaded = LoadPhase(*batch);
    if (!loaded.ok()) return loaded.status();
    if (auto status = StorePhase(*batch, *loaded); !status.ok()) return status;

    Request start;
    auto* checkpoint = start.mutable_start_commit()->mutable_runtime_checkpoint();
    for (uint32_t b = 0; b < sources_.size(); ++b) {
      (*checkpoint->mutable_sources())[sources_[b].journal].set_read_through(
          static_cast<int64_t>(next_offsets[b]));
    }
    if (auto status = rpc_.Send(start); !status.ok()) return status;
    Response response;
    auto more = rpc_.Receive(&response);
    if (!more.ok()) return more.status();
    if (!*more) return Unexpected("StartedCommit", "end of output");
    if (!response.has_started_commit()) return Unexpected("StartedCommit", KindOf(response));
    if (response.started_commit().has_state()) {
      if (auto s = ApplyState(response.started_commit().state(), &state_.connector_state);
          !s.ok()) {
        return s;
      }
    }
    // The connector has started its commit: now our checkpoint may advance.
    for (uint32_t b = 0; b < sources_.size(); ++b) {
      sources_[b].offset = next_offsets[b];
      state_.offsets[sources_[b].journal] = next_offsets[b];
    }
    Store::Transaction txn = store_.Begin();
    txn.SetTaskState(name_, state_.ToJson());
    if (auto status = txn.Commit(); !status.ok()) return status;
    progress_.AddDocuments(documents, bytes);
    progress_.AddCommit();
    return absl::OkStatus();
  }

  // Sends Loads and Flush from a second thread while this one reads Acknowledged and Loaded:
  // a connector may answer loads while later ones are still being written.
  absl::StatusOr<std::map<std::pair<uint32_t, std::string>, std::string>> LoadPhase(
      const std::map<std::pair<uint32_t, std::string>, Reduced>& batch) {
    std::mutex mu;
    std::condition_variable cv;
    bool acknowledged = false;
    bool abort = false;
    absl::Status send_status;
    std::thread sender([&] {
      Request load;
      for (const auto& [key, reduced] : batch) {
        if (sources_[key.first].delta_updates) continue;
        load.mutable_load()->set_binding(key.first);
        load.mutable_load()->set_key_packed(key.second);
        if (send_status = rpc_.Send(load); !send_status.ok()) return;
      }
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return acknowledged || abort; });
      if (abort) return;
      Request flush;
      flush.mutable_flush();
      send_status = rpc_.Send(flush);
    });
    auto loaded = ReceiveLoads(mu, cv, acknowledged);
    {
      std::lock_guard<std::mutex> lock(mu);
      abort = true;
    }
    cv.notify_all();
    sender.join();
    if (!loaded.ok()) return loaded.status();
    if (!send_status.ok()) return send_status;
    return loaded;
  }

  absl::StatusOr<std::map<std::pair<uint32_t, std::string>, std::string>> ReceiveLoads(
      std::mutex& mu, std::condition_variable& cv, bool& acknowledged) {
    if (auto status = ReceiveAcknowledged(); !status.ok()) return status;
    {
      std::lock_guard<std::mutex> lock(mu);
      acknowledged = true;
    }
    cv.notify_all();
    std::map<std::pair<uint32_t, std::string>, std::string> loaded;
    json::Parser parser;
    Response response;
    while (true) {
      auto more = rpc_.Receive(&response);
      if (!more.ok()) return more.status();
      if (!*more) return Unexpected("Loaded or Flushed", "end of output");
      if (response.has_flushed()) break;
      if (!response.has_loaded()) return Unexpected("Loaded or Flushed", KindOf(response));
      const uint32_t binding = response.loaded().binding();
      if (binding >= sources_.size()) {
        return absl::FailedPreconditionError(
            StrCat("connector ", name_, " loaded a document for binding ", binding));
      }
      auto doc = parser.Parse(response.loaded().doc_json());
      if (!doc.ok()) return doc.status();
      auto key = PackKey(*doc, sources_[binding].key_ptrs);
      if (!key.ok()) return key.status();
      loaded[{binding, std::move(*key)}] = response.loaded().doc_json();
    }
    if (response.flushed().has_state()) {
      if (auto s = ApplyState(response.flushed().state(), &state_.connector_state); !s.ok()) {
        return s;
      }
      Store::Transaction txn = store_.Begin();
      txn.SetTaskState(name_, state_.ToJson());
      if (auto status = txn.Commit(); !status.ok()) return status;
    }
    return loaded;
  }

  absl::Status StorePhase(const std::map<std::pair<uint32_t, std::string>, Reduced>& batch,
                          const std::map<std::pair<uint32_t, std::string>, std::string>& loaded) {
    json::Parser parser;
    Request request;
    for (const auto& [key, reduced] : batch) {
      const Source& source = sources_[key.first];
      const bool exists = !source.delta_updates && loaded.contains(key);
      if (reduced.is_delete && !exists && !source.delta_updates) continue;  // Nothing to delete.
      auto doc = parser.Parse(reduced.doc);
      if (!doc.ok()) return doc.status();
      auto* store = request.mutable_store();
      store->Clear();
      store->set_binding(key.first);
      store->set_key_packed(key.second);
      if (auto s = PackFields(*doc, source.key_fields_ptrs, store->mutable_key_json(), nullptr);
          !s.ok()) {
        return s;
      }
      if (auto s = PackFields(*doc, source.value_ptrs, store->mutable_values_json(),
                              store->mutable_values_packed());
          !s.ok()) {
        return s;
      }
      if (source.has_document) store->set_doc_json(reduced.doc);
      store->set_exists(exists);
      store->set_delete_(reduced.is_delete && !source.delta_updates);
      if (auto status = rpc_.Send(request); !status.ok()) return status;
    }
    return absl::OkStatus();
  }

  // The JSON array and packed tuple of the values at `ptrs` (missing locations are null).
  static absl::Status PackFields(const simdjson::dom::element& doc,
                                 const std::vector<std::string>& ptrs, std::string* json_array,
                                 std::string* packed) {
    json::Writer w(json_array);
    w.BeginArray();
    for (const auto& ptr : ptrs) {
      auto pointer = json::Pointer::Parse(ptr);
      if (!pointer.ok()) return pointer.status();
      auto value = json::Lookup(doc, *pointer);
      if (!value.has_value()) {
        w.Null();
        if (packed != nullptr) packed->push_back('\0');
        continue;
      }
      json::WriteElement(*value, w, /*sort_keys=*/false);
      if (packed != nullptr) {
        if (auto s = tuple::AppendJson(*value, packed); !s.ok()) return s;
      }
    }
    w.EndArray();
    return absl::OkStatus();
  }

  const std::string name_;
  std::vector<Source> sources_;
  Store& store_;
  MaterializeRpc& rpc_;
  TaskState state_;
  const MaterializeOptions& options_;
  Progress& progress_;
  const Logger& log_;
  bool awaiting_acknowledged_ = false;
};

absl::StatusOr<Response> MaterializeUnary(const Materialization& materialization,
                                          const Request& request, const Logger& log) {
  auto rpc = StartMaterializeRpc(materialization.endpoint, materialization.name, log);
  if (!rpc.ok()) return rpc.status();
  return Unary(**rpc, request);
}

std::vector<Source> SourcesOf(const flow::MaterializationSpec& spec) {
  std::vector<Source> sources;
  for (const auto& binding : spec.bindings()) {
    Source source;
    source.collection = binding.collection().name();
    source.journal = StrCat(source.collection, ";", binding.journal_read_suffix());
    source.key_ptrs.assign(binding.collection().key().begin(), binding.collection().key().end());
    std::map<std::string, std::string> ptr_of;
    for (const auto& p : binding.collection().projections()) ptr_of[p.field()] = p.ptr();
    for (const auto& field : binding.field_selection().keys()) {
      source.key_fields_ptrs.push_back(ptr_of[field]);
    }
    for (const auto& field : binding.field_selection().values()) {
      source.value_ptrs.push_back(ptr_of[field]);
    }
    source.has_document = !binding.field_selection().document().empty();
    source.delta_updates = binding.delta_updates();
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace

absl::StatusOr<std::string> ConnectorStateOf(const Store& store, std::string_view materialization) {
  auto persisted = store.TaskState(materialization);
  if (!persisted.ok()) return persisted.status();
  auto state = TaskState::Parse(*persisted);
  if (!state.ok()) return state.status();
  return state->connector_state;
}

absl::StatusOr<PreparedMaterialization> PrepareMaterialization(
    const Catalog& catalog, const Materialization& materialization, Store& store, bool apply,
    std::string_view connector_state, const Logger& log) {
  flow::MaterializationSpec last;
  auto last_version = LastApplied(store, materialization.name, &last);
  if (!last_version.ok()) return last_version.status();
  std::map<std::string, flow::CollectionSpec> collections;
  for (const auto& binding : materialization.bindings) {
    auto spec = CollectionSpecOf(catalog.collections.at(binding.source));
    if (!spec.ok()) return spec.status();
    collections[binding.source] = std::move(*spec);
  }
  Request validate;
  *validate.mutable_validate() = MaterializeValidateRequest(materialization, collections);
  if (!last_version->empty()) {
    *validate.mutable_validate()->mutable_last_materialization() = last;
    validate.mutable_validate()->set_last_version(*last_version);
  }
  auto validated = MaterializeUnary(materialization, validate, log);
  if (!validated.ok()) return validated.status();
  if (!validated->has_validated() ||
      validated->validated().bindings_size() != validate.validate().bindings_size()) {
    return absl::FailedPreconditionError(StrCat("connector ", materialization.name,
                                                " answered Validate with ", KindOf(*validated),
                                                " instead of one validated binding per binding"));
  }
  auto spec = MaterializationSpecOf(materialization, validate.validate(), validated->validated());
  if (!spec.ok()) return spec.status();
  PreparedMaterialization prepared{std::move(*spec), std::nullopt};
  if (!apply) return prepared;

  Request request;
  *request.mutable_apply()->mutable_materialization() = prepared.spec;
  request.mutable_apply()->set_version(SpecVersion(prepared.spec));
  if (!last_version->empty()) {
    *request.mutable_apply()->mutable_last_materialization() = last;
    request.mutable_apply()->set_last_version(*last_version);
  }
  request.mutable_apply()->set_state_json(std::string(connector_state));
  auto applied = MaterializeUnary(materialization, request, log);
  if (!applied.ok()) return applied.status();
  if (!applied->has_applied()) {
    return absl::FailedPreconditionError(
        StrCat("connector ", materialization.name, " answered Apply with ", KindOf(*applied)));
  }
  if (!applied->applied().action_description().empty()) {
    log.Info("applied", {LogField::Str("task", materialization.name),
                         LogField::Str("actions", applied->applied().action_description())});
  }
  if (applied->applied().has_state()) prepared.applied_state = applied->applied().state();
  if (auto status = RecordApplied(store, materialization.name, prepared.spec); !status.ok()) {
    return status;
  }
  return prepared;
}

absl::Status RunMaterialization(const Catalog& catalog, const Materialization& materialization,
                                Store& store, runtime::StopSignal& stop,
                                const MaterializeOptions& options, const Logger& log) {
  auto persisted = store.TaskState(materialization.name);
  if (!persisted.ok()) return persisted.status();
  auto state = TaskState::Parse(*persisted);
  if (!state.ok()) return state.status();
  auto prepared = PrepareMaterialization(catalog, materialization, store, /*apply=*/true,
                                         state->connector_state, log);
  if (!prepared.ok()) return prepared.status();
  const flow::MaterializationSpec* spec = &prepared->spec;
  if (prepared->applied_state.has_value()) {
    if (auto s = ApplyState(*prepared->applied_state, &state->connector_state); !s.ok()) {
      return s;
    }
  }

  auto rpc = StartMaterializeRpc(materialization.endpoint, materialization.name, log);
  if (!rpc.ok()) return rpc.status();
  Request open;
  *open.mutable_open()->mutable_materialization() = *spec;
  open.mutable_open()->set_version(SpecVersion(*spec));
  open.mutable_open()->mutable_range()->set_key_end(0xFFFFFFFF);
  open.mutable_open()->mutable_range()->set_r_clock_end(0xFFFFFFFF);
  open.mutable_open()->set_state_json(state->connector_state);
  if (auto status = (*rpc)->Send(open); !status.ok()) return status;
  Response opened;
  auto more = (*rpc)->Receive(&opened);
  if (!more.ok()) return more.status();
  if (!*more || !opened.has_opened()) {
    absl::Status finished = (*rpc)->Finish();
    if (!finished.ok()) return finished;
    return absl::FailedPreconditionError(StrCat("connector ", materialization.name,
                                                " protocol error (expected Opened): got ",
                                                *more ? KindOf(opened) : "end of output"));
  }
  // An authoritative endpoint's checkpoint overrides ours (FLOW_PROTOCOL.md section 4.5).
  if (opened.opened().has_runtime_checkpoint()) {
    state->offsets.clear();
    for (const auto& [journal, source] : opened.opened().runtime_checkpoint().sources()) {
      state->offsets[journal] = static_cast<uint64_t>(source.read_through());
    }
  }
  std::vector<Source> sources = SourcesOf(*spec);
  for (auto& source : sources) source.offset = state->offsets[source.journal];

  Progress progress(materialization.name, "transactions", log);
  Transactions transactions(materialization, std::move(sources), store, **rpc, std::move(*state),
                            options, progress, log);
  absl::Status status = transactions.Run(stop);
  (*rpc)->CloseSend();
  absl::Status finished = (*rpc)->Finish();
  return finished.ok() ? status : finished;
}

}  // namespace connectors::local
