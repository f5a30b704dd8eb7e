#include "source-postgres/pg.h"

#include <cstdio>

#include "libs/base/strings.h"

namespace connectors::postgres {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return std::string(s);
}

// libpq reports connection failures as text only; map the common ones to what the user fixes.
absl::Status ConnectError(const ConnectParams& p, std::string_view message) {
  const std::string msg = Trim(message);
  const std::string where = StrCat(p.host, ":", p.port);
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos) {
    return absl::PermissionDeniedError(StrCat("incorrect username or password: PostgreSQL at ",
                                              where, " rejected user \"", p.user,
                                              "\" (check `user` and `password`)"));
  }
  if (msg.find("does not exist") != std::string::npos &&
      msg.find("database") != std::string::npos) {
    return absl::NotFoundError(
        StrCat("database \"", p.database, "\" does not exist at ", where, " (check `database`)"));
  }
  if (msg.find("permission denied for database") != std::string::npos) {
    return absl::PermissionDeniedError(StrCat(
        "user \"", p.user, "\" does not have CONNECT privilege to database \"", p.database, "\""));
  }
  if (msg.find("replication connection") != std::string::npos ||
      msg.find("must be superuser or replication") != std::string::npos) {
    return absl::PermissionDeniedError(
        StrCat("user \"", p.user, "\" may not open a replication connection: ", msg,
               " (fix: ALTER ROLE ", QuoteIdent(p.user), " WITH REPLICATION;)"));
  }
  return absl::UnavailableError(StrCat("could not connect to PostgreSQL at ", where,
                                       " (check `address`", p.sslmode.empty() ? "" : " and sslmode",
                                       "): ", msg));
}

}  // namespace

absl::StatusOr<Conn> Conn::Connect(const ConnectParams& p) {
  const std::string port = StrCat(p.port);
  const std::string timeout = StrCat(p.connect_timeout_s);
  std::vector<const char*> keys = {"host",
                                   "port",
                                   "user",
                                   "password",
                                   "dbname",
                                   "connect_timeout",
                                   "options",
                                   "application_name",
                                   "keepalives_idle",
                                   "keepalives_interval",
                                   "keepalives_count"};
  std::vector<const char*> values = {
      p.host.c_str(),
      port.c_str(),
      p.user.c_str(),
      p.password.c_str(),
      p.database.c_str(),
      timeout.c_str(),
      "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=1",
      "estuary_flow",
      "120",
      "30",
      "6"};
  if (!p.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(p.sslmode.c_str());
  }
  if (p.replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  ConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK) return ConnectError(p, PQerrorMessage(conn.get()));
  return Conn(std::move(conn));
}

absl::Status ResultError(const PGresult* result, PGconn* conn) {
  std::string message;
  const char* state = nullptr;
  if (result != nullptr) {
    message = Trim(PQresultErrorMessage(result));
    state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  }
  if (message.empty() && conn != nullptr) message = Trim(PQerrorMessage(conn));
  if (message.rfind("ERROR:  ", 0) == 0) message = message.substr(8);
  if (state != nullptr) StrAppend(&message, " (SQLSTATE ", state, ")");
  return absl::UnknownError(message);
}

std::string SqlState(const absl::Status& status) {
  std::string_view msg = MessageOf(status);
  auto at = msg.rfind("(SQLSTATE ");
  if (at == std::string_view::npos || msg.size() < at + 16) return "";
  return std::string(msg.substr(at + 10, 5));
}

absl::StatusOr<Rows> Conn::Query(std::string_view sql, const std::vector<Value>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Value& v : params) values.push_back(v.has_value() ? v->c_str() : nullptr);
  const std::string text(sql);
  ResultPtr res(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ResultError(res.get(), conn_.get());
  Rows rows;
  const int n = PQntuples(res.get());
  const int cols = PQnfields(res.get());
  rows.reserve(n);
  for (int r = 0; r < n; ++r) {
    auto& row = rows.emplace_back();
    row.reserve(cols);
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
      }
    }
  }
  return rows;
}

absl::Status Conn::Exec(std::string_view sql, const std::vector<Value>& params) {
  auto rows = Query(sql, params);
  return rows.ok() ? absl::OkStatus() : rows.status();
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string FormatLsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

absl::StatusOr<uint64_t> ParseLsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) {
    return absl::InvalidArgumentError(StrCat("\"", text, "\" is not an LSN (like 16/B374D848)"));
  }
  uint64_t parts[2] = {0, 0};
  std::string_view pieces[2] = {text.substr(0, slash), text.substr(slash + 1)};
  for (int i = 0; i < 2; ++i) {
    if (pieces[i].size() > 8) return absl::InvalidArgumentError(StrCat("bad LSN \"", text, "\""));
    for (char c : pieces[i]) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                       : -1;
      if (d < 0) return absl::InvalidArgumentError(StrCat("bad LSN \"", text, "\""));
      parts[i] = parts[i] * 16 + d;
    }
  }
  return (parts[0] << 32) | parts[1];
}

}  // namespace connectors::postgres
