// materialize-postgres store throughput beside the physical limit measured in the same run:
//   store: N new rows of 5 columns (id BIGINT key, name TEXT, amount DOUBLE PRECISION,
//          active BOOLEAN, flow_document JSONB) through the connector's transactor (Store,
//          then StartCommit: COPY into the session's staging table, one INSERT ... SELECT,
//          the fence update, COMMIT), with Store requests generated on the fly;
//   update: the same keys again: Load of every key, then Store with exists (one UPDATE);
//   delta: the rows into a delta-updates table (plain COPY through the connector);
//   copy:  the same rows sent with a plain COPY FROM STDIN into an identical table, in one
//          transaction, the fastest way PostgreSQL ingests rows.
// Both run against one throwaway server (tests/harness), so the ratio holds across machines.
//
// Usage: materialize_postgres_bench [--rows=N]  (default 1000000; other flags are ignored).
#include <postgresql/libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "libs/materialize-sql/encode.h"
#include "libs/tuple/tuple.h"
#include "materialize-postgres/driver.h"
#include "tests/harness/postgres.h"

namespace connectors::bench {
namespace {

int Fail(std::string_view what) {
  std::fprintf(stderr, "materialize_postgres_bench: %.*s\n", static_cast<int>(what.size()),
               what.data());
  return 1;
}

struct Row {
  int64_t id;
  std::string name;
  double amount;
  bool active;
  std::string doc;
};

Row MakeRow(int64_t i) {
  Row r{i, StrCat("customer-", i * 7919 % 1000003), static_cast<double>(i % 100000) / 100.0,
        i % 3 == 0, ""};
  json::Writer w(&r.doc);
  w.BeginObject().Key("active").Bool(r.active).Key("amount").Double(r.amount);
  w.Key("id").Int(r.id).Key("name").String(r.name).EndObject();
  return r;
}

// Generates Store requests without keeping them.
class GeneratedStores final : public runtime::StoreIterator {
 public:
  GeneratedStores(int64_t rows, bool exists) : rows_(rows), exists_(exists) {}
  absl::StatusOr<const materialize::Request::Store*> Next() override {
    if (next_ >= rows_) return nullptr;
    const Row r = MakeRow(next_++);
    store_.Clear();
    store_.set_binding(0);
    std::string* key = store_.mutable_key_packed();
    tuple::AppendInt(r.id, key);
    std::string* values = store_.mutable_values_packed();
    tuple::AppendBool(r.active, values);
    tuple::AppendDouble(r.amount, values);
    tuple::AppendString(r.name, values);
    store_.set_doc_json(r.doc);
    store_.set_exists(exists_);
    return &store_;
  }

 private:
  int64_t rows_;
  bool exists_;
  int64_t next_ = 0;
  materialize::Request::Store store_;
};

// Generates Load requests for keys 0..rows-1.
class GeneratedLoads final : public runtime::LoadIterator {
 public:
  explicit GeneratedLoads(int64_t rows) : rows_(rows) {}
  absl::StatusOr<const materialize::Request::Load*> Next() override {
    if (next_ >= rows_) return nullptr;
    load_.Clear();
    tuple::AppendInt(next_++, load_.mutable_key_packed());
    return &load_;
  }

