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

// Reads the schemas and every table in `schemas`.
absl::StatusOr<InfoSchema> LoadInfoSchema(Client& client, const std::set<std::string>& schemas);

}  // namespace connectors::sql
