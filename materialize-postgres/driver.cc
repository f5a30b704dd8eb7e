#include "materialize-postgres/driver.h"

#include "libs/base/strings.h"
#include "libs/materialize-sql/apply.h"
#include "libs/materialize-sql/sql.h"
#include "libs/materialize-sql/transactor.h"
#include "libs/materialize-sql/validate.h"
#include "libs/network-tunnel/tunnel.h"
#include "materialize-postgres/config.h"
#include "materialize-postgres/dialect.h"

namespace connectors::postgres {
namespace {

// Every schema, including those the user has no privilege on (information_schema hides them).
constexpr std::string_view kListSchemas = "SELECT nspname FROM pg_catalog.pg_namespace";

// A client whose connection runs through an SSH tunnel; the tunnel outlives the connection.
class TunneledClient final : public sql::Client {
 public:
  TunneledClient(std::unique_ptr<tunnel::Tunnel> tunnel, std::unique_ptr<PgClient> client)
      : tunnel_(std::move(tunnel)), client_(std::move(client)) {}
  absl::Status Exec(std::string_view sql) override { return Check(client_->Exec(sql)); }
  absl::StatusOr<int64_t> ExecParams(std::string_view sql, sql::Params params) override {
    auto n = client_->ExecParams(sql, params);
    if (!n.ok()) return Check(n.status());
    return n;
  }
  absl::Status Query(std::string_view sql, sql::Params params,
                     absl::FunctionRef<absl::Status(sql::RowView)> row) override {
    return Check(client_->Query(sql, params, row));
  }
  absl::Status CopyIn(std::string_view copy_sql, std::string_view data) override {
    return Check(client_->CopyIn(copy_sql, data));
  }

