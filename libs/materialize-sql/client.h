// The connection the engine runs SQL through. A destination implements it over its own client
// library (materialize-postgres: libpq). Errors carry the endpoint's message, never secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::sql {

// A row of text values; nullopt is SQL NULL. Valid only during the callback receiving it.
using RowView = std::span<const std::optional<std::string_view>>;
using Params = std::span<const std::optional<std::string>>;

class Client {
 public:
  virtual ~Client() = default;
  // Runs one or more statements that return no rows.
  virtual absl::Status Exec(std::string_view sql) = 0;
  // Runs one statement with text parameters ($1..$n); returns the number of affected rows.
  virtual absl::StatusOr<int64_t> ExecParams(std::string_view sql, Params params) = 0;
  // Runs one query and hands its rows to `row` one at a time (memory stays bounded by a row).
  virtual absl::Status Query(std::string_view sql, Params params,
                             absl::FunctionRef<absl::Status(RowView)> row) = 0;
  // Runs `copy_sql` (COPY ... FROM STDIN) and sends `data`, rows in COPY's text format.
  virtual absl::Status CopyIn(std::string_view copy_sql, std::string_view data) = 0;
};

// Query collecting every row as strings ("\N"-free: NULL becomes nullopt).
absl::StatusOr<std::vector<std::vector<std::optional<std::string>>>> QueryAll(Client& client,
                                                                              std::string_view sql,
                                                                              Params params = {});

}  // namespace connectors::sql
