// What already exists in the destination: schemas, tables and their columns, read from the
// standard information_schema views.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/materialize-sql/client.h"

namespace connectors::sql {

struct ExistingColumn {
  std::string name;
  std::string type;  // information_schema.columns.data_type, lower case.
  bool nullable = true;
};

struct ExistingTable {
  std::vector<ExistingColumn> columns;
  const ExistingColumn* Find(std::string_view name) const;
};

struct InfoSchema {
  std::set<std::string> schemas;
  std::map<std::pair<std::string, std::string>, ExistingTable> tables;
  const ExistingTable* Find(std::string_view schema, std::string_view table) const;
};

inline constexpr std::string_view kListSchemas =
    "SELECT schema_name FROM information_schema.schemata";

// Reads the schemas (with `list_schemas`, a query returning one name per row: the standard view
// hides schemas the user has no privilege on, which an endpoint's catalog may not) and every
// table in `schemas`.
absl::StatusOr<InfoSchema> LoadInfoSchema(Client& client, const std::set<std::string>& schemas,
                                          std::string_view list_schemas = kListSchemas);

}  // namespace connectors::sql
