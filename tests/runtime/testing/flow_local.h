// Driving flow-local from a test: a catalog in a temp directory, the runtime started or run to
// completion with the data directory beside it, and the committed journal read back. Scenario
// tests of every connector use it instead of spawning flow-local themselves.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/process/subprocess.h"

namespace connectors::local::testing {

// The absolute path of a file named by environment variable `name`, as a test's BUILD `env`
// sets it (`"$(rootpath //some:target)"`). Empty, with a test failure, when unset.
std::string RunfileFromEnv(const char* name);

class FlowLocal {
 public:
  // The catalog is `dir`/catalog.yaml and the data directory `dir`/data. `dir` is created.
  explicit FlowLocal(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  void WriteCatalog(std::string_view yaml) const;

  // Starts `flow-local <args> --catalog ... --data-dir ...` (found through the
  // FLOW_LOCAL_BINARY environment variable) with its stderr on the test's, stdin closed.
  absl::StatusOr<process::Subprocess> Start(const std::vector<std::string>& args,
                                            std::string_view log_level = "warn") const;
  // Runs it to completion and returns its exit code (-1 if it could not run in `timeout`).
  int Run(const std::vector<std::string>& args, absl::Duration timeout = absl::Minutes(2)) const;

  // The committed documents of `collection`, one JSON document per line.
  std::string Journal(std::string_view collection) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace connectors::local::testing