 private:
  int64_t rows_;
  int64_t next_ = 0;
  materialize::Request::Load load_;
};

// What one timed run does through the connector.
enum class Phase { kInsert, kLoadAndUpdate, kDelta };

flow::Projection Projection(std::string field, std::string ptr, std::string type, bool key) {
  flow::Projection p;
  p.set_field(field);
  p.set_ptr(ptr);
  p.set_is_primary_key(key);
  p.mutable_inference()->add_types(type);
  p.mutable_inference()->set_exists(flow::Inference::MUST);
  return p;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

absl::StatusOr<double> TimeConnector(harness::Postgres& pg, int64_t rows, Phase phase) {
  const bool delta = phase == Phase::kDelta;
  flow::MaterializationSpec spec;
  spec.set_name(delta ? "bench/delta" : "bench/materialize");
  spec.set_config_json(StrCat(R"({"address":"127.0.0.1:)", pg.port(),
                              R"(","user":"postgres","password":")", pg.password(), R"("})"));
  auto* b = spec.add_bindings();
  b->set_resource_config_json(delta ? R"({"table":"delta","delta_updates":true})"
                                    : R"({"table":"stored"})");
  b->set_delta_updates(delta);
  auto* c = b->mutable_collection();
  c->set_name("bench/rows");
  c->add_key("/id");
  *c->add_projections() = Projection("active", "/active", "boolean", false);
  *c->add_projections() = Projection("amount", "/amount", "number", false);
  *c->add_projections() = Projection("flow_document", "", "object", false);
  *c->add_projections() = Projection("id", "/id", "integer", true);
  *c->add_projections() = Projection("name", "/name", "string", false);
  auto* selection = b->mutable_field_selection();
  selection->add_keys("id");
  for (const char* v : {"active", "amount", "name"}) selection->add_values(v);
  selection->set_document("flow_document");

  const Logger log(2, LogLevel::kWarn);
  postgres::PostgresDriver driver;
  materialize::Request::Apply apply;
  *apply.mutable_materialization() = spec;
  if (auto applied = driver.Apply(apply, log); !applied.ok()) return applied.status();
  materialize::Request::Open open;
  *open.mutable_materialization() = spec;
  open.mutable_range()->set_key_end(0xffffffff);
  auto opened = driver.Open(open, log);
  if (!opened.ok()) return opened.status();
  const auto start = std::chrono::steady_clock::now();
  if (phase == Phase::kLoadAndUpdate) {
    GeneratedLoads loads(rows);
    int64_t loaded = 0;
    auto status = opened->transactor->Load(loads, [&](uint32_t, std::string_view) {
      ++loaded;
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (loaded != rows) return absl::InternalError(StrCat("loaded ", loaded, " of ", rows));
  }
  GeneratedStores stores(rows, /*exists=*/phase == Phase::kLoadAndUpdate);
  if (auto s = opened->transactor->Store(stores); !s.ok()) return s;
  consumer::Checkpoint checkpoint;
  (*checkpoint.mutable_sources())["bench/rows"].set_read_through(rows);
  if (auto s = opened->transactor->StartCommit(checkpoint); !s.ok()) return s.status();
  return Seconds(start);
}

absl::StatusOr<double> TimeCopy(harness::Postgres& pg, int64_t rows) {
  if (auto s = pg.Exec("CREATE TABLE copied (id BIGINT NOT NULL, active BOOLEAN NOT NULL, "
                       "amount DOUBLE PRECISION NOT NULL, name TEXT NOT NULL, "
                       "flow_document JSONB NOT NULL, PRIMARY KEY (id))");
      !s.ok()) {
    return s.status();
  }
  PGconn* conn = PQconnectdb(pg.ConnectionString().c_str());
  std::unique_ptr<PGconn, decltype(&PQfinish)> owned(conn, &PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError(PQerrorMessage(conn));
  auto exec = [&](const char* sql, ExecStatusType want) -> absl::Status {
    PGresult* r = PQexec(conn, sql);
    const bool ok = PQresultStatus(r) == want;
    PQclear(r);
    return ok ? absl::OkStatus() : absl::InternalError(PQerrorMessage(conn));
  };
  const auto start = std::chrono::steady_clock::now();
  if (auto s = exec("BEGIN", PGRES_COMMAND_OK); !s.ok()) return s;
  if (auto s = exec("COPY copied FROM STDIN", PGRES_COPY_IN); !s.ok()) return s;
  std::string buffer;
  for (int64_t i = 0; i < rows; ++i) {
    const Row r = MakeRow(i);
    StrAppend(&buffer, r.id, "\t", r.active ? "t" : "f", "\t");
    json::AppendDouble(r.amount, &buffer);
    buffer += "\t";
    sql::AppendCopyText(r.name, &buffer);
    buffer += "\t";
    sql::AppendCopyText(r.doc, &buffer);
    buffer += "\n";
    if (buffer.size() >= (1 << 20) || i + 1 == rows) {
      if (PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
        return absl::InternalError(PQerrorMessage(conn));
      }
      buffer.clear();
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) return absl::InternalError(PQerrorMessage(conn));
  PGresult* r = PQgetResult(conn);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  while ((r = PQgetResult(conn)) != nullptr) PQclear(r);
  if (!ok) return absl::InternalError(PQerrorMessage(conn));
  if (auto s = exec("COMMIT", PGRES_COMMAND_OK); !s.ok()) return s;
  return Seconds(start);
}

int Main(int argc, char** argv) {
  int64_t rows = 1000000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--rows=")) rows = std::atoll(argv[i] + 7);
  }
  auto pg = harness::Postgres::Start();
  if (!pg.ok()) return Fail(MessageOf(pg.status()));
  auto copy = TimeCopy(*pg, rows);
  if (!copy.ok()) return Fail(MessageOf(copy.status()));
  auto insert = TimeConnector(*pg, rows, Phase::kInsert);
  if (!insert.ok()) return Fail(MessageOf(insert.status()));
  auto update = TimeConnector(*pg, rows, Phase::kLoadAndUpdate);
  if (!update.ok()) return Fail(MessageOf(update.status()));
  auto delta = TimeConnector(*pg, rows, Phase::kDelta);
  if (!delta.ok()) return Fail(MessageOf(delta.status()));
  auto count = pg->Exec(
      "SELECT (SELECT count(*) FROM stored), (SELECT count(*) FROM delta), "
      "(SELECT count(*) FROM copied)");
  if (!count.ok()) return Fail(MessageOf(count.status()));
  std::printf("%-46s  %9s  %11s  %8s\n", "path (rows of 5 columns)", "seconds", "rows/s",
              "of COPY");
  auto line = [&](const char* name, double seconds) {
    std::printf("%-46s  %9.2f  %11.0f  %7.2fx\n", name, seconds, rows / seconds, *copy / seconds);
  };
  line("plain COPY FROM STDIN (the limit)", *copy);
  line("standard: Store of new rows + StartCommit", *insert);
  line("standard: Load + Store of existing keys", *update);
  line("delta updates: Store + StartCommit", *delta);
  std::printf("rows: %lld (stored %s, delta %s, copied %s)\n", static_cast<long long>(rows),
              (*count)[0][0].c_str(), (*count)[0][1].c_str(), (*count)[0][2].c_str());
  return 0;
}

}  // namespace
}  // namespace connectors::bench

int main(int argc, char** argv) { return connectors::bench::Main(argc, argv); }
