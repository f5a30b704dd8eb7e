#include "libs/materialize-sql/sql.h"

#include <set>

#include "libs/base/strings.h"

namespace connectors::sql {
namespace {

std::string Join(std::span<const Column> columns, std::string_view prefix,
                 std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += sep;
    StrAppend(&out, prefix, columns[i].ident);
  }
  return out;
}

// "r.k1 = s.k1 AND r.k2 = s.k2"
std::string KeysEqual(const Table& table, std::string_view left, std::string_view right) {
  std::string out;
  for (const auto& key : table.keys()) {
    if (!out.empty()) out += " AND ";
    StrAppend(&out, left, ".", key.ident, " = ", right, ".", key.ident);
  }
  return out;
}

std::string Comment(const Column& column) {
  return StrCat(column.role == Role::kDocument ? "The whole document" : "Projection of JSON at ",
                column.role == Role::kDocument ? "" : column.shape.ptr, " (field ", column.field,
                ")");
}

}  // namespace

std::string CreateSchema(const Dialect& d, std::string_view schema) {
  return StrCat("CREATE SCHEMA IF NOT EXISTS ", d.Quote(schema), ";");
}

std::string CreateTable(const Dialect& d, const Table& table) {
  std::string sql = StrCat("CREATE TABLE IF NOT EXISTS ", table.ident, " (");
  for (const auto& column : table.columns) {
    StrAppend(&sql, "\n  ", column.ident, " ", column.type.ddl, column.not_null ? " NOT NULL" : "",
              ",");
  }
  if (!table.delta_updates) {
    StrAppend(&sql, "\n  PRIMARY KEY (", Join(table.keys(), ""), ")");
  } else {
    sql.pop_back();  // Trailing comma.
  }
  StrAppend(&sql, "\n);");
  StrAppend(&sql, "\nCOMMENT ON TABLE ", table.ident, " IS ",
            d.Literal(StrCat("Materialization of collection ", table.source)), ";");
  for (const auto& column : table.columns) {
    StrAppend(&sql, "\nCOMMENT ON COLUMN ", table.ident, ".", column.ident, " IS ",
              d.Literal(Comment(column)), ";");
  }
  return sql;
}

std::string DropTable(const Table& table) {
  return StrCat("DROP TABLE IF EXISTS ", table.ident, ";");
}

std::string TruncateTable(const Table& table) {
  return StrCat("TRUNCATE TABLE ", table.ident, ";");
}

std::string AlterTable(const Table& table, const AlterColumns& alter) {
  std::vector<std::string> actions;
  for (const Column* c : alter.add) {
    actions.push_back(StrCat("ADD COLUMN ", c->ident, " ", c->type.ddl));
  }
  for (const auto& r : alter.retype) {
    actions.push_back(
        StrCat("ALTER COLUMN ", r.column->ident, " TYPE ", r.column->type.ddl, " USING ", r.cast));
  }
  for (const auto& ident : alter.drop_not_null) {
    actions.push_back(StrCat("ALTER COLUMN ", ident, " DROP NOT NULL"));
  }
  if (actions.empty()) return "";
  std::string sql = StrCat("ALTER TABLE ", table.ident);
  for (size_t i = 0; i < actions.size(); ++i) {
    StrAppend(&sql, i == 0 ? "\n  " : ",\n  ", actions[i]);
  }
  return sql + ";";
}

std::string CreateCheckpointsTable(const Dialect& d, std::string_view schema) {
  const std::string ident = QualifiedIdent(d, schema, kCheckpointsTable);
  return StrCat("CREATE TABLE IF NOT EXISTS ", ident,
                " (\n  materialization TEXT NOT NULL,\n  key_begin BIGINT NOT NULL,"
                "\n  key_end BIGINT NOT NULL,\n  fence BIGINT NOT NULL,"
                "\n  checkpoint TEXT NOT NULL,"
                "\n  PRIMARY KEY (materialization, key_begin, key_end)\n);\nCOMMENT ON TABLE ",
                ident, " IS ", d.Literal("Fences and runtime checkpoints of Flow materializations"),
                ";");
}

std::string LoadTempTable(const Table& table) { return StrCat("flow_load_", table.binding); }

std::string CreateLoadTable(const Table& table) {
  return StrCat("CREATE TEMPORARY TABLE ", LoadTempTable(table),
                " ON COMMIT DELETE ROWS AS\n  SELECT ", Join(table.keys(), "r."), " FROM ",
                table.ident, " AS r WITH NO DATA;");
}

