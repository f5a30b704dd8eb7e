#include "libs/materialize-sql/apply.h"

#include <set>

#include "libs/base/strings.h"
#include "libs/materialize-sql/sql.h"
#include "libs/materialize-sql/validate.h"

namespace connectors::sql {
namespace {

// Whether the existing table can keep its rows' shape after a backfill (truncate) or must be
// re-created (drop + create).
bool MustRecreate(const Table& table, const ExistingTable& existing,
                  const flow::MaterializationSpec::Binding* last, const Dialect& dialect) {
  if (last != nullptr) {
    const auto& old_keys = last->field_selection().keys();
    std::vector<std::string> new_keys;
    for (const auto& k : table.keys()) new_keys.push_back(k.field);
    if (!std::equal(old_keys.begin(), old_keys.end(), new_keys.begin(), new_keys.end())) {
      return true;
    }
    if (last->delta_updates() != table.delta_updates) return true;
  }
  for (const auto& column : table.columns) {
    const ExistingColumn* have = existing.Find(column.name);
    if (have == nullptr || IsCompatible(have->type, column.type)) continue;
    if (column.role == Role::kKey) return true;
    if (!dialect.MigrationCast(have->type, column.type, column.ident).has_value()) return true;
  }
  return false;
}

absl::StatusOr<std::string> UpdateTable(const Table& table, const ExistingTable& existing,
                                        const Dialect& dialect) {
  AlterColumns alter;
  std::set<std::string> selected;
  for (const auto& column : table.columns) {
    selected.insert(column.name);
    const ExistingColumn* have = existing.Find(column.name);
    if (have == nullptr) {
      alter.add.push_back(&column);
      continue;
    }
    if (!IsCompatible(have->type, column.type)) {
      auto cast = column.role == Role::kKey
                      ? std::nullopt
                      : dialect.MigrationCast(have->type, column.type, column.ident);
      if (!cast.has_value()) {
        return absl::FailedPreconditionError(
            StrCat(table.Describe(), ": column ", column.ident, " has type ", have->type,
                   ", which cannot be converted to ", column.type.ddl, " (field \"", column.field,
                   "\"); increment the binding's backfill counter to re-create the table"));
      }
      alter.retype.push_back({&column, *cast});
    }
    if (!have->nullable && !column.not_null) alter.drop_not_null.push_back(column.ident);
  }
  for (const auto& have : existing.columns) {
    if (!selected.contains(have.name) && !have.nullable) {
      alter.drop_not_null.push_back(dialect.Quote(have.name));
    }
  }
  return AlterTable(table, alter);
}

}  // namespace

std::set<std::string> SchemasOf(const flow::MaterializationSpec& spec, const Dialect& dialect,
                                std::string_view default_schema) {
  std::set<std::string> schemas = {dialect.Name(default_schema)};
  for (const auto& b : spec.bindings()) {
    auto resource = ParseResourceConfig(b.resource_config_json(), default_schema);
    if (resource.ok()) schemas.insert(dialect.Name(resource->schema));
  }
  return schemas;
}

absl::StatusOr<std::vector<std::string>> PlanApply(const flow::MaterializationSpec& spec,
                                                   const flow::MaterializationSpec* last,
                                                   const InfoSchema& info, const Dialect& dialect,
                                                   std::string_view default_schema) {
  std::vector<std::string> out;
  const std::string checkpoint_schema = dialect.Name(default_schema);
  for (const auto& schema : SchemasOf(spec, dialect, default_schema)) {
    if (!info.schemas.contains(schema)) out.push_back(CreateSchema(dialect, schema));
  }
  if (info.Find(checkpoint_schema, kCheckpointsTable) == nullptr) {
    out.push_back(CreateCheckpointsTable(dialect, checkpoint_schema));
  }
  for (int i = 0; i < spec.bindings_size(); ++i) {
    const auto& binding = spec.bindings(i);
    auto table = BuildTable(binding, static_cast<uint32_t>(i), dialect, default_schema);
    if (!table.ok()) return table.status();
    const ExistingTable* existing = info.Find(table->schema, table->name);
    if (existing == nullptr) {
      out.push_back(CreateTable(dialect, *table));
      continue;
    }
    const flow::MaterializationSpec::Binding* prior =
        last == nullptr ? nullptr : FindLastBinding(*last, {table->schema, table->name});
    if (prior != nullptr && prior->backfill() != binding.backfill()) {
      if (MustRecreate(*table, *existing, prior, dialect)) {
        out.push_back(DropTable(*table));
        out.push_back(CreateTable(dialect, *table));
        continue;
      }
      out.push_back(TruncateTable(*table));
    }
    auto alter = UpdateTable(*table, *existing, dialect);
    if (!alter.ok()) return alter.status();
    if (!alter->empty()) out.push_back(std::move(*alter));
  }
  return out;
}

}  // namespace connectors::sql
