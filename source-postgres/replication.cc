#include "source-postgres/replication.h"

#include <poll.h>

#include <algorithm>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors::postgres {
namespace {

constexpr int64_t kPgEpochMicros = 946684800LL * 1000000;  // 2000-01-01 in Unix micros.

uint64_t ReadU(std::string_view& s, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  s.remove_prefix(bytes);
  return v;
}

bool Has(std::string_view s, size_t n) { return s.size() >= n; }

std::string_view ReadCString(std::string_view& s) {
  const size_t end = s.find('\0');
  std::string_view out = s.substr(0, end);
  s.remove_prefix(end == std::string_view::npos ? s.size() : end + 1);
  return out;
}

void PutU64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) *out += static_cast<char>((v >> (8 * i)) & 0xff);
}

absl::Status Malformed(std::string_view what) {
  return absl::DataLossError(StrCat("malformed pgoutput message: ", what));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgReplicationStream>> PgReplicationStream::Start(
    const Config& config, const ConnectParams& params, uint64_t start,
    const std::vector<Table>* tables, const Logger* log, absl::Duration status_interval) {
  auto conn = Conn::Connect(params);
  if (!conn.ok()) return conn.status();
  const std::string sql = StrCat("START_REPLICATION SLOT ", QuoteIdent(config.slot), " LOGICAL ",
                                 FormatLsn(start), " (proto_version '1', publication_names ",
                                 QuoteLiteral(QuoteIdent(config.publication)), ")");
  ResultPtr res(PQexec(conn->get(), sql.c_str()));
  if (!res || PQresultStatus(res.get()) != PGRES_COPY_BOTH) {
    absl::Status err = ResultError(res.get(), conn->get());
    std::string_view msg = MessageOf(err);
    if (msg.find("is active for PID") != std::string_view::npos) {
      return absl::FailedPreconditionError(
          StrCat("another capture is already running against replication slot \"", config.slot,
                 "\": ", msg));
    }
    if (msg.find("does not exist") != std::string_view::npos) {
      return absl::FailedPreconditionError(
          StrCat("replication slot \"", config.slot, "\" does not exist, so changes since ",
                 FormatLsn(start),
                 " are lost: re-backfill every binding of the capture (bump their backfill "
                 "counters) to start over: ",
                 msg));
    }
    return absl::UnavailableError(StrCat("could not start replication: ", msg));
  }
  auto stream = std::unique_ptr<PgReplicationStream>(
      new PgReplicationStream(std::move(*conn), start, tables, log));
  stream->status_interval_ = status_interval;
  {
    std::lock_guard lock(stream->mu_);
    if (auto s = stream->SendStatus(false); !s.ok()) return s;
  }
  stream->heartbeat_ = std::thread([s = stream.get()] { s->HeartbeatLoop(); });
  return stream;
}

PgReplicationStream::~PgReplicationStream() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void PgReplicationStream::HeartbeatLoop() {
  std::unique_lock lock(mu_);
  while (!closing_) {
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (closing_ || !heartbeat_error_.ok()) continue;
    if (absl::Now() - last_status_ >= status_interval_) heartbeat_error_ = SendStatus(false);
  }
}

void PgReplicationStream::Acknowledge(uint64_t position) {
  std::lock_guard lock(mu_);
  acked_ = std::max(acked_, position);
}

absl::Status PgReplicationStream::SendStatus(bool reply_requested) {
  const uint64_t pos = std::max(acked_, confirmed_);
  confirmed_ = pos;
  std::string msg = "r";
  PutU64(pos, &msg);  // written
  PutU64(pos, &msg);  // flushed
  PutU64(pos, &msg);  // applied
  PutU64(static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()) - kPgEpochMicros), &msg);
  msg += reply_requested ? '\1' : '\0';
  if (PQputCopyData(conn_.get(), msg.data(), static_cast<int>(msg.size())) != 1 ||
      PQflush(conn_.get()) != 0) {
    return absl::UnavailableError(
        StrCat("replication connection lost: ", PQerrorMessage(conn_.get())));
  }
  last_status_ = absl::Now();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<sqlcapture::ChangeEvent>> PgReplicationStream::Next(
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_lock lock(mu_);
  while (true) {
    if (!heartbeat_error_.ok()) return heartbeat_error_;
    if (absl::Now() - last_status_ >= status_interval_ ||
        (acked_ > confirmed_ && absl::Now() - last_status_ >= absl::Seconds(1))) {
      if (auto s = SendStatus(false); !s.ok()) return s;
    }
    char* buf = nullptr;
    const int n = PQgetCopyData(conn_.get(), &buf, 1);
    if (n > 0) {
      struct Free {
        void operator()(char* p) const { PQfreemem(p); }
      };
      std::unique_ptr<char, Free> owned(buf);
      std::string_view msg(buf, n);
      const char type = msg[0];
      msg.remove_prefix(1);
      if (type == 'k') {
        if (!Has(msg, 17)) return Malformed("short keepalive");
        const uint64_t wal_end = ReadU(msg, 8);
        ReadU(msg, 8);
        const bool reply = msg[0] != 0;
        // Everything delivered is acknowledged and nothing is open: the server may advance
        // the slot over WAL that holds nothing for us (e.g. other databases' writes).
        if (!in_txn_ && acked_ >= delivered_end_ && wal_end > confirmed_) confirmed_ = wal_end;
        if (reply) {
          if (auto s = SendStatus(false); !s.ok()) return s;
        }
        continue;
      }
      if (type != 'w')
        return Malformed(StrCat("unexpected CopyData type '", std::string(1, type), "'"));
      if (!Has(msg, 24)) return Malformed("short XLogData");
      const uint64_t wal_start = ReadU(msg, 8);
      ReadU(msg, 16);
      std::optional<sqlcapture::ChangeEvent> event;
      if (auto s = Decode(wal_start, msg, &event); !s.ok()) return s;
      if (event.has_value()) return event;
      continue;
    }
    if (n == -1) {
      ResultPtr res(PQgetResult(conn_.get()));
      return absl::UnavailableError(
          StrCat("the server ended replication: ", MessageOf(ResultError(res.get(), conn_.get()))));
    }
    if (n == -2) {
      return absl::UnavailableError(
          StrCat("replication connection failed: ", PQerrorMessage(conn_.get())));
    }
    // Nothing buffered: wait for the socket until the deadline (at most until the next status).
    const absl::Time now = absl::Now();
    if (now >= deadline) return std::nullopt;
    const absl::Duration wait = std::min(deadline - now, absl::Seconds(1));
    pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
    lock.unlock();  // The heartbeat may write while this waits.
    const int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
    lock.lock();
    if (ready < 0 && errno != EINTR) return absl::UnavailableError("poll on replication socket");
    if (ready > 0 && PQconsumeInput(conn_.get()) == 0) {
      return absl::UnavailableError(
          StrCat("replication connection failed: ", PQerrorMessage(conn_.get())));
    }
  }
}

