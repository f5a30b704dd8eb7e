// A small libpq client: RAII handles for connections and results, parameterized queries with
// text results, identifier quoting and LSN text. Every other file talks to PostgreSQL through
// this one.
#pragma once

#include <postgresql/libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::postgres {

struct PGconnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PGresultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

// Where and how to connect. The password never appears in errors or logs.
struct ConnectParams {
  std::string host;
  int port = 5432;
  std::string user;
  std::string password;
  std::string database;
  std::string sslmode;       // Empty: libpq's default (prefer).
  bool replication = false;  // A walsender connection (replication=database).
  int connect_timeout_s = 20;
};

// Rows of a result, every value in text form; NULL is nullopt.
using Value = std::optional<std::string>;
using Rows = std::vector<std::vector<Value>>;

class Conn {
 public:
  // Connects with the session settings the connector's value formats rely on (UTC, ISO dates
  // and intervals, round-trip float digits). Errors name the failure in user terms: wrong
  // password, unknown database, unreachable host.
  static absl::StatusOr<Conn> Connect(const ConnectParams& params);

  PGconn* get() const { return conn_.get(); }

  // Runs a statement with text parameters; returns its rows. SQLSTATE is kept in the error.
  absl::StatusOr<Rows> Query(std::string_view sql, const std::vector<Value>& params = {});
  absl::Status Exec(std::string_view sql, const std::vector<Value>& params = {});

 private:
  explicit Conn(ConnPtr conn) : conn_(std::move(conn)) {}
  ConnPtr conn_;
};

// The error of a failed result: "<message> (SQLSTATE xxxxx)".
absl::Status ResultError(const PGresult* result, PGconn* conn);
// The SQLSTATE of a failed status made by ResultError, or "".
std::string SqlState(const absl::Status& status);

std::string QuoteIdent(std::string_view name);
std::string QuoteLiteral(std::string_view value);

// LSN as PostgreSQL writes it ("16/B374D848") and back.
std::string FormatLsn(uint64_t lsn);
absl::StatusOr<uint64_t> ParseLsn(std::string_view text);

}  // namespace connectors::postgres
