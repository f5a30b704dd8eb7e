// The dialect-independent description of columns, and the Dialect interface through which a SQL
// destination says how it names, quotes and types them. The engine (constraints, apply
// planning, SQL generation, transactions) only ever talks to an endpoint through a Dialect and
// a Client (client.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/flow.pb.h"

namespace connectors::sql {

// How a column's values are rendered when they are sent to the endpoint (encode.h).
enum class ValueKind {
  kInteger,  // JSON integer.
  kNumber,   // JSON number (integers accepted).
  kBoolean,
  kText,         // A string as-is.
  kNumericText,  // A string holding a number (format integer / number), or a number.
  kJson,         // Any JSON value, stored as JSON text.
  kDocument,     // The whole document (Store.doc_json).
};

// The shape of a projection, flattened from its inference.
struct FieldShape {
  std::string field;
  std::string ptr;
  std::vector<std::string> types;  // Possible JSON types, without "null".
  bool nullable = true;            // "null" is possible or the location may be absent.
  bool is_key = false;
  bool is_root = false;  // The whole document (ptr "").
  bool has_default = false;
  std::string format;
  std::string content_encoding;
  bool exceeds_int64 = false;  // Inferred integer bounds beyond int64.
};

FieldShape ShapeOf(const flow::Projection& projection);

// Single JSON type of the shape, or "" when it has several (or none).
std::string_view SingleType(const FieldShape& shape);

struct ColumnType {
  std::string ddl;                      // Bare DDL without nullability, e.g. "BIGINT".
  std::vector<std::string> compatible;  // Lower-case info-schema type names it accepts.
  ValueKind kind = ValueKind::kText;
};

// True when an existing column of `existing_type` (info-schema name) already satisfies `type`.
bool IsCompatible(std::string_view existing_type, const ColumnType& type);

class Dialect {
 public:
  virtual ~Dialect() = default;

  // The name a field or table gets in the endpoint (e.g. truncated to its identifier limit),
  // exactly as the info schema reports it afterwards.
  virtual std::string Name(std::string_view field) const = 0;
  // `name` (already passed through Name) as an identifier that can be pasted into SQL.
  virtual std::string Quote(std::string_view name) const = 0;
  // `text` as a string literal.
  virtual std::string Literal(std::string_view text) const = 0;
  virtual ColumnType MapType(const FieldShape& shape) const = 0;
  // An expression converting `quoted_column`, an existing column of `existing_type`, into
  // `target`; nullopt when no safe conversion exists. Never asked for key columns.
  virtual std::optional<std::string> MigrationCast(std::string_view existing_type,
                                                   const ColumnType& target,
                                                   std::string_view quoted_column) const = 0;
};

}  // namespace connectors::sql
