// Endpoint and resource configuration of source-postgres: their JSON schemas (Spec) and
// parsing. The runtime validates configs against the schemas first, so parsing only applies
// defaults and the checks a schema cannot express (address form, schema-qualified names).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/sqlcapture/database.h"
#include "source-postgres/pg.h"

namespace connectors::postgres {

struct Config {
  std::string host;
  int port = 5432;
  std::string user = "flow_capture";
  std::string password;
  std::string database = "postgres";
  std::string sslmode;
  std::string publication = "flow_publication";
  std::string slot = "flow_slot";
  std::string watermarks_schema = "public";
  std::string watermarks_table = "flow_watermarks";
  int64_t chunk_size = 50000;
  std::string source_tag;

  ConnectParams Connect(bool replication = false) const;
  std::string WatermarksName() const { return watermarks_schema + "." + watermarks_table; }
  std::string WatermarksSql() const {
    return QuoteIdent(watermarks_schema) + "." + QuoteIdent(watermarks_table);
  }
};

struct Resource {
  std::string schema;  // `namespace`
  std::string table;   // `stream`
  sqlcapture::BackfillMode mode = sqlcapture::BackfillMode::kAutomatic;
  int64_t priority = 0;
};

std::string ConfigSchema();
std::string ResourceSchema();

absl::StatusOr<Config> ParseConfig(std::string_view config_json);
absl::StatusOr<Resource> ParseResource(std::string_view resource_json);

// Resource config JSON for a discovered table.
std::string ResourceJson(std::string_view schema, std::string_view table, bool keyless);

}  // namespace connectors::postgres
