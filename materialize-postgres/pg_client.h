// libpq implementation of sql::Client, with RAII handles for PGconn and PGresult. Errors quote
// PostgreSQL's message, detail, hint and SQLSTATE; known SQLSTATEs get advice a user can act
// on. Passwords never appear in errors.
#pragma once

#include <postgresql/libpq-fe.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/materialize-sql/client.h"

namespace connectors::postgres {

struct ConnectParams {
  std::string host;
  int port = 5432;
  std::string user;
  std::string password;
  std::string database;  // Empty: the server's default for the user.
  std::string sslmode;   // Empty: libpq's default.
};

struct PGconnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PGresultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

class PgClient final : public sql::Client {
 public:
  // Connects (20 s timeout, TCP keepalives) and disables the session's statement timeout.
  static absl::StatusOr<std::unique_ptr<PgClient>> Connect(const ConnectParams& params);

  absl::Status Exec(std::string_view sql) override;
  absl::StatusOr<int64_t> ExecParams(std::string_view sql, sql::Params params) override;
  absl::Status Query(std::string_view sql, sql::Params params,
                     absl::FunctionRef<absl::Status(sql::RowView)> row) override;
  absl::Status CopyIn(std::string_view copy_sql, std::string_view data) override;

  PGconn* conn() { return conn_.get(); }

 private:
  explicit PgClient(ConnPtr conn) : conn_(std::move(conn)) {}
  ConnPtr conn_;
};

// A status for a failed result: message, detail, hint, SQLSTATE, plus advice for known codes.
absl::Status ResultError(const PGresult* result, PGconn* conn);

}  // namespace connectors::postgres
