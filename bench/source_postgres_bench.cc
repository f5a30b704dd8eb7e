// source-postgres backfill throughput beside the physical limit measured in the same run:
//   backfill: a capture of a fresh N-row table (id BIGINT key, name TEXT, amount DOUBLE
//             PRECISION, active BOOLEAN, ts TIMESTAMPTZ) through the driver's Open and the
//             sqlcapture engine, chunk after chunk (each fenced by a watermark), until the
//             binding is Active; documents are rendered to JSON and discarded;
//   copy:     COPY table TO STDOUT of the same table, received with PQgetCopyData: the fastest
//             way PostgreSQL hands out rows.
// Both run against one throwaway server (tests/harness), so the ratio holds across machines.
//
// Usage: source_postgres_bench [--rows=N]  (default 1000000; other flags are ignored).
#include <postgresql/libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "source-postgres/driver.h"
#include "tests/harness/postgres.h"

namespace connectors::bench {
namespace {

int Fail(std::string_view what) {
  std::fprintf(stderr, "source_postgres_bench: %.*s\n", static_cast<int>(what.size()), what.data());
  return 1;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Counts documents and stops the capture once its binding's backfill is done.
class CountingSession final : public runtime::CaptureSession, public runtime::CaptureOutput {
 public:
  CountingSession() : log_(2, LogLevel::kWarn) {}
  runtime::CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override { return done_.load(); }
  bool WaitForStop(absl::Duration) override { return done_.load(); }
  uint64_t acknowledged() const override { return checkpoints_; }
  bool WaitForAcknowledged(uint64_t n, absl::Duration) override { return checkpoints_ >= n; }
  absl::Status Document(uint32_t, std::string_view doc) override {
    ++docs_;
    bytes_ += doc.size();
    return absl::OkStatus();
  }
  absl::Status SourcedSchema(uint32_t, std::string_view) override { return absl::OkStatus(); }
  absl::Status Checkpoint(std::string_view state, bool) override {
    ++checkpoints_;
    if (checkpoints_ > 1 && state.find(R"("mode":"Active")") != std::string_view::npos) {
      done_ = true;
    }
    return absl::OkStatus();
  }
  int64_t docs() const { return docs_; }
  int64_t bytes() const { return bytes_; }

 private:
  Logger log_;
  std::atomic<bool> done_{false};
  uint64_t checkpoints_ = 0;
  int64_t docs_ = 0;
  int64_t bytes_ = 0;
};

absl::StatusOr<std::pair<double, int64_t>> Copy(const harness::Postgres& pg) {
  PGconn* conn = PQconnectdb(pg.ConnectionString().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return absl::UnavailableError("connect");
  }
  const auto start = std::chrono::steady_clock::now();
  PGresult* res = PQexec(conn, "COPY public.bench TO STDOUT");
  const bool ok = PQresultStatus(res) == PGRES_COPY_OUT;
  PQclear(res);
  int64_t bytes = 0;
  if (ok) {
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
      bytes += n;
      PQfreemem(buf);
    }
    while ((res = PQgetResult(conn)) != nullptr) PQclear(res);
  }
  const double seconds = Since(start);
  PQfinish(conn);
  if (!ok) return absl::InternalError("COPY TO STDOUT failed");
  return std::make_pair(seconds, bytes);
}

int Main(int argc, char** argv) {
  int64_t rows = 1000000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--rows=")) rows = std::atoll(argv[i] + 7);
  }
  auto pg = harness::Postgres::Start();
  if (!pg.ok()) return Fail(MessageOf(pg.status()));
  auto created = pg->Exec(
      StrCat("CREATE PUBLICATION flow_publication;"
             "CREATE TABLE public.bench (id bigint PRIMARY KEY, name text, amount float8, "
             "active bool, ts timestamptz);"
             "INSERT INTO public.bench SELECT g, 'customer-' || (g * 7919 % 1000003), "
             "(g % 100000) / 100.0, g % 3 = 0, timestamptz '2024-01-01' + g * interval '1 second' "
             "FROM generate_series(1::bigint, ",
                  rows, ") g; ANALYZE public.bench;"));
  if (!created.ok()) return Fail(MessageOf(created.status()));

  auto copy = Copy(*pg);
  if (!copy.ok()) return Fail(MessageOf(copy.status()));

  std::string config;
  json::Writer w(&config);
  w.BeginObject().Key("address").String(StrCat(pg->host(), ":", pg->port()));
  w.Key("user").String(pg->user()).Key("password").String(pg->password());
  w.Key("database").String("postgres").EndObject();
  ::capture::Request::Open open;
  open.mutable_capture()->set_config_json(config);
  auto* binding = open.mutable_capture()->add_bindings();
  binding->set_resource_config_json(R"({"namespace":"public","stream":"bench"})");
  binding->set_state_key("bench");
  postgres::PostgresDriver driver;
  CountingSession session;
  const auto start = std::chrono::steady_clock::now();
  auto capture = driver.Open(open, session.log());
  if (!capture.ok()) return Fail(MessageOf(capture.status()));
  if (auto s = (*capture)->Run(session); !s.ok()) return Fail(MessageOf(s));
  const double backfill = Since(start);
  if (session.docs() != rows) {
    return Fail(StrCat("backfill emitted ", session.docs(), " documents for ", rows, " rows"));
  }

  std::printf("%-44s  %10s  %12s  %10s\n", "path (5 columns)", "seconds", "rows/s", "MB/s");
  std::printf("%-44s  %10.2f  %12.0f  %10.1f\n", "COPY TO STDOUT (limit)", copy->first,
              rows / copy->first, copy->second / copy->first / 1e6);
  std::printf("%-44s  %10.2f  %12.0f  %10.1f\n", "connector backfill (JSON documents)", backfill,
              rows / backfill, session.bytes() / backfill / 1e6);
  std::printf("rows: %lld; connector time / COPY time = %.2f\n", static_cast<long long>(rows),
              backfill / copy->first);
  return 0;
}

}  // namespace
}  // namespace connectors::bench

int main(int argc, char** argv) { return connectors::bench::Main(argc, argv); }
