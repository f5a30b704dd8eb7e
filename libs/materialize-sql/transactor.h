// The transactor every SQL destination shares: loads through a temp table of keys joined to
// the target, stores through COPY into a temp table and one set-based statement per kind, and
// commits the data together with the runtime checkpoint under the fence. Memory is bounded by
// `batch_bytes`: staged COPY data is sent whenever that much has accumulated.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/connector/logging.h"
#include "libs/connector/materialize.h"
#include "libs/materialize-sql/client.h"
#include "libs/materialize-sql/fence.h"
#include "libs/materialize-sql/table.h"

namespace connectors::sql {

struct TransactorOptions {
  bool hard_delete = false;
  size_t batch_bytes = 4 << 20;
};

// Creates the session's temp tables, installs the fence and returns the transactor with the
// recovered checkpoint in Opened.runtime_checkpoint. `checkpoints` is the quoted identifier of
// the checkpoints table.
absl::StatusOr<runtime::OpenedTransactor> OpenTransactor(
    std::unique_ptr<Client> client, std::vector<Table> tables, std::string_view checkpoints,
    const materialize::Request::Open& open, TransactorOptions options, const Logger& log);

}  // namespace connectors::sql