absl::Status PgReplicationStream::DecodeRelation(std::string_view& msg) {
  if (!Has(msg, 4)) return Malformed("short Relation");
  const uint32_t relid = static_cast<uint32_t>(ReadU(msg, 4));
  const std::string schema(ReadCString(msg));
  const std::string name(ReadCString(msg));
  if (!Has(msg, 3)) return Malformed("short Relation");
  ReadU(msg, 1);  // replica identity
  const int ncols = static_cast<int>(ReadU(msg, 2));
  Relation rel;
  const Table* table = nullptr;
  for (size_t i = 0; i < tables_->size(); ++i) {
    if ((*tables_)[i].schema == schema && (*tables_)[i].name == name) {
      rel.table = static_cast<int>(i);
      table = &(*tables_)[i];
    }
  }
  for (int i = 0; i < ncols; ++i) {
    if (!Has(msg, 1)) return Malformed("short Relation column");
    ReadU(msg, 1);  // flags
    RelColumn col;
    col.name = std::string(ReadCString(msg));
    if (!Has(msg, 8)) return Malformed("short Relation column");
    const uint32_t type_oid = static_cast<uint32_t>(ReadU(msg, 4));
    ReadU(msg, 4);  // typmod
    const Column* known = table ? table->FindColumn(col.name) : nullptr;
    if (known != nullptr) {
      col.type = known->type;
    } else {
      col.type.kind = KindOfOid(type_oid);  // A column added since discovery.
    }
    rel.columns.push_back(std::move(col));
  }
  if (table != nullptr) {
    for (int k : table->key) {
      const std::string& key_name = table->columns[k].name;
      auto it = std::find_if(rel.columns.begin(), rel.columns.end(),
                             [&](const RelColumn& c) { return c.name == key_name; });
      if (it == rel.columns.end()) {
        return absl::FailedPreconditionError(
            StrCat("key column \"", key_name, "\" of table \"", schema, ".", name,
                   "\" is no longer in the table: re-discover and re-backfill it"));
      }
      rel.key.push_back(static_cast<int>(it - rel.columns.begin()));
    }
  }
  relations_[relid] = std::move(rel);
  return absl::OkStatus();
}

