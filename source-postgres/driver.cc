#include "source-postgres/driver.h"

#include <map>

#include "libs/base/strings.h"
#include "libs/sqlcapture/capture.h"
#include "source-postgres/config.h"
#include "source-postgres/database.h"
#include "source-postgres/discovery.h"
#include "source-postgres/prerequisites.h"

namespace connectors::postgres {
namespace {

// The tables of some bindings, in binding order, and the names of those not found.
struct BoundTables {
  std::vector<Table> tables;
  std::vector<Resource> resources;
  std::vector<std::string> missing;
};

template <class Bindings>
absl::StatusOr<BoundTables> Bind(std::vector<Table> all, const Bindings& bindings) {
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (size_t i = 0; i < all.size(); ++i) index[{all[i].schema, all[i].name}] = i;
  BoundTables out;
  for (const auto& binding : bindings) {
    auto resource = ParseResource(binding.resource_config_json());
    if (!resource.ok()) return resource.status();
    auto it = index.find({resource->schema, resource->table});
    if (it == index.end()) {
      out.missing.push_back(StrCat(resource->schema, ".", resource->table));
      continue;
    }
    out.tables.push_back(all[it->second]);
    out.resources.push_back(std::move(*resource));
  }
  return out;
}

struct Connected {
  std::unique_ptr<tunnel::Tunnel> tunnel;  // Declared first: destroyed after the connection.
  Config config;                           // host/port point at the tunnel when there is one.
  Conn conn;
};

absl::StatusOr<Connected> ConnectTo(std::string_view config_json, const Logger& log) {
  auto config = ParseConfig(config_json);
  if (!config.ok()) return config.status();
  auto tunnel_config = tunnel::ParseNetworkTunnel(config_json);
  if (!tunnel_config.ok()) return tunnel_config.status();
  std::unique_ptr<tunnel::Tunnel> tunnel;
  if (tunnel_config->has_value()) {
    auto started = tunnel::Tunnel::Start(**tunnel_config, config->host, config->port, log);
    if (!started.ok()) return started.status();
    tunnel = std::move(*started);
    config->host = tunnel->local_host();
    config->port = tunnel->local_port();
  }
  auto conn = Conn::Connect(config->Connect());
  if (!conn.ok()) return conn.status();
  return Connected{std::move(tunnel), std::move(*config), std::move(*conn)};
}

}  // namespace

::capture::Response::Spec PostgresDriver::Spec() const {
  ::capture::Response::Spec spec;
  spec.set_config_schema_json(ConfigSchema());
  spec.set_resource_config_schema_json(ResourceSchema());
  spec.set_documentation_url("https://go.estuary.dev/source-postgresql");
  spec.add_resource_path_pointers("/namespace");
  spec.add_resource_path_pointers("/stream");
  return spec;
}

absl::StatusOr<::capture::Response::Discovered> PostgresDriver::Discover(
    const ::capture::Request::Discover& request, const Logger& log) {
  auto c = ConnectTo(request.config_json(), log);
  if (!c.ok()) return c.status();
  auto tables = ListTables(c->conn, c->config);
  if (!tables.ok()) return tables.status();
  ::capture::Response::Discovered discovered;
  for (const Table& t : *tables) DescribeBinding(t, discovered.add_bindings());
  if (tables->empty()) {
    log.Warn("no tables discovered (system schemas such as pg_catalog are never discovered)");
  }
  return discovered;
}

absl::StatusOr<::capture::Response::Validated> PostgresDriver::Validate(
    const ::capture::Request::Validate& request, const Logger& log) {
  auto c = ConnectTo(request.config_json(), log);
  if (!c.ok()) return c.status();
  auto tables = ListTables(c->conn, c->config);
  if (!tables.ok()) return tables.status();
  auto bound = Bind(std::move(*tables), request.bindings());
  if (!bound.ok()) return bound.status();
  std::vector<const Table*> ptrs;
  for (const Table& t : bound->tables) ptrs.push_back(&t);
  if (auto s = CheckPrerequisites(c->conn, c->config, ptrs, bound->missing); !s.ok()) return s;
  ::capture::Response::Validated validated;
  for (const auto& binding : request.bindings()) {
    auto resource = ParseResource(binding.resource_config_json());
    if (!resource.ok()) return resource.status();
    auto* out = validated.add_bindings();
    out->add_resource_path(resource->schema);
    out->add_resource_path(resource->table);
  }
  return validated;
}

absl::StatusOr<::capture::Response::Applied> PostgresDriver::Apply(
    const ::capture::Request::Apply& request, const Logger& log) {
  return ::capture::Response::Applied();  // Validate already prepared the database.
}

absl::StatusOr<std::unique_ptr<runtime::Capture>> PostgresDriver::Open(
    const ::capture::Request::Open& request, const Logger& log) {
  auto c = ConnectTo(request.capture().config_json(), log);
  if (!c.ok()) return c.status();
  auto tables = ListTables(c->conn, c->config);
  if (!tables.ok()) return tables.status();
  auto bound = Bind(std::move(*tables), request.capture().bindings());
  if (!bound.ok()) return bound.status();
  std::vector<const Table*> ptrs;
  for (const Table& t : bound->tables) ptrs.push_back(&t);
  if (auto s = CheckPrerequisites(c->conn, c->config, ptrs, bound->missing); !s.ok()) return s;

  std::vector<sqlcapture::TableSpec> specs;
  std::vector<sqlcapture::BindingSpec> bindings;
  for (size_t i = 0; i < bound->tables.size(); ++i) {
    const Table& t = bound->tables[i];
    sqlcapture::TableSpec spec;
    spec.schema = t.schema;
    spec.table = t.name;
    spec.keyed = !t.key.empty();
    spec.bytewise_key_order = spec.keyed;
    for (int k : t.key) spec.bytewise_key_order &= BytewiseOrdered(t.columns[k].type);
    specs.push_back(spec);
    sqlcapture::BindingSpec b;
    b.index = static_cast<uint32_t>(i);
    b.state_key = request.capture().bindings(i).state_key();
    if (b.state_key.empty()) b.state_key = StrCat(t.schema, ".", t.name);
    b.table = static_cast<int>(i);
    b.mode = bound->resources[i].mode;
    b.priority = bound->resources[i].priority;
    bindings.push_back(std::move(b));
  }
  sqlcapture::EngineOptions options;
  options.chunk_size = c->config.chunk_size;
  options.source_tag = c->config.source_tag;
  ConnectParams params = c->config.Connect();
  auto db = std::make_unique<PgDatabase>(c->config, params, std::move(c->conn),
                                         std::move(bound->tables), &log, std::move(c->tunnel));
  auto engine = sqlcapture::Engine::Create(std::move(db), std::move(specs), std::move(bindings),
                                           request.state_json(), std::move(options));
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<runtime::Capture>(std::move(*engine));
}

}  // namespace connectors::postgres
