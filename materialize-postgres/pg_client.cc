#include "materialize-postgres/pg_client.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "libs/base/strings.h"

namespace connectors::postgres {
namespace {

std::string Trimmed(const char* text) {
  std::string s = text == nullptr ? "" : text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string_view Advice(std::string_view sqlstate) {
  if (sqlstate == "28P01" || sqlstate == "28000") {
    return "check the endpoint config's user and password";
  }
  if (sqlstate == "3D000") return "check the endpoint config's database";
  if (sqlstate == "42501") {
    return "grant the user the privileges it needs (USAGE and CREATE on the schema, CREATE on "
           "the database to create schemas, and ownership of the tables it alters)";
  }
  if (sqlstate == "22003" || sqlstate == "22P02" || sqlstate == "22007" || sqlstate == "22008") {
    return "a document's value does not fit its column's type; check the collection schema "
           "against the table";
  }
  if (sqlstate == "42804" || sqlstate == "42883") {
    return "a column's type was changed in the database; change it back or backfill the binding";
  }
  return "";
}

absl::Status ConnectError(PGconn* conn, const ConnectParams& p) {
  std::string message = Trimmed(PQerrorMessage(conn));
  std::string advice = "check the endpoint config's address";
  if (message.find("password authentication failed") != std::string::npos ||
      message.find("no password supplied") != std::string::npos) {
    advice = "check the endpoint config's user and password";
  } else if (message.find("does not exist") != std::string::npos &&
             message.find("database") != std::string::npos) {
    advice = "check the endpoint config's database";
  }
  return absl::UnavailableError(StrCat("connecting to PostgreSQL at ", p.host, ":", p.port,
                                       " as user \"", p.user, "\" failed: ", message, " (", advice,
                                       ")"));
}

// Text parameters for PQexecParams; nullptr for NULL.
std::vector<const char*> Values(sql::Params params) {
  std::vector<const char*> out;
  for (const auto& p : params) out.push_back(p.has_value() ? p->c_str() : nullptr);
  return out;
}

// Consumes the remaining results of a command so the connection is ready for the next.
void Drain(PGconn* conn) {
  while (ResultPtr r{PQgetResult(conn)}) {
  }
}

}  // namespace

absl::Status ResultError(const PGresult* result, PGconn* conn) {
  if (result == nullptr) {
    return absl::UnavailableError(StrCat("PostgreSQL: ", Trimmed(PQerrorMessage(conn))));
  }
  std::string message = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
  if (message.empty()) message = Trimmed(PQresultErrorMessage(result));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn));
  std::string out = message;
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
    StrAppend(&out, " (detail: ", Trimmed(detail), ")");
  }
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
    StrAppend(&out, " (hint: ", Trimmed(hint), ")");
  }
  if (const char* context = PQresultErrorField(result, PG_DIAG_CONTEXT)) {
    StrAppend(&out, " (where: ", Trimmed(context), ")");
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (state != nullptr) {
    StrAppend(&out, " [SQLSTATE ", state, "]");
    if (auto advice = Advice(state); !advice.empty()) StrAppend(&out, ": ", advice);
  }
  if (PQstatus(conn) == CONNECTION_BAD) return absl::UnavailableError(out);
  if (state != nullptr && std::string_view(state) == "42501") {
    return absl::PermissionDeniedError(out);
  }
  return absl::FailedPreconditionError(out);
}

absl::StatusOr<std::unique_ptr<PgClient>> PgClient::Connect(const ConnectParams& p) {
  const std::string port = StrCat(p.port);
  std::vector<const char*> keys = {"host",
                                   "port",
                                   "user",
                                   "password",
                                   "connect_timeout",
                                   "keepalives_idle",
                                   "keepalives_interval",
                                   "keepalives_count",
                                   "application_name"};
  std::vector<const char*> values = {
      p.host.c_str(), port.c_str(), p.user.c_str(),        p.password.c_str(), "20", "120",
      "30",           "6",          "materialize-postgres"};
  if (!p.database.empty()) keys.push_back("dbname"), values.push_back(p.database.c_str());
  if (!p.sslmode.empty()) keys.push_back("sslmode"), values.push_back(p.sslmode.c_str());
  keys.push_back(nullptr);
  values.push_back(nullptr);
  ConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (conn == nullptr) return absl::ResourceExhaustedError("out of memory connecting");
  if (PQstatus(conn.get()) != CONNECTION_OK) return ConnectError(conn.get(), p);
  std::unique_ptr<PgClient> client(new PgClient(std::move(conn)));
  // Long COPYs and migrations must not be cut off by a server-side default.
  if (auto s = client->Exec("SET statement_timeout = 0"); !s.ok()) return s;
  return client;
}

absl::Status PgClient::Exec(std::string_view sql) {
  ResultPtr r(PQexec(conn_.get(), std::string(sql).c_str()));
  const auto status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return ResultError(r.get(), conn_.get());
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PgClient::ExecParams(std::string_view sql, sql::Params params) {
  const auto values = Values(params);
  ResultPtr r(PQexecParams(conn_.get(), std::string(sql).c_str(), static_cast<int>(values.size()),
                           nullptr, values.data(), nullptr, nullptr, 0));
  const auto status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return ResultError(r.get(), conn_.get());
  }
  const char* tuples = PQcmdTuples(r.get());
  return tuples == nullptr || *tuples == '\0' ? 0 : std::stoll(tuples);
}

absl::Status PgClient::Query(std::string_view sql, sql::Params params,
                             absl::FunctionRef<absl::Status(sql::RowView)> row) {
  const auto values = Values(params);
  if (!PQsendQueryParams(conn_.get(), std::string(sql).c_str(), static_cast<int>(values.size()),
                         nullptr, values.data(), nullptr, nullptr, 0)) {
    return ResultError(nullptr, conn_.get());
  }
  PQsetSingleRowMode(conn_.get());
  absl::Status status;
  std::vector<std::optional<std::string_view>> cells;
  while (ResultPtr r{PQgetResult(conn_.get())}) {
    const auto kind = PQresultStatus(r.get());
    if (kind == PGRES_SINGLE_TUPLE) {
      if (!status.ok()) continue;  // Keep draining after a callback failed.
      cells.clear();
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        if (PQgetisnull(r.get(), 0, c)) {
          cells.push_back(std::nullopt);
        } else {
          cells.emplace_back(std::string_view(PQgetvalue(r.get(), 0, c),
                                              static_cast<size_t>(PQgetlength(r.get(), 0, c))));
        }
      }
      status = row(cells);
    } else if (kind != PGRES_TUPLES_OK && kind != PGRES_COMMAND_OK && status.ok()) {
      status = ResultError(r.get(), conn_.get());
    }
  }
  if (status.ok() && PQstatus(conn_.get()) == CONNECTION_BAD) {
    return ResultError(nullptr, conn_.get());
  }
  return status;
}

absl::Status PgClient::CopyIn(std::string_view copy_sql, std::string_view data) {
  ResultPtr start(PQexec(conn_.get(), std::string(copy_sql).c_str()));
  if (start == nullptr || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return ResultError(start.get(), conn_.get());
  }
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; sent && at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(conn_.get(), data.data() + at, static_cast<int>(n)) == 1;
  }
  if (!sent || PQputCopyEnd(conn_.get(), nullptr) != 1) {
    Drain(conn_.get());
    return ResultError(nullptr, conn_.get());
  }
  ResultPtr end(PQgetResult(conn_.get()));
  absl::Status status;
  if (end == nullptr || PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
    status = ResultError(end.get(), conn_.get());
  }
  Drain(conn_.get());
  return status;
}

}  // namespace connectors::postgres