std::string CopyLoadKeys(const Table& table) {
  return StrCat("COPY ", LoadTempTable(table), " (", Join(table.keys(), ""), ") FROM STDIN");
}

std::string LoadQuery(std::span<const Table* const> tables) {
  std::string sql;
  for (const Table* t : tables) {
    if (!sql.empty()) sql += "\nUNION ALL\n";
    StrAppend(&sql, "SELECT ", t->binding, ", CAST(r.", t->document()->ident, " AS TEXT) FROM ",
              LoadTempTable(*t), " AS l JOIN ", t->ident, " AS r ON ", KeysEqual(*t, "r", "l"));
  }
  return sql;
}

std::string StoreTempTable(const Table& table) { return StrCat("flow_store_", table.binding); }

std::string StoreOpColumn(const Table& table) {
  std::set<std::string> names;
  for (const auto& c : table.columns) names.insert(c.name);
  std::string op = "flow_store_op";
  while (names.contains(op)) op += "_";
  return op;
}

std::string CreateStoreTable(const Table& table) {
  return StrCat("CREATE TEMPORARY TABLE ", StoreTempTable(table),
                " ON COMMIT DELETE ROWS AS\n  SELECT ", Join(table.columns, "r."),
                ", CAST(NULL AS SMALLINT) AS ", StoreOpColumn(table), " FROM ", table.ident,
                " AS r WITH NO DATA;");
}

std::string CopyStoreRows(const Table& table) {
  return StrCat("COPY ", StoreTempTable(table), " (", Join(table.columns, ""), ", ",
                StoreOpColumn(table), ") FROM STDIN");
}

std::string StoreInsert(const Table& table) {
  return StrCat("INSERT INTO ", table.ident, " (", Join(table.columns, ""), ")\n  SELECT ",
                Join(table.columns, ""), " FROM ", StoreTempTable(table), " WHERE ",
                StoreOpColumn(table), " = ", static_cast<int>(StoreOp::kInsert), ";");
}

std::string StoreUpdate(const Table& table) {
  if (table.non_keys().empty()) return "";
  std::string sets;
  for (const auto& c : table.non_keys()) {
    if (!sets.empty()) sets += ", ";
    StrAppend(&sets, c.ident, " = s.", c.ident);
  }
  return StrCat("UPDATE ", table.ident, " AS r SET ", sets, "\n  FROM ", StoreTempTable(table),
                " AS s WHERE s.", StoreOpColumn(table), " = ", static_cast<int>(StoreOp::kUpdate),
                " AND ", KeysEqual(table, "r", "s"), ";");
}

std::string StoreDelete(const Table& table) {
  return StrCat("DELETE FROM ", table.ident, " AS r\n  USING ", StoreTempTable(table),
                " AS s WHERE s.", StoreOpColumn(table), " = ", static_cast<int>(StoreOp::kDelete),
                " AND ", KeysEqual(table, "r", "s"), ";");
}

std::string CopyDeltaRows(const Table& table) {
  return StrCat("COPY ", table.ident, " (", Join(table.columns, ""), ") FROM STDIN");
}

std::string FenceBump(std::string_view checkpoints) {
  return StrCat("UPDATE ", checkpoints,
                " SET fence = fence + 1\n  WHERE materialization = $1 AND key_end >= $2 AND "
                "key_begin <= $3;");
}

std::string FenceSelectCovering(std::string_view checkpoints) {
  return StrCat("SELECT key_begin, key_end, fence, checkpoint FROM ", checkpoints,
                "\n  WHERE materialization = $1 AND key_begin <= $2 AND key_end >= $3"
                "\n  ORDER BY key_end - key_begin ASC LIMIT 1;");
}

std::string FenceInsert(std::string_view checkpoints) {
  return StrCat("INSERT INTO ", checkpoints,
                " (materialization, key_begin, key_end, fence, checkpoint)\n  VALUES ($1, $2, $3, "
                "$4, $5);");
}

std::string FenceCommit(std::string_view checkpoints) {
  return StrCat("UPDATE ", checkpoints,
                " SET checkpoint = $1\n  WHERE materialization = $2 AND key_begin = $3 AND "
                "key_end = $4 AND fence = $5;");
}

}  // namespace connectors::sql