absl::Status PgReplicationStream::ReadTuple(std::string_view& msg, std::vector<TupleCol>* out) {
  if (!Has(msg, 2)) return Malformed("short TupleData");
  const int n = static_cast<int>(ReadU(msg, 2));
  out->assign(n, TupleCol{});
  for (int i = 0; i < n; ++i) {
    if (!Has(msg, 1)) return Malformed("short TupleData column");
    const char kind = msg[0];
    msg.remove_prefix(1);
    (*out)[i].kind = kind;
    if (kind == 't') {
      if (!Has(msg, 4)) return Malformed("short TupleData value");
      const uint32_t len = static_cast<uint32_t>(ReadU(msg, 4));
      if (!Has(msg, len)) return Malformed("short TupleData value");
      (*out)[i].text = msg.substr(0, len);
      msg.remove_prefix(len);
    } else if (kind != 'n' && kind != 'u') {
      return Malformed(StrCat("unsupported tuple column kind '", std::string(1, kind), "'"));
    }
  }
  return absl::OkStatus();
}

void PgReplicationStream::BuildRow(const Relation& rel, const std::vector<TupleCol>& tuple,
                                   const std::vector<TupleCol>* old, bool key_only,
                                   sqlcapture::Row* row) {
  row->fields.clear();
  row->key.clear();
  auto value_of = [&](size_t i) -> const TupleCol* {
    const TupleCol* c = i < tuple.size() ? &tuple[i] : nullptr;
    // Unchanged TOAST: the old tuple has the value under REPLICA IDENTITY FULL.
    if (c != nullptr && c->kind == 'u' && old != nullptr && i < old->size() &&
        (*old)[i].kind == 't') {
      c = &(*old)[i];
    }
    return c;
  };
  for (size_t i = 0; i < rel.columns.size(); ++i) {
    const TupleCol* c = value_of(i);
    // Omitted: unchanged TOAST without an old value (merge reduction keeps the previous
    // value), and columns outside the replica identity of a key-only old tuple.
    if (c == nullptr || c->kind == 'u' || (key_only && c->kind == 'n')) continue;
    if (!row->fields.empty()) row->fields += ',';
    json::AppendQuoted(rel.columns[i].name, &row->fields);
    row->fields += ':';
    if (c->kind == 'n') {
      row->fields += "null";
    } else {
      AppendValue(rel.columns[i].type, c->text, &row->fields);
    }
  }
  for (int k : rel.key) {
    const TupleCol* c = value_of(k);
    if (c == nullptr || c->kind != 't') {
      row->key.clear();
      return;
    }
    AppendKeyElement(rel.columns[k].type.kind, c->text, &row->key);
  }
}

