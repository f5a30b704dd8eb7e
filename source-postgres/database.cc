#include "source-postgres/database.h"

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple.h"
#include "source-postgres/replication.h"

namespace connectors::postgres {
namespace {

std::string ColumnList(const Table& t) {
  std::string out;
  for (const Column& c : t.columns) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(c.name);
  }
  return out.empty() ? "NULL" : out;
}

// A key column as scans order it: text-like columns bytewise.
std::string KeyExpr(const Column& c) {
  return c.type.collatable ? QuoteIdent(c.name) + " COLLATE \"C\"" : QuoteIdent(c.name);
}

}  // namespace

absl::StatusOr<uint64_t> PgDatabase::CurrentPosition() {
  auto rows = conn_.Query(
      "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
      "ELSE pg_current_wal_flush_lsn() END::text");
  if (!rows.ok()) return rows.status();
  return ParseLsn(*(*rows)[0][0]);
}

absl::Status PgDatabase::WriteWatermark() {
  const std::string sql = StrCat("INSERT INTO ", config_.WatermarksSql(),
                                 " (slot, watermark) VALUES ($1, gen_random_uuid()::text) "
                                 "ON CONFLICT (slot) DO UPDATE SET watermark = EXCLUDED.watermark");
  auto s = conn_.Exec(sql, {config_.slot});
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        StrCat("writing a watermark to \"", config_.WatermarksName(), "\" failed: ", MessageOf(s)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<sqlcapture::ReplicationStream>> PgDatabase::StartReplication(
    std::optional<uint64_t> position) {
  uint64_t start = 0;
  if (position.has_value()) {
    start = *position;
  } else {
    // A new capture: nothing of an older slot by this name can be used.
    auto dropped = conn_.Exec(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE slot_name = $1",
        {config_.slot});
    if (!dropped.ok()) {
      return absl::FailedPreconditionError(
          StrCat("could not drop the old replication slot \"", config_.slot,
                 "\" to start a new capture (is another capture using it?): ", MessageOf(dropped)));
    }
    auto created = conn_.Query(
        "SELECT lsn::text FROM pg_create_logical_replication_slot($1, "
        "'pgoutput')",
        {config_.slot});
    if (!created.ok()) {
      return absl::FailedPreconditionError(StrCat("could not create replication slot \"",
                                                  config_.slot,
                                                  "\": ", MessageOf(created.status())));
    }
    auto lsn = ParseLsn(*(*created)[0][0]);
    if (!lsn.ok()) return lsn.status();
    start = *lsn;
    log_->Info("created replication slot",
               {LogField::Str("slot", config_.slot), LogField::Str("lsn", FormatLsn(start))});
  }
  // Status updates every 10 s, or often enough for a server with a short wal_sender_timeout.
  absl::Duration interval = absl::Seconds(10);
  auto timeout =
      conn_.Query("SELECT setting::bigint FROM pg_settings WHERE name = 'wal_sender_timeout'");
  if (timeout.ok() && !timeout->empty() && (*timeout)[0][0]) {
    const int64_t ms = std::stoll(*(*timeout)[0][0]);
    if (ms > 0) interval = std::min(interval, absl::Milliseconds(ms / 4));
  }
  ConnectParams rp = params_;
  rp.replication = true;
  rp.connect_timeout_s = 30;
  auto stream = PgReplicationStream::Start(config_, rp, start, &tables_, log_, interval);
  if (!stream.ok()) return stream.status();
  return std::unique_ptr<sqlcapture::ReplicationStream>(std::move(*stream));
}

absl::StatusOr<PgDatabase::ScanResult> PgDatabase::ScanChunk(
    int table, sqlcapture::BackfillMode mode, std::string_view resume_at, int64_t limit,
    const std::function<absl::Status(sqlcapture::Row&)>& emit) {
  const Table& t = tables_[table];
  if (mode == sqlcapture::BackfillMode::kKeyless || t.key.empty()) {
    return ScanKeyless(table, resume_at, limit, emit);
  }
  return ScanKeyed(t, resume_at, limit, emit);
}

absl::Status PgDatabase::Stream(const std::string& sql, const std::vector<Value>& params,
                                const Table& t,
                                const std::function<absl::Status(sqlcapture::Row&)>& emit,
                                int64_t* rows) {
  std::vector<const char*> values;
  for (const Value& v : params) values.push_back(v ? v->c_str() : nullptr);
  PGconn* c = conn_.get();
  if (!PQsendQueryParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, 0) ||
      !PQsetSingleRowMode(c)) {
    return ResultError(nullptr, c);
  }
  absl::Status status;
  sqlcapture::Row row;
  while (true) {
    ResultPtr res(PQgetResult(c));
    if (!res) break;
    const ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_TUPLES_OK) continue;  // End of rows; the loop drains until null.
    if (st != PGRES_SINGLE_TUPLE) {
      if (status.ok()) status = ResultError(res.get(), c);
      continue;
    }
    if (!status.ok()) continue;
    row.fields.clear();
    row.key.clear();
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i > 0) row.fields += ',';
      json::AppendQuoted(t.columns[i].name, &row.fields);
      row.fields += ':';
      if (PQgetisnull(res.get(), 0, static_cast<int>(i))) {
        row.fields += "null";
      } else {
        AppendValue(t.columns[i].type,
                    std::string_view(PQgetvalue(res.get(), 0, static_cast<int>(i)),
                                     PQgetlength(res.get(), 0, static_cast<int>(i))),
                    &row.fields);
      }
    }
    for (int k : t.key) {
      AppendKeyElement(t.columns[k].type.kind,
                       std::string_view(PQgetvalue(res.get(), 0, k), PQgetlength(res.get(), 0, k)),
                       &row.key);
    }
    ++*rows;
    status = emit(row);
  }
  return status;
}

