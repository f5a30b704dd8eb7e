#include "source-postgres/config.h"

#include <charconv>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/network-tunnel/tunnel.h"
#include "libs/schema-gen/schema.h"

namespace connectors::postgres {
namespace {

absl::Status ConfigError(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("invalid `", field, "`: ", what));
}

// Reads an optional string member; absent or null leaves *out alone.
void ReadString(const simdjson::dom::element& obj, const char* key, std::string* out) {
  std::string_view v;
  if (obj[key].get(v) == simdjson::SUCCESS) *out = std::string(v);
}

}  // namespace

ConnectParams Config::Connect(bool replication) const {
  ConnectParams p;
  p.host = host;
  p.port = port;
  p.user = user;
  p.password = password;
  p.database = database;
  p.sslmode = sslmode;
  p.replication = replication;
  p.connect_timeout_s = replication ? 30 : 20;
  return p;
}

std::string ConfigSchema() {
  using namespace schema;
  Schema advanced =
      Object("Advanced Options", "Settings most captures leave at their defaults.")
          .Property("publicationName",
                    String("Publication Name",
                           "Publication whose tables the capture streams; it must exist.")
                        .Default("flow_publication"))
          .Property("slotName", String("Slot Name",
                                       "Logical replication slot owned by this capture; give "
                                       "every capture of the database its own.")
                                    .Default("flow_slot"))
          .Property("watermarksTable",
                    String("Watermarks Table",
                           "Table (schema.table) the capture upserts a row into to fence "
                           "each backfill chunk; created when missing.")
                        .Default("public.flow_watermarks")
                        .Pattern("^[^.]+\\.[^.]+$"))
          .Property(
              "sslmode",
              String("SSL Mode", "libpq sslmode for every connection (libpq's default when unset).")
                  .Enum({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}))
          .Property("backfill_chunk_size",
                    Integer("Backfill Chunk Size",
                            "Rows read per backfill query; each chunk is committed with "
                            "the changes that raced it.")
                        .Default(50000)
                        .Minimum(1))
          .Property("source_tag", String("Source Tag",
                                         "When set, every document gets this value at "
                                         "/_meta/source/tag."))
          .Advanced();
  return Object("PostgreSQL Connection")
      .Property("address",
                String("Server Address",
                       "host or host:port of the PostgreSQL server (port 5432 when omitted).")
                    .Order(0))
      .Property("user", String("User", "Role to log in as; it needs the REPLICATION attribute.")
                            .Default("flow_capture")
                            .Order(1))
      .Property("password", String("Password", "Password of that role.").Secret().Order(2))
      .Property(
          "database",
          String("Database", "Database whose tables are captured.").Default("postgres").Order(3))
      .Property("advanced", advanced)
      .Property("networkTunnel", tunnel::NetworkTunnelSchema())
      .Required({"address", "user", "password", "database"})
      .ToJson();
}

std::string ResourceSchema() {
  using namespace schema;
  return Object("SQL Database Resource Spec")
      .Property("namespace", String("Schema", "PostgreSQL schema of the table.").Order(0))
      .Property("stream", String("Table Name", "Table to capture.").Order(1))
      .Property("mode",
                String("Backfill Mode",
                       "How the table is backfilled: automatic (empty), Precise and Normal "
                       "(keyed; Precise drops changes to rows not yet read), Without Primary Key "
                       "(physical order), or Only Changes (no backfill).")
                    .Enum({"", "Normal", "Precise", "Only Changes", "Without Primary Key"})
                    .Order(2))
      .Property("priority", Integer("Backfill Priority",
                                    "Bindings with a higher number finish their backfills "
                                    "before lower ones start.")
                                .Default(0)
                                .Order(3))
      .Required({"namespace", "stream"})
      .ToJson();
}

absl::StatusOr<Config> ParseConfig(std::string_view config_json) {
  json::Parser parser;
  auto root = parser.Parse(config_json);
  if (!root.ok()) return root.status();
  Config c;
  std::string address;
  ReadString(*root, "address", &address);
  ReadString(*root, "user", &c.user);
  ReadString(*root, "password", &c.password);
  ReadString(*root, "database", &c.database);
  if (address.empty()) return ConfigError("address", "must be set to host or host:port");
  if (c.user.empty()) return ConfigError("user", "must not be empty");
  if (address.find(".pooler.supabase.com") != std::string::npos) {
    return ConfigError("address",
                       "a Supabase connection pooler cannot replicate: use the "
                       "database's direct address");
  }
  const size_t colon = address.rfind(':');
  if (colon != std::string::npos && address.find(']') == std::string::npos &&
      address.find(':') == colon) {
    std::string_view port(address.data() + colon + 1, address.size() - colon - 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), c.port);
    if (ec != std::errc() || end != port.data() + port.size() || c.port <= 0 || c.port > 65535) {
      return ConfigError("address", StrCat("\"", port, "\" is not a port number"));
    }
    c.host = address.substr(0, colon);
  } else {
    c.host = address;
  }
  simdjson::dom::element adv;
  if ((*root)["advanced"].get(adv) == simdjson::SUCCESS && adv.is_object()) {
    ReadString(adv, "publicationName", &c.publication);
    ReadString(adv, "slotName", &c.slot);
    ReadString(adv, "sslmode", &c.sslmode);
    ReadString(adv, "source_tag", &c.source_tag);
    std::string watermarks;
    ReadString(adv, "watermarksTable", &watermarks);
    if (!watermarks.empty()) {
      const size_t dot = watermarks.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == watermarks.size()) {
        return ConfigError("advanced.watermarksTable",
                           "must be schema-qualified, like public.flow_watermarks");
      }
      c.watermarks_schema = watermarks.substr(0, dot);
      c.watermarks_table = watermarks.substr(dot + 1);
    }
    int64_t chunk = 0;
    if (adv["backfill_chunk_size"].get(chunk) == simdjson::SUCCESS && chunk > 0) {
      c.chunk_size = chunk;
    }
  }
  if (c.publication.empty()) return ConfigError("advanced.publicationName", "must not be empty");
  if (c.slot.empty()) return ConfigError("advanced.slotName", "must not be empty");
  return c;
}

absl::StatusOr<Resource> ParseResource(std::string_view resource_json) {
  json::Parser parser;
  auto root = parser.Parse(resource_json);
  if (!root.ok()) return root.status();
  Resource r;
  ReadString(*root, "namespace", &r.schema);
  ReadString(*root, "stream", &r.table);
  if (r.schema.empty() || r.table.empty()) {
    return absl::InvalidArgumentError("resource config needs `namespace` and `stream`");
  }
  std::string mode;
  ReadString(*root, "mode", &mode);
  using M = sqlcapture::BackfillMode;
  if (mode.empty()) {
    r.mode = M::kAutomatic;
  } else if (mode == "Normal") {
    r.mode = M::kNormal;
  } else if (mode == "Precise") {
    r.mode = M::kPrecise;
  } else if (mode == "Only Changes") {
    r.mode = M::kOnlyChanges;
  } else if (mode == "Without Primary Key") {
    r.mode = M::kKeyless;
  } else {
    return absl::InvalidArgumentError(StrCat("resource `mode` \"", mode, "\" is not known"));
  }
  int64_t priority = 0;
  if ((*root)["priority"].get(priority) == simdjson::SUCCESS) r.priority = priority;
  return r;
}

std::string ResourceJson(std::string_view schema, std::string_view table, bool keyless) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("namespace").String(schema).Key("stream").String(table);
  if (keyless) w.Key("mode").String("Without Primary Key");
  w.EndObject();
  return out;
}

}  // namespace connectors::postgres
