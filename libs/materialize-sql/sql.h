// SQL text for every statement the engine runs. Pure functions of a Table and a Dialect, so
// they are pinned by snapshot tests. Identifiers always go through Dialect::Quote and strings
// through Dialect::Literal: no user-controlled text reaches SQL any other way.
//
// Transactions stage rows in session temp tables that mirror the target's columns (created
// from the target itself, so they take its actual column types) and are emptied at commit:
//   load:  COPY keys -> flow_load_<n>; one SELECT joining every binding's keys to its target.
//   store: COPY rows (plus an op column) -> flow_store_<n>; then one DELETE, UPDATE and INSERT
//          per binding, each set-based; delta-updates bindings COPY straight into the target.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libs/materialize-sql/dialect.h"
#include "libs/materialize-sql/table.h"

namespace connectors::sql {

// Store ops, the values of the op column of flow_store_<n>.
enum class StoreOp { kInsert = 0, kUpdate = 1, kDelete = 2 };

inline constexpr std::string_view kCheckpointsTable = "flow_checkpoints_v1";

std::string CreateSchema(const Dialect& d, std::string_view schema);
// CREATE TABLE with a primary key over the keys (standard updates only), plus comments.
std::string CreateTable(const Dialect& d, const Table& table);
std::string DropTable(const Table& table);
std::string TruncateTable(const Table& table);

// One ALTER TABLE statement combining column changes; empty when there are none.
struct AlterColumns {
  std::vector<const Column*> add;
  std::vector<std::string> drop_not_null;  // Quoted identifiers.
  struct Retype {
    const Column* column;
    std::string cast;  // Expression over the old column.
  };
  std::vector<Retype> retype;
};
std::string AlterTable(const Table& table, const AlterColumns& alter);

// The checkpoints (fence) table, keyed by (materialization, key_begin, key_end).
std::string CreateCheckpointsTable(const Dialect& d, std::string_view schema);

std::string LoadTempTable(const Table& table);  // flow_load_<n>
std::string CreateLoadTable(const Table& table);
std::string CopyLoadKeys(const Table& table);
// One query returning (binding, document text) for the keys staged for `tables`.
std::string LoadQuery(std::span<const Table* const> tables);

std::string StoreTempTable(const Table& table);  // flow_store_<n>
// Name of the op column: never one of the table's column names.
std::string StoreOpColumn(const Table& table);
std::string CreateStoreTable(const Table& table);
std::string CopyStoreRows(const Table& table);
std::string StoreInsert(const Table& table);
std::string StoreUpdate(const Table& table);  // Empty when there is nothing to set.
std::string StoreDelete(const Table& table);
std::string CopyDeltaRows(const Table& table);

// Fence protocol over the checkpoints table `checkpoints` (quoted). Parameters are $n.
// $1 materialization, $2 key_begin, $3 key_end.
std::string FenceBump(std::string_view checkpoints);
std::string FenceSelectCovering(std::string_view checkpoints);
// $1..$3 as above, $4 fence, $5 checkpoint (base64).
std::string FenceInsert(std::string_view checkpoints);
// $1 checkpoint (base64), $2 materialization, $3 key_begin, $4 key_end, $5 fence.
std::string FenceCommit(std::string_view checkpoints);

}  // namespace connectors::sql
