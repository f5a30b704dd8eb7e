// A flow-local pipeline for scenario tests: source-hello-world captures greetings into a
// collection, materialize-postgres materializes them into a harness PostgreSQL (one standard
// and one delta-updates binding), and helpers read back the journal and the tables.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/process/subprocess.h"
#include "tests/harness/postgres.h"
#include "tests/runtime/testing/flow_local.h"

namespace connectors::postgres::testing {

// Composes local::testing::FlowLocal with this pipeline's catalog.
class Pipeline {
 public:
  // Writes the catalog into `dir`. `hello_config` is the capture's config (YAML flow mapping).
  Pipeline(std::filesystem::path dir, const harness::Postgres& pg, std::string hello_config);

  // Starts flow-local with `args` (plus --catalog, --data-dir and --log-level).
  absl::StatusOr<process::Subprocess> Start(const std::vector<std::string>& args) const;
  // Runs flow-local to completion; returns its exit code (-1 on failure to run).
  int Run(const std::vector<std::string>& args) const;

  // Ids of the captured greetings, in journal order.
  std::vector<int64_t> JournalIds() const;
  // Compact documents of the journal, one per line, without _meta.
  std::string JournalDocs() const;

 private:
  local::testing::FlowLocal flow_;
};

// The absolute path of a runfile named by environment variable `name`.
std::string Env(const char* name);

}  // namespace connectors::postgres::testing
