#include "libs/sqlcapture/capture.h"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"

namespace connectors::sqlcapture {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Binding phases as persisted ("mode" in the state).
enum class Phase { kPrecise, kNormal, kKeyless, kActive };

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPrecise:
      return "Backfill";
    case Phase::kNormal:
      return "UnfilteredBackfill";
    case Phase::kKeyless:
      return "KeylessBackfill";
    case Phase::kActive:
      return "Active";
  }
  return "Active";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase p : {Phase::kPrecise, Phase::kNormal, Phase::kKeyless, Phase::kActive}) {
    if (PhaseName(p) == name) return p;
  }
  return std::nullopt;
}

BackfillMode ScanModeOf(Phase phase) {
  switch (phase) {
    case Phase::kPrecise:
      return BackfillMode::kPrecise;
    case Phase::kKeyless:
      return BackfillMode::kKeyless;
    default:
      return BackfillMode::kNormal;
  }
}

struct BindingState {
  BindingSpec spec;
  Phase phase = Phase::kActive;
  std::string scanned;  // Scan cursor (packed key or physical position); empty = start.
  int64_t backfilled = 0;
  bool dirty = true;
};

Phase InitialPhase(const BindingSpec& spec, const TableSpec& table) {
  switch (spec.mode) {
    case BackfillMode::kOnlyChanges:
      return Phase::kActive;
    case BackfillMode::kKeyless:
      return Phase::kKeyless;
    case BackfillMode::kPrecise:
      return table.keyed ? Phase::kPrecise : Phase::kKeyless;
    case BackfillMode::kNormal:
      return table.keyed ? Phase::kNormal : Phase::kKeyless;
    case BackfillMode::kAutomatic:
      if (!table.keyed) return Phase::kKeyless;
      return table.bytewise_key_order ? Phase::kPrecise : Phase::kNormal;
  }
  return Phase::kActive;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0)
    return absl::InvalidArgumentError("base64 length is not a multiple of 4");
  std::string out;
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      v[j] = value(c);
      if (v[j] < 0 || pad > 0) return absl::InvalidArgumentError("invalid base64");
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += char(n >> 16);
    if (pad < 2) out += char((n >> 8) & 255);
    if (pad < 1) out += char(n & 255);
  }
  return out;
}

struct Engine::Impl {
  std::unique_ptr<Database> db;
  std::vector<TableSpec> tables;
  std::vector<BindingState> bindings;
  std::vector<int> binding_of_table;  // Table index -> bindings index, -1 if none.
  std::optional<uint64_t> cursor;     // Resume position; nullopt for a new capture.
  EngineOptions options;

  runtime::CaptureSession* session = nullptr;
  std::unique_ptr<ReplicationStream> stream;
  uint64_t checkpoints = 0;
  std::deque<std::pair<uint64_t, uint64_t>> unacked;  // (checkpoint number, cursor)
  uint64_t checkpointed_cursor = 0;
  bool docs_since_checkpoint = false;
  bool in_transaction = false;
  std::string doc;  // Reused document buffer.

