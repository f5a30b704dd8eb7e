// A throwaway PostgreSQL server for a test: its own cluster (initdb) in a fresh temp dir,
// listening on 127.0.0.1 at a free port, with logical decoding enabled (wal_level=logical) and a
// password superuser authenticated with SCRAM-SHA-256 over TCP, for normal and replication
// connections alike: connectors connect to it exactly as they connect to a user's database.
// The destructor stops the server (and its backends) and deletes the cluster.
//
//   auto pg = harness::Postgres::Start();
//   ASSERT_TRUE(pg.ok()) << pg.status();
//   ASSERT_TRUE(pg->Exec("CREATE TABLE t (id int)").ok());
//   config["address"] = StrCat(pg->host(), ":", pg->port());
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::harness {

struct PostgresOptions {
  // Extra postgresql.conf lines, applied after the harness's own (so they win).
  std::vector<std::string> config;
};

class Postgres {
 public:
  // Result rows of a query, every value in PostgreSQL's text format; SQL NULL reads "\N" (as in
  // COPY's text format).
  using Rows = std::vector<std::vector<std::string>>;

  // initdb + start, typically about a second. Runs the server as ServiceAccount().
  static absl::StatusOr<Postgres> Start(const PostgresOptions& options = {});

  // A moved-from Postgres may only be destroyed or assigned to.
  Postgres(Postgres&&) noexcept;
  Postgres& operator=(Postgres&&) noexcept;
  ~Postgres();

  const std::string& host() const;  // "127.0.0.1"
  int port() const;
  const std::string& user() const;      // The superuser: "postgres".
  const std::string& password() const;  // Random per server.
  // A libpq key/value connection string for `database` over TCP with the password.
  std::string ConnectionString(std::string_view database = "postgres") const;
  // The cluster's temp dir (data/ holds the cluster, postgres.log the server's log).
  const std::string& dir() const;
  std::string LogTail() const;

  absl::Status CreateDatabase(std::string_view name);
  // Runs `sql` (one or more statements) in a fresh connection to `database` and returns the
  // rows of the last statement.
  absl::StatusOr<Rows> Exec(std::string_view sql, std::string_view database = "postgres");

  // Stops the server now (fast shutdown); the cluster stays until destruction. Idempotent.
  absl::Status Stop();

 private:
  struct State;
  explicit Postgres(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// `name` as a double-quoted SQL identifier.
std::string QuoteIdentifier(std::string_view name);

}  // namespace connectors::harness
