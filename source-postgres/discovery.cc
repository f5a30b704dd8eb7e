#include "source-postgres/discovery.h"

#include <cctype>
#include <map>

#include "libs/base/strings.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"

namespace connectors::postgres {
namespace {

constexpr std::string_view kTablesSql = R"(
SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, c.relreplident::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_internal', 'catalog_history',
                        'cron', 'pglogical')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, c.relname)";

// Domains resolve to their base type (one level), arrays to their element's base type.
constexpr std::string_view kColumnsSql = R"(
SELECT a.attrelid::text, a.attname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),
  a.attgenerated <> '', t.typname, bt.oid::text, bt.typname, bt.typtype::text,
  bt.typcategory::text, bt.typcollation <> 0, et.oid::text, et.typtype::text,
  col_description(a.attrelid, a.attnum), a.attnum::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type e0 ON e0.oid = bt.typelem AND bt.typcategory = 'A'
LEFT JOIN pg_catalog.pg_type et
  ON et.oid = CASE WHEN e0.typtype = 'd' THEN e0.typbasetype ELSE e0.oid END
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid = ANY($1::oid[])
ORDER BY a.attrelid, a.attnum)";

constexpr std::string_view kIndexesSql = R"(
SELECT i.indrelid::text, i.indisprimary, ic.relname, i.indkey::text
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND i.indexprs IS NULL
  AND i.indpred IS NULL
ORDER BY i.indrelid, i.indisprimary DESC, ic.relname)";

uint32_t ToOid(const Value& v) { return v ? static_cast<uint32_t>(std::stoul(*v)) : 0; }

ColumnType TypeOf(const std::vector<Value>& r) {
  ColumnType t;
  const std::string& base_name = *r[6];
  const std::string& base_typtype = *r[7];
  const std::string& category = *r[8];
  t.collatable = *r[9] == "t";
  if (category == "A" && r[10].has_value()) {
    t.kind = Kind::kArray;
    t.element = (r[11].has_value() && *r[11] == "b") ? KindOfOid(ToOid(r[10])) : Kind::kText;
    t.name = base_name;
  } else if (base_typtype == "b") {
    t.kind = KindOfOid(ToOid(r[5]));
    t.name = base_name;
  } else {
    t.kind = Kind::kText;
    t.name = base_typtype == "e" ? "enum" : base_typtype == "c" ? "composite" : base_name;
  }
  return t;
}

std::string RecommendedName(const Table& table) {
  std::string out;
  for (std::string_view part : {std::string_view(table.schema), std::string_view(table.name)}) {
    if (!out.empty()) out += '/';
    std::string p;
    for (char c : part) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      p += ok ? c : '_';
    }
    if (p == "." || p == "..") p = std::string(p.size(), '_');
    out += p;
  }
  return out;
}

std::string Description(const Column& c) {
  std::string d = c.comment.empty() ? "" : c.comment + " ";
  StrAppend(&d, "(source type: ", c.nullable ? "" : "non-nullable ", c.source_type, ")");
  return d;
}

// The properties object of a row (every column).
std::string RowProperties(const Table& table) {
  std::string out = "{";
  bool first = true;
  for (const Column& c : table.columns) {
    if (!first) out += ',';
    first = false;
    json::AppendQuoted(c.name, &out);
    out += ':';
    out += ColumnSchema(c.type, c.nullable, Description(c));
  }
  out += '}';
  return out;
}

std::string DocumentSchema(const Table& table) {
  const std::string props = RowProperties(table);
  std::string s = R"({"type":"object","reduce":{"strategy":"merge"},"required":["_meta")";
  for (int k : table.key) {
    s += ',';
    json::AppendQuoted(table.columns[k].name, &s);
  }
  s += R"(],"properties":{"_meta":{"type":"object","required":["op","source"],"properties":{)";
  s += R"("op":{"type":"string","enum":["c","u","d"],"description":"Change operation: )"
       R"(c (create), u (update) or d (delete)."},)";
  s += R"("source":{"type":"object","required":["schema","table","loc"],"properties":{)"
       R"("ts_ms":{"type":"integer","description":"Commit time, ms since the Unix epoch."},)"
       R"("schema":{"type":"string"},"table":{"type":"string"},)"
       R"("snapshot":{"type":"boolean","description":"True for rows read by the backfill."},)"
       R"("loc":{"type":"array","items":{"type":"integer"},"minItems":3,"maxItems":3,)"
       R"("description":"[previous commit end LSN, change LSN, commit LSN]; [-1, row, 0] )"
       R"(for backfilled rows."},"txid":{"type":"integer"},"tag":{"type":"string"}}},)";
  s += R"("before":{"type":"object","description":"The row before an update, when the )"
       R"(table's replica identity provides it.","reduce":{"strategy":"firstWriteWins"},)"
       R"("properties":)";
  s += props;
  s += R"(}},"reduce":{"strategy":"merge"}})";  // before, _meta.properties, _meta
  // The columns follow _meta in the top-level properties.
  if (props.size() > 2) {
    s += ',';
    s.append(props, 1, props.size() - 2);
  }
  s += '}';  // properties
  s += R"(,"x-infer-schema":true})";
  return s;
}

}  // namespace

