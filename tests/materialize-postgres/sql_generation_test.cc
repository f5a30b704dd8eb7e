// Every statement kind rendered for a fixture with integer, string and boolean keys, every
// value type and format, hostile names, a delta-updates binding and the fence statements,
// pinned by a snapshot (./scripts/update-snapshots.sh to accept changes).
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "libs/materialize-sql/sql.h"
#include "materialize-postgres/dialect.h"
#include "tests/materialize-postgres/fixtures.h"
#include "tests/snapshot/snapshot.h"

namespace connectors::postgres {
namespace {

using namespace testing;  // NOLINT

flow::MaterializationSpec::Binding Binding(std::string_view resource, bool delta,
                                           const std::vector<Field>& fields) {
  flow::MaterializationSpec::Binding b;
  b.set_resource_config_json(std::string(resource));
  *b.mutable_collection() = Collection("acmeCo/fixture", fields);
  b.set_delta_updates(delta);
  auto* selection = b.mutable_field_selection();
  for (const auto& f : fields) {
    if (f.key) selection->add_keys(f.field);
  }
  for (const auto& f : fields) {
    if (f.key) continue;
    if (f.ptr.empty()) {
      selection->set_document(f.field);
    } else {
      selection->add_values(f.field);
    }
  }
  return b;
}

TEST(SqlGeneration, EveryStatementKind) {
  const PostgresDialect d;
  const std::vector<Field> standard = {
      {"key_int", "/key_int", {"integer"}, true, true},
      {"Key String", "/Key String", {"string"}, true, true},
      {"key_bool", "/key_bool", {"boolean"}, true, true},
      {"int", "/int", {"integer", "null"}, false},
      {"number", "/number", {"number"}, true},
      {"bool", "/bool", {"boolean"}, true},
      {"string", "/string", {"string"}, true},
      {"datetime", "/datetime", {"string"}, true, false, "date-time"},
      {"date", "/date", {"string"}, true, false, "date"},
      {"time", "/time", {"string"}, true, false, "time"},
      {"uuid", "/uuid", {"string"}, true, false, "uuid"},
      {"str_int", "/str_int", {"string"}, true, false, "integer"},
      {"str_num", "/str_num", {"integer", "string"}, true, false, "number"},
      {"object", "/object", {"object"}, true},
      {"array", "/array", {"array"}, true},
      {"multi", "/multi", {"integer", "string"}, true},
      {"a\"; DROP TABLE x; --", "/a\"; DROP TABLE x; --", {"string"}, true},
      {"flow_store_op", "/flow_store_op", {"string"}, true},
      {"flow_document", "", {"object"}, true}};
  auto table = sql::BuildTable(
      Binding(R"({"table":"All Types","schema":"my schema"})", false, standard), 0, d, "public");
  ASSERT_TRUE(table.ok()) << table.status();
  auto delta = sql::BuildTable(
      Binding(R"({"table":"events","delta_updates":true})", true,
              {{"id", "/id", {"string"}, true, true}, {"n", "/n", {"integer"}, true}}),
      1, d, "public");
  ASSERT_TRUE(delta.ok()) << delta.status();

  std::string out;
  auto add = [&](std::string_view name, const std::string& sql) {
    StrAppend(&out, "--- ", name, " ---\n", sql, "\n");
  };
  add("CreateSchema", sql::CreateSchema(d, "my schema"));
  add("CreateTable", sql::CreateTable(d, *table));
  add("CreateTable (delta)", sql::CreateTable(d, *delta));
  add("DropTable", sql::DropTable(*table));
  add("TruncateTable", sql::TruncateTable(*table));
  sql::AlterColumns alter;
  alter.add = {&table->columns[3], &table->columns[16]};
  alter.retype = {{&table->columns[7], "CAST(datetime AS TIMESTAMPTZ)"}};
  alter.drop_not_null = {table->columns[6].ident};
  add("AlterTable", sql::AlterTable(*table, alter));
  add("CreateCheckpointsTable", sql::CreateCheckpointsTable(d, "public"));
  add("CreateLoadTable", sql::CreateLoadTable(*table));
  add("CopyLoadKeys", sql::CopyLoadKeys(*table));
  const sql::Table* both[] = {&*table, &*table};
  add("LoadQuery", sql::LoadQuery(both));
  add("CreateStoreTable", sql::CreateStoreTable(*table));
  add("CopyStoreRows", sql::CopyStoreRows(*table));
  add("StoreInsert", sql::StoreInsert(*table));
  add("StoreUpdate", sql::StoreUpdate(*table));
  add("StoreDelete", sql::StoreDelete(*table));
  add("CopyDeltaRows", sql::CopyDeltaRows(*delta));
  add("FenceBump", sql::FenceBump("public.flow_checkpoints_v1"));
  add("FenceSelectCovering", sql::FenceSelectCovering("public.flow_checkpoints_v1"));
  add("FenceInsert", sql::FenceInsert("public.flow_checkpoints_v1"));
  add("FenceCommit", sql::FenceCommit("public.flow_checkpoints_v1"));
  for (const auto& c : table->columns) {
    StrAppend(&out, "column ", c.ident, ": ", c.type.ddl, c.not_null ? " NOT NULL" : "", "\n");
  }
  snapshot::ExpectMatches("tests/materialize-postgres/snapshots/sql_generation.snap", out);
}

}  // namespace
}  // namespace connectors::postgres
