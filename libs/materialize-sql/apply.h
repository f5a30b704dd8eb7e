// Apply planning (materializations.md section 1.6): the DDL that converges the destination to a
// materialization spec. Columns are never dropped: removed fields only become nullable. Type
// changes use the dialect's safe casts; a changed backfill counter truncates the table, or
// re-creates it when the keys changed or a column cannot be converted.
//
// The plan is meant to run in one transaction (PostgreSQL DDL is transactional), so an
// interrupted Apply leaves nothing half-done and simply runs again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/materialize-sql/dialect.h"
#include "libs/materialize-sql/info_schema.h"
#include "libs/materialize-sql/table.h"

namespace connectors::sql {

// Every schema the spec's tables (and the checkpoints table) live in.
std::set<std::string> SchemasOf(const flow::MaterializationSpec& spec, const Dialect& dialect,
                                std::string_view default_schema);

// The statements to run, in order; empty when the destination already matches. `last` may be
// null (first apply, or a runtime that does not send it).
absl::StatusOr<std::vector<std::string>> PlanApply(const flow::MaterializationSpec& spec,
                                                   const flow::MaterializationSpec* last,
                                                   const InfoSchema& info, const Dialect& dialect,
                                                   std::string_view default_schema);

}  // namespace connectors::sql
