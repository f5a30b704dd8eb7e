// materialize-postgres: materializes Flow collections into PostgreSQL tables, exactly once.
// The database is authoritative for the runtime checkpoint: each transaction's rows and the
// checkpoint commit together under a fence (libs/materialize-sql/fence.h).
#pragma once

#include "libs/connector/materialize.h"

namespace connectors::postgres {

class PostgresDriver final : public runtime::MaterializeDriver {
 public:
  materialize::Response::Spec Spec() const override;
  absl::StatusOr<materialize::Response::Validated> Validate(
      const materialize::Request::Validate& request, const Logger& log) override;
  absl::StatusOr<materialize::Response::Applied> Apply(const materialize::Request::Apply& request,
                                                       const Logger& log) override;
  absl::StatusOr<runtime::OpenedTransactor> Open(const materialize::Request::Open& request,
                                                 const Logger& log) override;
};

}  // namespace connectors::postgres