const Column* Table::FindColumn(std::string_view column) const {
  for (const Column& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

absl::StatusOr<std::vector<Table>> ListTables(Conn& conn, const Config& config) {
  auto table_rows = conn.Query(kTablesSql);
  if (!table_rows.ok()) return table_rows.status();
  std::vector<Table> tables;
  std::map<uint32_t, size_t> by_oid;
  std::string oids = "{";
  for (const auto& r : *table_rows) {
    Table t;
    t.oid = ToOid(r[0]);
    t.schema = *r[1];
    t.name = *r[2];
    t.relkind = (*r[3])[0];
    t.replident = (*r[4])[0];
    if (t.schema == config.watermarks_schema && t.name == config.watermarks_table) continue;
    if (oids.size() > 1) oids += ',';
    oids += *r[0];
    by_oid[t.oid] = tables.size();
    tables.push_back(std::move(t));
  }
  oids += '}';
  if (tables.empty()) return tables;

  // Column attnums, to map index keys back to columns (generated ones are skipped).
  std::vector<std::map<int, int>> attnum_to_column(tables.size());
  std::vector<std::map<int, bool>> generated(tables.size());
  auto cols = conn.Query(kColumnsSql, {oids});
  if (!cols.ok()) return cols.status();
  for (const auto& r : *cols) {
    auto it = by_oid.find(ToOid(r[0]));
    if (it == by_oid.end()) continue;
    Table& t = tables[it->second];
    const int attnum = std::stoi(*r[13]);
    if (*r[3] == "t") {
      generated[it->second][attnum] = true;
      continue;
    }
    Column c;
    c.name = *r[1];
    c.nullable = *r[2] != "t";
    c.type = TypeOf(r);
    c.source_type = c.type.name == "enum" || c.type.name == "composite" ? c.type.name : *r[4];
    if (r[12].has_value()) c.comment = *r[12];
    attnum_to_column[it->second][attnum] = static_cast<int>(t.columns.size());
    t.columns.push_back(std::move(c));
  }

  auto indexes = conn.Query(kIndexesSql, {oids});
  if (!indexes.ok()) return indexes.status();
  for (const auto& r : *indexes) {
    auto it = by_oid.find(ToOid(r[0]));
    if (it == by_oid.end()) continue;
    Table& t = tables[it->second];
    if (!t.key.empty()) continue;  // Primary key (sorted first) or an earlier index won.
    const bool primary = *r[1] == "t";
    std::vector<int> key;
    bool usable = true;
    size_t pos = 0;
    const std::string& indkey = *r[3];
    while (pos < indkey.size()) {
      size_t end = indkey.find(' ', pos);
      if (end == std::string::npos) end = indkey.size();
      const int attnum = std::stoi(indkey.substr(pos, end - pos));
      pos = end + 1;
      auto col = attnum_to_column[it->second].find(attnum);
      if (col == attnum_to_column[it->second].end()) {
        usable = false;  // Generated or system column.
        break;
      }
      if (!primary && t.columns[col->second].nullable) usable = false;
      key.push_back(col->second);
    }
    if (primary) t.has_primary_key = true;
    if (!usable || key.empty()) continue;
    t.key = std::move(key);
    t.fallback_key = !primary;
  }
  return tables;
}

std::vector<std::string> CollectionKey(const Table& table) {
  if (table.key.empty()) {
    return {"/_meta/source/loc/0", "/_meta/source/loc/1", "/_meta/source/loc/2"};
  }
  std::vector<std::string> key;
  for (int k : table.key) key.push_back("/" + json::EscapeToken(table.columns[k].name));
  return key;
}

void DescribeBinding(const Table& table, ::capture::Response::Discovered::Binding* binding) {
  binding->set_recommended_name(RecommendedName(table));
  binding->set_resource_config_json(ResourceJson(table.schema, table.name, table.key.empty()));
  binding->set_document_schema_json(DocumentSchema(table));
  for (const std::string& k : CollectionKey(table)) binding->add_key(k);
  binding->add_resource_path(table.schema);
  binding->add_resource_path(table.name);
}

}  // namespace connectors::postgres
