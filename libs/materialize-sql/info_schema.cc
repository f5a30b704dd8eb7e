#include "libs/materialize-sql/info_schema.h"

#include "libs/base/strings.h"

namespace connectors::sql {

absl::StatusOr<std::vector<std::vector<std::optional<std::string>>>> QueryAll(Client& client,
                                                                              std::string_view sql,
                                                                              Params params) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  auto status = client.Query(sql, params, [&](RowView row) {
    auto& out = rows.emplace_back();
    for (const auto& v : row) {
      out.push_back(v.has_value() ? std::optional<std::string>(std::string(*v)) : std::nullopt);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return rows;
}

const ExistingColumn* ExistingTable::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const ExistingTable* InfoSchema::Find(std::string_view schema, std::string_view table) const {
  auto it = tables.find({std::string(schema), std::string(table)});
  return it == tables.end() ? nullptr : &it->second;
}

absl::StatusOr<InfoSchema> LoadInfoSchema(Client& client, const std::set<std::string>& schemas,
                                          std::string_view list_schemas) {
  InfoSchema info;
  auto names = QueryAll(client, list_schemas);
  if (!names.ok()) return names.status();
  for (auto& row : *names) info.schemas.insert(*row[0]);
  for (const auto& schema : schemas) {
    const std::optional<std::string> param[] = {schema};
    auto tables = QueryAll(client,
                           "SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = $1",
                           param);
    if (!tables.ok()) return tables.status();
    for (auto& row : *tables) info.tables[{schema, *row[0]}];
    auto columns = QueryAll(client,
                            "SELECT table_name, column_name, lower(data_type), is_nullable "
                            "FROM information_schema.columns WHERE table_schema = $1 "
                            "ORDER BY table_name, ordinal_position",
                            param);
    if (!columns.ok()) return columns.status();
    for (auto& row : *columns) {
      info.tables[{schema, *row[0]}].columns.push_back(
          ExistingColumn{*row[1], *row[2], *row[3] == "YES"});
    }
  }
  return info;
}

}  // namespace connectors::sql
