#include "materialize-postgres/dialect.h"

#include <algorithm>
#include <array>

#include "libs/base/strings.h"

namespace connectors::postgres {
namespace {

// Keywords that are reserved, or may not be used as column or type names, in PostgreSQL
// (SQL Key Words appendix). Quoting any other word as well would be harmless.
constexpr std::array<std::string_view, 143> kKeywords = {"all",
                                                         "analyse",
                                                         "analyze",
                                                         "and",
                                                         "any",
                                                         "array",
                                                         "as",
                                                         "asc",
                                                         "asymmetric",
                                                         "authorization",
                                                         "between",
                                                         "bigint",
                                                         "binary",
                                                         "bit",
                                                         "boolean",
                                                         "both",
                                                         "case",
                                                         "cast",
                                                         "char",
                                                         "character",
                                                         "check",
                                                         "coalesce",
                                                         "collate",
                                                         "collation",
                                                         "column",
                                                         "concurrently",
                                                         "constraint",
                                                         "create",
                                                         "cross",
                                                         "current_catalog",
                                                         "current_date",
                                                         "current_role",
                                                         "current_schema",
                                                         "current_time",
                                                         "current_timestamp",
                                                         "current_user",
                                                         "dec",
                                                         "decimal",
                                                         "default",
                                                         "deferrable",
                                                         "desc",
                                                         "distinct",
                                                         "do",
                                                         "else",
                                                         "end",
                                                         "except",
                                                         "exists",
                                                         "extract",
                                                         "false",
                                                         "fetch",
                                                         "float",
                                                         "for",
                                                         "foreign",
                                                         "freeze",
                                                         "from",
                                                         "full",
                                                         "grant",
                                                         "greatest",
                                                         "group",
                                                         "grouping",
                                                         "having",
                                                         "ilike",
                                                         "in",
                                                         "initially",
                                                         "inner",
                                                         "inout",
                                                         "int",
                                                         "integer",
                                                         "intersect",
                                                         "interval",
                                                         "into",
                                                         "is",
                                                         "isnull",
                                                         "join",
                                                         "json",
                                                         "lateral",
                                                         "leading",
                                                         "least",
                                                         "left",
                                                         "like",
                                                         "limit",
                                                         "localtime",
                                                         "localtimestamp",
                                                         "national",
                                                         "natural",
                                                         "nchar",
                                                         "none",
                                                         "normalize",
                                                         "not",
                                                         "notnull",
                                                         "null",
                                                         "nullif",
                                                         "numeric",
                                                         "offset",
                                                         "on",
                                                         "only",
                                                         "or",
                                                         "order",
                                                         "out",
                                                         "outer",
                                                         "overlaps",
                                                         "overlay",
                                                         "placing",
                                                         "position",
                                                         "precision",
                                                         "primary",
                                                         "real",
                                                         "references",
                                                         "returning",
                                                         "right",
                                                         "row",
                                                         "select",
                                                         "session_user",
                                                         "setof",
                                                         "similar",
                                                         "smallint",
                                                         "some",
                                                         "substring",
                                                         "symmetric",
                                                         "system_user",
                                                         "table",
                                                         "tablesample",
                                                         "then",
                                                         "time",
                                                         "timestamp",
                                                         "to",
                                                         "trailing",
                                                         "treat",
                                                         "trim",
                                                         "true",
                                                         "union",
                                                         "unique",
                                                         "user",
                                                         "using",
                                                         "values",
                                                         "varchar",
                                                         "variadic",
                                                         "verbose",
                                                         "when",
                                                         "where",
                                                         "window",
                                                         "with",
                                                         "xmlattributes"};

bool IsKeyword(std::string_view word) {
  return std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end();
}

bool IsPlain(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return !IsKeyword(name);
}

sql::ColumnType Type(std::string ddl, std::vector<std::string> compatible, sql::ValueKind kind) {
  return sql::ColumnType{std::move(ddl), std::move(compatible), kind};
}

sql::ColumnType Json() { return Type("JSONB", {"jsonb"}, sql::ValueKind::kJson); }

sql::ColumnType StringType(const sql::FieldShape& shape) {
  using K = sql::ValueKind;
  const std::string& f = shape.format;
  if (!shape.is_key) {
    if (f == "integer") return Type("NUMERIC", {"numeric"}, K::kNumericText);
    if (f == "number") return Type("DECIMAL", {"numeric"}, K::kNumericText);
    // Date and time keys stay text: their text form is what identifies the row.
    if (f == "date-time") return Type("TIMESTAMPTZ", {"timestamp with time zone"}, K::kText);
    if (f == "date") return Type("DATE", {"date"}, K::kText);
    if (f == "time") return Type("TIME", {"time without time zone"}, K::kText);
  }
  if (f == "uuid") return Type("UUID", {"uuid"}, K::kText);
  return Type("TEXT", {"text", "character varying"}, K::kText);
}

}  // namespace

std::string PostgresDialect::Name(std::string_view field) const {
  std::string name;
  for (char c : field) {
    if (c != '\0') name.push_back(c);  // PostgreSQL identifiers cannot hold NUL.
  }
  if (name.size() <= kMaxIdentifierBytes) return name;
  size_t end = kMaxIdentifierBytes;
  // Never cut a UTF-8 sequence: back up over continuation bytes.
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
  name.resize(end);
  return name;
}

std::string PostgresDialect::Quote(std::string_view name) const {
  if (IsPlain(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string PostgresDialect::Literal(std::string_view text) const {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    if (c != '\0') out.push_back(c);
  }
  return out + "'";
}

sql::ColumnType PostgresDialect::MapType(const sql::FieldShape& shape) const {
  using K = sql::ValueKind;
  if (shape.is_root) return Json();
  const std::string_view single = SingleType(shape);
  if (single == "integer") {
    if (shape.exceeds_int64) return Type("NUMERIC", {"numeric"}, K::kInteger);
    return Type("BIGINT", {"bigint", "integer"}, K::kInteger);
  }
  if (single == "number") return Type("DOUBLE PRECISION", {"double precision"}, K::kNumber);
  if (single == "boolean") return Type("BOOLEAN", {"boolean"}, K::kBoolean);
  if (single == "string") return StringType(shape);
  // A string with a numeric format may also be written as a number.
  if (!shape.is_key && (shape.format == "integer" || shape.format == "number") &&
      (shape.types == std::vector<std::string>{"integer", "string"} ||
       shape.types == std::vector<std::string>{"number", "string"} ||
       shape.types == std::vector<std::string>{"integer", "number", "string"})) {
    return StringType(shape);
  }
  return Json();  // Objects, arrays and several types.
}

std::optional<std::string> PostgresDialect::MigrationCast(std::string_view existing,
                                                          const sql::ColumnType& target,
                                                          std::string_view column) const {
  const std::string& to = target.ddl;
  auto cast = [&] { return StrCat("CAST(", column, " AS ", to, ")"); };
  if (to == "JSONB") return StrCat("to_jsonb(", column, ")");
  if (to == "TEXT") {
    if (existing == "timestamp with time zone") {
      return StrCat("to_char(", column,
                    " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    }
    if (existing == "bigint" || existing == "integer" || existing == "numeric" ||
        existing == "double precision" || existing == "date" ||
        existing == "time without time zone" || existing == "boolean" || existing == "uuid" ||
        existing == "jsonb" || existing == "json") {
      return cast();
    }
  }
  if (to == "DOUBLE PRECISION" || to == "NUMERIC" || to == "DECIMAL") {
    if (existing == "bigint" || existing == "integer" || existing == "numeric") return cast();
  }
  return std::nullopt;
}

}  // namespace connectors::postgres
