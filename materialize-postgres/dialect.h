// PostgreSQL's dialect for libs/materialize-sql: identifiers truncated to 63 bytes (UTF-8
// safe) and double-quoted unless plain lower-case and not a keyword, standard string literals,
// Flow types mapped to PostgreSQL column types, and the safe type migrations.
#pragma once

#include "libs/materialize-sql/dialect.h"

namespace connectors::postgres {

inline constexpr size_t kMaxIdentifierBytes = 63;

class PostgresDialect final : public sql::Dialect {
 public:
  std::string Name(std::string_view field) const override;
  std::string Quote(std::string_view name) const override;
  std::string Literal(std::string_view text) const override;
  sql::ColumnType MapType(const sql::FieldShape& shape) const override;
  std::optional<std::string> MigrationCast(std::string_view existing_type,
                                           const sql::ColumnType& target,
                                           std::string_view quoted_column) const override;
};

}  // namespace connectors::postgres