 private:
  // A failure caused by a lost tunnel names the tunnel, not just the dropped connection.
  absl::Status Check(absl::Status s) const {
    if (s.ok() || tunnel_->status().ok()) return s;
    return absl::UnavailableError(
        StrCat(MessageOf(s), " (the SSH tunnel was lost: ", MessageOf(tunnel_->status()), ")"));
  }
  std::unique_ptr<tunnel::Tunnel> tunnel_;  // Declared first: destroyed after the client.
  std::unique_ptr<PgClient> client_;
};

// A connection and the config it was made from.
struct Session {
  EndpointConfig config;
  std::unique_ptr<sql::Client> client;
};

absl::StatusOr<Session> Connect(std::string_view config_json, const Logger& log) {
  auto config = ParseEndpointConfig(config_json);
  if (!config.ok()) return config.status();
  auto tunnel_config = tunnel::ParseNetworkTunnel(config_json);
  if (!tunnel_config.ok()) return tunnel_config.status();
  ConnectParams params = config->Params();
  std::unique_ptr<tunnel::Tunnel> tunnel;
  if (*tunnel_config) {
    auto started = tunnel::Tunnel::Start(**tunnel_config, params.host, params.port, log);
    if (!started.ok()) return started.status();
    tunnel = *std::move(started);
    params.host = tunnel->local_host();
    params.port = tunnel->local_port();
  }
  auto client = PgClient::Connect(params);
  if (!client.ok()) return client.status();
  std::unique_ptr<sql::Client> out = std::move(*client);
  if (tunnel) {
    out = std::make_unique<TunneledClient>(
        std::move(tunnel), std::unique_ptr<PgClient>(static_cast<PgClient*>(out.release())));
  }
  return Session{std::move(*config), std::move(out)};
}

// Every missing privilege, in one error, before anything is created.
absl::Status CheckPrivileges(sql::Client& client, const std::set<std::string>& schemas,
                             const sql::InfoSchema& info) {
  std::string problems;
  for (const auto& schema : schemas) {
    const std::optional<std::string> param[] = {schema};
    const char* query =
        info.schemas.contains(schema)
            ? "SELECT has_schema_privilege(current_user, $1::text, 'CREATE') AND "
              "has_schema_privilege(current_user, $1::text, 'USAGE')"
            : "SELECT has_database_privilege(current_user, current_database(), 'CREATE') "
              "WHERE $1::text IS NOT NULL";
    auto rows = sql::QueryAll(client, query, param);
    if (!rows.ok()) return rows.status();
    if (!rows->empty() && (*rows)[0][0] == "f") {
      StrAppend(&problems, problems.empty() ? "" : "; ",
                info.schemas.contains(schema)
                    ? StrCat("the user lacks CREATE or USAGE on schema \"", schema,
                             "\" (GRANT CREATE, USAGE ON SCHEMA ... TO the user)")
                    : StrCat("schema \"", schema,
                             "\" does not exist and the user may not create "
                             "it (create it, or GRANT CREATE ON DATABASE ... TO the user)"));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(StrCat("missing privileges: ", problems));
}

}  // namespace

materialize::Response::Spec PostgresDriver::Spec() const {
  materialize::Response::Spec spec;
  spec.set_config_schema_json(EndpointConfigSchema().ToJson());
  spec.set_resource_config_schema_json(sql::ResourceConfigSchema().ToJson());
  spec.set_documentation_url("https://go.estuary.dev/materialize-postgresql");
  return spec;
}

absl::StatusOr<materialize::Response::Validated> PostgresDriver::Validate(
    const materialize::Request::Validate& request, const Logger& log) {
  auto session = Connect(request.config_json(), log);
  if (!session.ok()) return session.status();
  const PostgresDialect dialect;
  std::vector<sql::ResourceConfig> resources;
  std::set<std::string> schemas = {dialect.Name(session->config.schema)};
  for (int i = 0; i < request.bindings_size(); ++i) {
    auto resource = sql::ParseResourceConfig(request.bindings(i).resource_config_json(),
                                             session->config.schema);
    if (!resource.ok()) {
      return absl::InvalidArgumentError(StrCat("binding ", i, ": ", MessageOf(resource.status())));
    }
    schemas.insert(dialect.Name(resource->schema));
    resources.push_back(std::move(*resource));
  }
  auto info = sql::LoadInfoSchema(*session->client, schemas, kListSchemas);
  if (!info.ok()) return info.status();
  if (auto s = CheckPrivileges(*session->client, schemas, *info); !s.ok()) return s;

  materialize::Response::Validated validated;
  std::set<std::vector<std::string>> paths;
  for (int i = 0; i < request.bindings_size(); ++i) {
    const auto path = sql::ResourcePath(resources[i], dialect);
    if (!paths.insert(path).second) {
      return absl::InvalidArgumentError(StrCat("binding ", i, ": table ",
                                               sql::QualifiedIdent(dialect, path[0], path[1]),
                                               " is already the target of another binding"));
    }
    const auto* last = request.has_last_materialization()
                           ? sql::FindLastBinding(request.last_materialization(), path)
                           : nullptr;
    auto binding = sql::ValidateBinding(request.bindings(i), resources[i], *info, last, dialect);
    if (!binding.ok()) return binding.status();
    *validated.add_bindings() = std::move(*binding);
  }
  return validated;
}

absl::StatusOr<materialize::Response::Applied> PostgresDriver::Apply(
    const materialize::Request::Apply& request, const Logger& log) {
  const auto& spec = request.materialization();
  auto session = Connect(spec.config_json(), log);
  if (!session.ok()) return session.status();
  const PostgresDialect dialect;
  auto info = sql::LoadInfoSchema(
      *session->client, sql::SchemasOf(spec, dialect, session->config.schema), kListSchemas);
  if (!info.ok()) return info.status();
  auto plan = sql::PlanApply(
      spec, request.has_last_materialization() ? &request.last_materialization() : nullptr, *info,
      dialect, session->config.schema);
  if (!plan.ok()) return plan.status();
  materialize::Response::Applied applied;
  if (plan->empty()) return applied;
  // One transaction: an interrupted Apply leaves nothing behind and simply runs again.
  std::string script = "BEGIN;\n";
  std::string description;
  for (const auto& statement : *plan) {
    StrAppend(&script, statement, "\n");
    StrAppend(&description, description.empty() ? "" : "\n", statement);
  }
  script += "COMMIT;";
  if (auto s = session->client->Exec(script); !s.ok()) {
    (void)session->client->Exec("ROLLBACK");
    return absl::Status(
        s.code(), StrCat("applying the materialization (nothing was changed): ", MessageOf(s)));
  }
  log.Info("applied", {LogField::Int("statements", static_cast<int64_t>(plan->size()))});
  applied.set_action_description(description);
  return applied;
}

absl::StatusOr<runtime::OpenedTransactor> PostgresDriver::Open(
    const materialize::Request::Open& request, const Logger& log) {
  const auto& spec = request.materialization();
  auto session = Connect(spec.config_json(), log);
  if (!session.ok()) return session.status();
  const PostgresDialect dialect;
  std::vector<sql::Table> tables;
  for (int i = 0; i < spec.bindings_size(); ++i) {
    auto table = sql::BuildTable(spec.bindings(i), static_cast<uint32_t>(i), dialect,
                                 session->config.schema);
    if (!table.ok()) return table.status();
    tables.push_back(std::move(*table));
  }
  sql::TransactorOptions options;
  options.hard_delete = session->config.hard_delete;
  return sql::OpenTransactor(
      std::move(session->client), std::move(tables),
      sql::QualifiedIdent(dialect, dialect.Name(session->config.schema), sql::kCheckpointsTable),
      request, options, log);
}

}  // namespace connectors::postgres
