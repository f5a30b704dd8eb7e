// Checks everything a capture needs before it runs and reports every failure at once, each
// with the SQL that fixes it. Where the connector may fix something itself it does (creating
// the watermarks table, adding tables to the publication) and reports only what it could not.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "source-postgres/config.h"
#include "source-postgres/discovery.h"
#include "source-postgres/pg.h"

namespace connectors::postgres {

// `bound` are the tables of the capture's bindings; `missing` names bound tables ("s.t") that
// discovery did not find.
absl::Status CheckPrerequisites(Conn& conn, const Config& config,
                                const std::vector<const Table*>& bound,
                                const std::vector<std::string>& missing);

}  // namespace connectors::postgres