absl::Status PgReplicationStream::Decode(uint64_t wal_start, std::string_view msg,
                                         std::optional<sqlcapture::ChangeEvent>* event) {
  if (msg.empty()) return Malformed("empty message");
  const char type = msg[0];
  msg.remove_prefix(1);
  using Kind = sqlcapture::ChangeEvent::Kind;
  switch (type) {
    case 'B': {
      if (!Has(msg, 20)) return Malformed("short Begin");
      if (in_txn_) return Malformed("Begin inside a transaction");
      final_lsn_ = ReadU(msg, 8);
      ts_ms_ = (static_cast<int64_t>(ReadU(msg, 8)) + kPgEpochMicros) / 1000;
      xid_ = static_cast<uint32_t>(ReadU(msg, 4));
      in_txn_ = true;
      return absl::OkStatus();
    }
    case 'C': {
      if (!Has(msg, 25)) return Malformed("short Commit");
      if (!in_txn_) return Malformed("Commit outside a transaction");
      ReadU(msg, 1);
      const uint64_t commit_lsn = ReadU(msg, 8);
      const uint64_t end_lsn = ReadU(msg, 8);
      if (commit_lsn != final_lsn_) return Malformed("Commit does not match its Begin");
      in_txn_ = false;
      sqlcapture::ChangeEvent e;
      e.kind = Kind::kCommit;
      e.commit_lsn = commit_lsn;
      e.end_lsn = end_lsn;
      previous_end_ = end_lsn;
      delivered_end_ = end_lsn;
      *event = std::move(e);
      return absl::OkStatus();
    }
    case 'R':
      return DecodeRelation(msg);
    case 'Y':
    case 'O':
    case 'M':
      return absl::OkStatus();
    case 'T': {
      if (!Has(msg, 5)) return Malformed("short Truncate");
      const uint32_t n = static_cast<uint32_t>(ReadU(msg, 4));
      ReadU(msg, 1);
      for (uint32_t i = 0; i < n && Has(msg, 4); ++i) {
        auto it = relations_.find(static_cast<uint32_t>(ReadU(msg, 4)));
        if (it != relations_.end() && it->second.table >= 0) {
          log_->Warn(
              "TRUNCATE is not captured: documents of the truncated rows remain in the "
              "collection; re-backfill the binding to start it over",
              {LogField::Str("table", (*tables_)[it->second.table].QualifiedName())});
        }
      }
      return absl::OkStatus();
    }
    case 'I':
    case 'U':
    case 'D': {
      if (!in_txn_) return Malformed("change outside a transaction");
      if (!Has(msg, 5)) return Malformed("short change");
      const uint32_t relid = static_cast<uint32_t>(ReadU(msg, 4));
      auto it = relations_.find(relid);
      if (it == relations_.end()) return Malformed(StrCat("change for unknown relation ", relid));
      const Relation& rel = it->second;
      sqlcapture::ChangeEvent e;
      e.table = rel.table;
      e.lsn = wal_start;
      e.commit_lsn = final_lsn_;
      e.previous_end = previous_end_;
      e.txid = xid_;
      e.ts_ms = ts_ms_;
      if (rel.table < 0) {
        // Not captured (e.g. the watermarks table): nothing to decode.
        e.kind = Kind::kInsert;
        *event = std::move(e);
        return absl::OkStatus();
      }
      char tag = msg[0];
      msg.remove_prefix(1);
      bool have_old = false;
      bool old_key_only = false;
      if (type != 'I' && (tag == 'K' || tag == 'O')) {
        if (auto s = ReadTuple(msg, &old_); !s.ok()) return s;
        have_old = true;
        old_key_only = tag == 'K';
        if (type == 'U') {
          if (!Has(msg, 1)) return Malformed("short Update");
          tag = msg[0];
          msg.remove_prefix(1);
        }
      }
      if (type == 'D') {
        if (!have_old) return Malformed("Delete without old tuple");
        e.kind = Kind::kDelete;
        BuildRow(rel, old_, nullptr, old_key_only, &e.row);
        *event = std::move(e);
        return absl::OkStatus();
      }
      if (tag != 'N') return Malformed("expected new tuple");
      if (auto s = ReadTuple(msg, &tuple_); !s.ok()) return s;
      e.kind = type == 'I' ? Kind::kInsert : Kind::kUpdate;
      BuildRow(rel, tuple_, have_old ? &old_ : nullptr, false, &e.row);
      if (have_old) {
        e.before.emplace();
        BuildRow(rel, old_, nullptr, old_key_only, &*e.before);
      }
      *event = std::move(e);
      return absl::OkStatus();
    }
    default:
      return Malformed(StrCat("unknown message type '", std::string(1, type), "'"));
  }
}

}  // namespace connectors::postgres
