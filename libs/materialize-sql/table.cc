#include "libs/materialize-sql/table.h"

#include <map>
#include <set>

#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::sql {

schema::Schema ResourceConfigSchema() {
  using namespace schema;
  return Object("SQL Table", "A table that a collection is materialized into.")
      .Property("table", String("Table", "Name of the table to materialize into.")
                             .MinLength(1)
                             .CollectionName()
                             .Order(0))
      .Property("schema",
                String("Schema", "Schema of the table; defaults to the endpoint's schema.")
                    .SchemaName()
                    .Order(1))
      .Property("delta_updates",
                Boolean("Delta Updates",
                        "Append every document as a new row instead of keeping one row per key.")
                    .DeltaUpdates()
                    .Order(2))
      .Required({"table"});
}

absl::StatusOr<ResourceConfig> ParseResourceConfig(std::string_view json,
                                                   std::string_view default_schema) {
  json::Parser parser;
  auto doc = parser.Parse(json);
  if (!doc.ok())
    return absl::InvalidArgumentError(StrCat("resource config: ", MessageOf(doc.status())));
  ResourceConfig config;
  std::string_view text;
  if ((*doc)["table"].get(text) != simdjson::SUCCESS || text.empty()) {
    return absl::InvalidArgumentError("resource config: \"table\" must be a non-empty string");
  }
  config.table = std::string(text);
  if ((*doc)["schema"].get(text) == simdjson::SUCCESS && !text.empty()) {
    config.schema = std::string(text);
  } else {
    config.schema = std::string(default_schema);
  }
  bool delta = false;
  if ((*doc)["delta_updates"].get(delta) == simdjson::SUCCESS) config.delta_updates = delta;
  return config;
}

std::vector<std::string> ResourcePath(const ResourceConfig& config, const Dialect& dialect) {
  return {dialect.Name(config.schema), dialect.Name(config.table)};
}

std::string QualifiedIdent(const Dialect& dialect, std::string_view schema,
                           std::string_view table) {
  return StrCat(dialect.Quote(schema), ".", dialect.Quote(table));
}

std::string Table::Describe() const {
  return StrCat("table ", ident, " (binding ", binding, ", collection ", source, ")");
}

absl::StatusOr<Table> BuildTable(const flow::MaterializationSpec::Binding& binding, uint32_t index,
                                 const Dialect& dialect, std::string_view default_schema) {
  auto resource = ParseResourceConfig(binding.resource_config_json(), default_schema);
  if (!resource.ok()) return resource.status();
  Table table;
  table.binding = index;
  table.schema = dialect.Name(resource->schema);
  table.name = dialect.Name(resource->table);
  table.ident = QualifiedIdent(dialect, table.schema, table.name);
  table.delta_updates = binding.delta_updates();
  table.source = binding.collection().name();

  std::map<std::string, const flow::Projection*> projections;
  for (const auto& p : binding.collection().projections()) projections[p.field()] = &p;
  std::set<std::string> names;
  auto add = [&](const std::string& field, Role role) -> absl::Status {
    auto it = projections.find(field);
    if (it == projections.end()) {
      return absl::InvalidArgumentError(StrCat("binding ", index, ": selected field \"", field,
                                               "\" has no projection in collection ",
                                               table.source));
    }
    Column column;
    column.field = field;
    column.shape = ShapeOf(*it->second);
    column.name = dialect.Name(field);
    column.ident = dialect.Quote(column.name);
    column.type = dialect.MapType(column.shape);
    column.role = role;
    if (role == Role::kDocument) column.type.kind = ValueKind::kDocument;
    column.not_null = role == Role::kKey || role == Role::kDocument || !column.shape.nullable;
    if (!names.insert(column.name).second) {
      return absl::InvalidArgumentError(StrCat("binding ", index, ": field \"", field,
                                               "\" maps to column name \"", column.name,
                                               "\", which another selected field already uses"));
    }
    table.columns.push_back(std::move(column));
    return absl::OkStatus();
  };
  const auto& selection = binding.field_selection();
  for (const auto& f : selection.keys()) {
    if (auto s = add(f, Role::kKey); !s.ok()) return s;
  }
  table.num_keys = table.columns.size();
  for (const auto& f : selection.values()) {
    if (auto s = add(f, Role::kValue); !s.ok()) return s;
  }
  if (!selection.document().empty()) {
    if (auto s = add(selection.document(), Role::kDocument); !s.ok()) return s;
    table.has_document = true;
  }
  if (table.num_keys == 0) {
    return absl::InvalidArgumentError(StrCat("binding ", index, " selects no key fields"));
  }
  return table;
}

}  // namespace connectors::sql