  absl::Status LoadState(std::string_view state_json);
  absl::Status Emit(const BindingState& b, std::string_view op, const Row& row, const Row* before,
                    const ChangeEvent* event, int64_t backfill_index);
  absl::Status HandleChange(const ChangeEvent& event);
  absl::Status Checkpoint(bool full);
  void ProcessAcks();
  absl::Status WaitForRoom();
  absl::Status StreamFor(absl::Duration duration);
  absl::Status StreamToFence(uint64_t fence);
  absl::Status BackfillChunk(BindingState& b);
  BindingState* NextBackfill();
  absl::Status Run(runtime::CaptureSession& session);
};

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(std::unique_ptr<Database> db,
                                                       std::vector<TableSpec> tables,
                                                       std::vector<BindingSpec> bindings,
                                                       std::string_view state_json,
                                                       EngineOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(db);
  impl->tables = std::move(tables);
  impl->options = std::move(options);
  if (impl->options.chunk_size <= 0) impl->options.chunk_size = 50000;
  impl->binding_of_table.assign(impl->tables.size(), -1);
  for (BindingSpec& spec : bindings) {
    if (spec.table < 0 || spec.table >= static_cast<int>(impl->tables.size())) {
      return absl::InternalError("binding refers to an unknown table");
    }
    impl->binding_of_table[spec.table] = static_cast<int>(impl->bindings.size());
    BindingState state;
    state.spec = std::move(spec);
    impl->bindings.push_back(std::move(state));
  }
  if (auto status = impl->LoadState(state_json); !status.ok()) return status;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::Status Engine::Run(runtime::CaptureSession& session) { return impl_->Run(session); }

absl::Status Engine::Impl::LoadState(std::string_view state_json) {
  json::Parser parser;
  if (state_json.empty()) state_json = "{}";
  auto root = parser.Parse(state_json);
  if (!root.ok()) return root.status();
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(StrCat("connector state: ", what));
  };
  std::string_view cursor_text;
  auto cursor_el = (*root)["cursor"];
  if (cursor_el.error() == simdjson::SUCCESS && !cursor_el.is_null()) {
    if (cursor_el.get(cursor_text) != simdjson::SUCCESS) return bad("cursor is not a string");
    auto position = db->ParsePosition(cursor_text);
    if (!position.ok()) return bad(StrCat("cursor: ", MessageOf(position.status())));
    cursor = *position;
  }
  simdjson::dom::object states;
  const bool have_states = (*root)["bindingStateV1"].get(states) == simdjson::SUCCESS;
  for (BindingState& b : bindings) {
    b.phase = InitialPhase(b.spec, tables[b.spec.table]);
    b.dirty = true;
    // Without a cursor nothing was ever committed: every binding starts over.
    if (!cursor.has_value() || !have_states) continue;
    simdjson::dom::object s;
    if (states[b.spec.state_key].get(s) != simdjson::SUCCESS) continue;  // New binding.
    std::string_view mode;
    if (s["mode"].get(mode) != simdjson::SUCCESS) return bad("binding state has no mode");
    auto phase = ParsePhase(mode);
    if (!phase) return bad(StrCat("unknown binding mode \"", mode, "\""));
    b.phase = *phase;
    std::string_view scanned;
    if (s["scanned"].get(scanned) == simdjson::SUCCESS) {
      auto bytes = Base64Decode(scanned);
      if (!bytes.ok()) return bad("binding scan cursor is not base64");
      b.scanned = std::move(*bytes);
    }
    int64_t backfilled = 0;
    if (s["backfilled"].get(backfilled) == simdjson::SUCCESS) b.backfilled = backfilled;
    b.dirty = false;
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Emit(const BindingState& b, std::string_view op, const Row& row,
                                const Row* before, const ChangeEvent* event,
                                int64_t backfill_index) {
  const TableSpec& table = tables[b.spec.table];
  doc.clear();
  json::Writer w(&doc);
  w.BeginObject().Key("_meta").BeginObject();
  w.Key("op").String(op);
  w.Key("source").BeginObject();
  if (event != nullptr && event->ts_ms != 0) w.Key("ts_ms").Int(event->ts_ms);
  w.Key("schema").String(table.schema);
  if (event == nullptr) w.Key("snapshot").Bool(true);
  w.Key("table").String(table.table);
  w.Key("loc").BeginArray();
  if (event == nullptr) {
    w.Int(-1).Int(backfill_index).Int(0);
  } else {
    w.Uint(event->previous_end).Uint(event->lsn).Uint(event->commit_lsn);
  }
  w.EndArray();
  if (event != nullptr && event->txid != 0) w.Key("txid").Uint(event->txid);
  if (!options.source_tag.empty()) w.Key("tag").String(options.source_tag);
  w.EndObject();
  if (before != nullptr) {
    w.Key("before").Raw(StrCat("{", before->fields, "}"));
  }
  w.EndObject();
  // Column members follow `_meta`; the writer's comma state is bypassed, so add it by hand.
  if (!row.fields.empty()) {
    doc += ',';
    doc += row.fields;
  }
  doc += '}';
  docs_since_checkpoint = true;
  return session->output().Document(b.spec.index, doc);
}

absl::Status Engine::Impl::HandleChange(const ChangeEvent& event) {
  if (event.table < 0 || event.table >= static_cast<int>(binding_of_table.size())) {
    return absl::OkStatus();
  }
  const int bi = binding_of_table[event.table];
  if (bi < 0) return absl::OkStatus();
  const BindingState& b = bindings[bi];
  // Precise backfills drop changes to rows the scan has not reached: it will read them.
  auto visible = [&](const std::string& key) {
    if (b.phase != Phase::kPrecise) return true;
    return !b.scanned.empty() && key <= b.scanned;
  };
  switch (event.kind) {
    case ChangeEvent::Kind::kInsert:
      if (!visible(event.row.key)) return absl::OkStatus();
      return Emit(b, "c", event.row, nullptr, &event, 0);
    case ChangeEvent::Kind::kDelete:
      if (!visible(event.row.key)) return absl::OkStatus();
      return Emit(b, "d", event.row, nullptr, &event, 0);
    case ChangeEvent::Kind::kUpdate: {
      const Row* before = event.before.has_value() ? &*event.before : nullptr;
      if (before != nullptr && !before->key.empty() && before->key != event.row.key) {
        // A key change moves the document: delete the old key, create the new one.
        if (visible(before->key)) {
          if (auto s = Emit(b, "d", *before, nullptr, &event, 0); !s.ok()) return s;
        }
        if (!visible(event.row.key)) return absl::OkStatus();
        return Emit(b, "c", event.row, before, &event, 0);
      }
      if (!visible(event.row.key)) return absl::OkStatus();
      return Emit(b, "u", event.row, before, &event, 0);
    }
    case ChangeEvent::Kind::kCommit:
      break;
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Checkpoint(bool full) {
  std::string state;
  json::Writer w(&state);
  w.BeginObject();
  w.Key("cursor").String(db->FormatPosition(*cursor));
  w.Key("bindingStateV1").BeginObject();
  for (BindingState& b : bindings) {
    if (!full && !b.dirty) continue;
    w.Key(b.spec.state_key).BeginObject();
    w.Key("mode").String(PhaseName(b.phase));
    w.Key("scanned");
    if (b.scanned.empty()) {
      w.Null();
    } else {
      w.String(Base64Encode(b.scanned));
    }
    w.Key("backfilled").Int(b.backfilled);
    w.EndObject();
    b.dirty = false;
  }
  w.EndObject().EndObject();
  if (auto s = session->output().Checkpoint(state, /*merge_patch=*/!full); !s.ok()) return s;
  ++checkpoints;
  unacked.emplace_back(checkpoints, *cursor);
  checkpointed_cursor = *cursor;
  docs_since_checkpoint = false;
  return absl::OkStatus();
}

void Engine::Impl::ProcessAcks() {
  const uint64_t acked = session->acknowledged();
  std::optional<uint64_t> confirmed;
  while (!unacked.empty() && unacked.front().first <= acked) {
    confirmed = unacked.front().second;
    unacked.pop_front();
  }
  if (confirmed.has_value() && stream != nullptr) stream->Acknowledge(*confirmed);
}

absl::Status Engine::Impl::WaitForRoom() {
  while (checkpoints > session->acknowledged() + options.max_unacknowledged) {
    if (session->WaitForAcknowledged(checkpoints - options.max_unacknowledged,
                                     absl::Milliseconds(200))) {
      break;
    }
    if (session->stopping()) break;
  }
  ProcessAcks();
  return absl::OkStatus();
}

absl::Status Engine::Impl::StreamFor(absl::Duration duration) {
  const absl::Time deadline = absl::Now() + duration;
  while (true) {
    ProcessAcks();
    const absl::Time now = absl::Now();
    if (!in_transaction && (now >= deadline || session->stopping())) break;
    const absl::Duration wait =
        in_transaction ? absl::Seconds(1) : std::min(deadline - now, absl::Milliseconds(200));
    auto event = stream->Next(wait);
    if (!event.ok()) return event.status();
    if (!event->has_value()) {
      // Quiet: commit what was received (e.g. commits of tables not captured move the cursor).
      if (!in_transaction && cursor.has_value() && *cursor != checkpointed_cursor) {
        if (auto s = Checkpoint(false); !s.ok()) return s;
      }
      continue;
    }
    const ChangeEvent& e = **event;
    if (e.kind == ChangeEvent::Kind::kCommit) {
      in_transaction = false;
      cursor = e.end_lsn;
      if (docs_since_checkpoint) {
        if (auto s = Checkpoint(false); !s.ok()) return s;
        if (auto s = WaitForRoom(); !s.ok()) return s;
      }
      continue;
    }
    in_transaction = true;
    if (auto s = HandleChange(e); !s.ok()) return s;
  }
  if (cursor.has_value() && *cursor != checkpointed_cursor) return Checkpoint(false);
  return absl::OkStatus();
}

absl::Status Engine::Impl::StreamToFence(uint64_t fence) {
  const absl::Time deadline = absl::Now() + options.fence_timeout;
  while (true) {
    ProcessAcks();
    if (!in_transaction && cursor.has_value() && *cursor >= fence) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(StrCat("the replication stream did not reach position ",
                                                db->FormatPosition(fence), " within ",
                                                absl::FormatDuration(options.fence_timeout),
                                                "; is the watermarks table in the publication?"));
    }
    auto event = stream->Next(absl::Milliseconds(200));
    if (!event.ok()) return event.status();
    if (!event->has_value()) continue;
    const ChangeEvent& e = **event;
    if (e.kind == ChangeEvent::Kind::kCommit) {
      in_transaction = false;
      cursor = e.end_lsn;
      continue;
    }
    in_transaction = true;
    if (auto s = HandleChange(e); !s.ok()) return s;
  }
}

BindingState* Engine::Impl::NextBackfill() {
  BindingState* best = nullptr;
  for (BindingState& b : bindings) {
    if (b.phase == Phase::kActive) continue;
    if (best == nullptr || b.spec.priority > best->spec.priority) best = &b;
  }
  return best;
}

absl::Status Engine::Impl::BackfillChunk(BindingState& b) {
  int64_t n = 0;
  std::string last_key;
  const bool precise = b.phase == Phase::kPrecise;
  auto result = db->ScanChunk(
      b.spec.table, ScanModeOf(b.phase), b.scanned, options.chunk_size, [&](Row& row) {
        if (precise && !last_key.empty() && row.key <= last_key) {
          return absl::InternalError(
              StrCat("scan key ordering failure in table \"", tables[b.spec.table].schema, ".",
                     tables[b.spec.table].table,
                     "\": keys arrived out of order; use the Normal backfill mode"));
        }
        if (precise) last_key = row.key;
        ++n;
        return Emit(b, "c", row, nullptr, nullptr, b.backfilled + n - 1);
      });
  if (!result.ok()) return result.status();
  b.backfilled += n;
  b.dirty = true;
  if (result->done) {
    b.phase = Phase::kActive;
    b.scanned.clear();
    session->log().Info("backfill complete",
                        {LogField::Str("table", StrCat(tables[b.spec.table].schema, ".",
                                                       tables[b.spec.table].table)),
                         LogField::Int("rows", b.backfilled)});
  } else {
    b.scanned = std::move(result->resume_at);
  }
  return absl::OkStatus();
}

absl::Status Engine::Impl::Run(runtime::CaptureSession& s) {
  session = &s;
  auto started = db->StartReplication(cursor);
  if (!started.ok()) return started.status();
  stream = std::move(*started);
  if (!cursor.has_value()) cursor = stream->start_position();
  // The first checkpoint replaces the state: removed bindings disappear from it.
  if (auto st = Checkpoint(/*full=*/true); !st.ok()) return st;

  while (!session->stopping()) {
    if (auto st = WaitForRoom(); !st.ok()) return st;
    if (session->stopping()) break;
    BindingState* b = NextBackfill();
    if (b == nullptr) {
      if (auto st = StreamFor(absl::Seconds(1)); !st.ok()) return st;
      continue;
    }
    if (auto st = BackfillChunk(*b); !st.ok()) return st;
    auto fence = db->CurrentPosition();
    if (!fence.ok()) return fence.status();
    if (auto st = db->WriteWatermark(); !st.ok()) return st;
    if (auto st = StreamToFence(*fence); !st.ok()) return st;
    if (auto st = Checkpoint(false); !st.ok()) return st;
  }
  // Stopping: finish an open transaction and commit what was emitted.
  if (in_transaction || docs_since_checkpoint ||
      (cursor.has_value() && *cursor != checkpointed_cursor)) {
    return StreamFor(absl::ZeroDuration());
  }
  return absl::OkStatus();
}

}  // namespace connectors::sqlcapture