absl::StatusOr<PgDatabase::ScanResult> PgDatabase::ScanKeyed(
    const Table& t, std::string_view resume_at, int64_t limit,
    const std::function<absl::Status(sqlcapture::Row&)>& emit) {
  std::string keys, order, placeholders;
  for (size_t i = 0; i < t.key.size(); ++i) {
    const Column& c = t.columns[t.key[i]];
    if (i > 0) {
      keys += ", ";
      order += ", ";
      placeholders += ", ";
    }
    keys += KeyExpr(c);
    order += KeyExpr(c);
    StrAppend(&placeholders, "$", i + 1);
  }
  std::vector<Value> params;
  std::string sql = StrCat("SELECT ", ColumnList(t), " FROM ", t.QuotedName());
  if (!resume_at.empty()) {
    auto elements = tuple::Unpack(resume_at);
    if (!elements.ok() || elements->size() != t.key.size()) {
      return absl::InvalidArgumentError(StrCat("the scan cursor of table \"", t.QualifiedName(),
                                               "\" does not match its key columns"));
    }
    for (const tuple::Element& e : *elements) {
      switch (e.kind()) {
        case tuple::Element::Kind::kInt:
          params.push_back(StrCat(e.int_value()));
          break;
        case tuple::Element::Kind::kBool:
          params.push_back(std::string(e.bool_value() ? "t" : "f"));
          break;
        case tuple::Element::Kind::kString:
        case tuple::Element::Kind::kBytes:
          params.push_back(e.string_value());
          break;
        default:
          return absl::InvalidArgumentError("unexpected element in a scan cursor");
      }
    }
    StrAppend(&sql, " WHERE (", keys, ") > (", placeholders, ")");
  }
  StrAppend(&sql, " ORDER BY ", order, " LIMIT ", limit);
  int64_t rows = 0;
  std::string last;
  auto status = Stream(
      sql, params, t,
      [&](sqlcapture::Row& row) {
        last = row.key;
        return emit(row);
      },
      &rows);
  if (!status.ok()) {
    return absl::Status(status.code(), StrCat("backfill of table \"", t.QualifiedName(),
                                              "\" failed: ", MessageOf(status)));
  }
  ScanResult result;
  result.done = rows < limit;
  result.resume_at = rows > 0 ? last : std::string(resume_at);
  return result;
}

absl::StatusOr<PgDatabase::ScanResult> PgDatabase::ScanKeyless(
    int index, std::string_view resume_at, int64_t limit,
    const std::function<absl::Status(sqlcapture::Row&)>& emit) {
  const Table& t = tables_[index];
  if (!pages_.count(index)) {
    auto rows = conn_.Query(
        "SELECT (greatest(pg_relation_size(r), (SELECT coalesce(max(pg_relation_size(relid)), "
        "0) FROM pg_partition_tree(r))) / current_setting('block_size')::bigint)::text "
        "FROM (SELECT $1::oid::regclass AS r) AS t",
        {StrCat(t.oid)});
    if (!rows.ok()) return rows.status();
    pages_[index] = std::stoll(*(*rows)[0][0]);
  }
  const int64_t pages = pages_[index];
  int64_t from = resume_at.empty() ? 0 : std::stoll(std::string(resume_at));
  const int64_t step = std::max<int64_t>(1, limit / 100);
  const int64_t to = from + step;
  ScanResult result;
  if (from >= pages) {
    result.done = true;
    return result;
  }
  const std::string sql =
      StrCat("SELECT ", ColumnList(t), " FROM ", t.QuotedName(), " WHERE ctid >= '(", from,
             ",0)'::tid AND ctid < '(", to, ",0)'::tid");
  int64_t rows = 0;
  auto status = Stream(sql, {}, t, emit, &rows);
  if (!status.ok()) {
    return absl::Status(status.code(), StrCat("backfill of table \"", t.QualifiedName(),
                                              "\" failed: ", MessageOf(status)));
  }
  result.done = to >= pages;
  result.resume_at = StrCat(to);
  return result;
}

}  // namespace connectors::postgres
