// source-postgres: captures PostgreSQL tables through logical replication (pgoutput) with
// watermark-fenced backfills, on the sqlcapture engine. See README.md.
#pragma once

#include "libs/connector/capture.h"

namespace connectors::postgres {

class PostgresDriver final : public runtime::CaptureDriver {
 public:
  ::capture::Response::Spec Spec() const override;
  absl::StatusOr<::capture::Response::Discovered> Discover(
      const ::capture::Request::Discover& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Validated> Validate(
      const ::capture::Request::Validate& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Applied> Apply(const ::capture::Request::Apply& request,
                                                     const Logger& log) override;
  absl::StatusOr<std::unique_ptr<runtime::Capture>> Open(const ::capture::Request::Open& request,
                                                         const Logger& log) override;
};

}  // namespace connectors::postgres
