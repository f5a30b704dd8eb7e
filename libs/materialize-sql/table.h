// Resource configs and the resolved table model: a binding's columns in keys, values, document
// order, each with its endpoint name, quoted identifier and mapped type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/materialize-sql/dialect.h"
#include "libs/schema-gen/schema.h"
#include "proto/flow.pb.h"

namespace connectors::sql {

// {"table": ..., "schema": ..., "delta_updates": ...}; `schema` defaults to the endpoint's.
struct ResourceConfig {
  std::string table;
  std::string schema;
  bool delta_updates = false;
};

// The resource config schema every SQL destination shares (x-collection-name, x-schema-name,
// x-delta-updates).
schema::Schema ResourceConfigSchema();
absl::StatusOr<ResourceConfig> ParseResourceConfig(std::string_view json,
                                                   std::string_view default_schema);
// [schema, table], in endpoint names.
std::vector<std::string> ResourcePath(const ResourceConfig& config, const Dialect& dialect);

enum class Role { kKey, kValue, kDocument };

struct Column {
  std::string field;  // Flow field name.
  std::string name;   // Endpoint column name (Dialect::Name).
  std::string ident;  // Quoted identifier.
  ColumnType type;
  bool not_null = false;
  Role role = Role::kValue;
  FieldShape shape;
};

struct Table {
  uint32_t binding = 0;
  std::string schema;  // Endpoint names.
  std::string name;
  std::string ident;  // Quoted schema-qualified identifier.
  bool delta_updates = false;
  std::vector<Column> columns;  // Keys, then values, then the document (if any).
  size_t num_keys = 0;
  bool has_document = false;
  std::string source;  // Collection name, for comments and errors.

  std::span<const Column> keys() const { return {columns.data(), num_keys}; }
  std::span<const Column> non_keys() const {
    return {columns.data() + num_keys, columns.size() - num_keys};
  }
  const Column* document() const { return has_document ? &columns.back() : nullptr; }
  // "table "s"."t" (binding 0, collection c)" for error messages.
  std::string Describe() const;
};

// The quoted, schema-qualified identifier of [schema, table].
std::string QualifiedIdent(const Dialect& dialect, std::string_view schema, std::string_view table);

// Resolves a materialization binding. Fails when a selected field has no projection or two
// selected fields map to the same column name.
absl::StatusOr<Table> BuildTable(const flow::MaterializationSpec::Binding& binding, uint32_t index,
                                 const Dialect& dialect, std::string_view default_schema);

}  // namespace connectors::sql
