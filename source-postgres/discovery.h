// Discovery: the user tables of the database (plain tables and partition roots, never
// partitions, views or system schemas), their columns with types, and their keys: the primary
// key, else the first (by name) unique index over NOT NULL columns, else none (keyless).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/capture.pb.h"
#include "source-postgres/config.h"
#include "source-postgres/pg.h"
#include "source-postgres/types.h"

namespace connectors::postgres {

struct Column {
  std::string name;
  ColumnType type;
  bool nullable = true;
  std::string comment;
  std::string source_type;  // For descriptions: "int4", "_text", "enum", ...
};

struct Table {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char relkind = 'r';           // 'r' table, 'p' partitioned
  char replident = 'd';         // d default, f full, i index, n nothing
  std::vector<Column> columns;  // Generated columns excluded (replication never sends them).
  std::vector<int> key;         // Indices into columns; empty for keyless tables.
  bool fallback_key = false;    // Key from a unique index rather than the primary key.
  bool has_primary_key = false;

  std::string QualifiedName() const { return schema + "." + name; }
  std::string QuotedName() const { return QuoteIdent(schema) + "." + QuoteIdent(name); }
  const Column* FindColumn(std::string_view column) const;
};

// Lists tables, excluding the watermarks table.
absl::StatusOr<std::vector<Table>> ListTables(Conn& conn, const Config& config);

// The discovered binding (recommended name, resource, schema, key) for a table.
void DescribeBinding(const Table& table, ::capture::Response::Discovered::Binding* binding);

// The collection key pointers of a table.
std::vector<std::string> CollectionKey(const Table& table);

}  // namespace connectors::postgres
