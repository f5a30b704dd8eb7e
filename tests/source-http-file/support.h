// Drives HttpFileDriver in-process the way the runtime does (Open, then Run on a session) and
// records what a collection would keep: documents count as committed only once a checkpoint
// follows them, and the state is the merge of every committed checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "source-http-file/http_file.h"

namespace connectors::http_file::testing {

struct RunOptions {
  std::string state_json = "{}";
  uint32_t key_begin = 0, key_end = 0xFFFFFFFF;
  // The collection's schema (types CSV columns).
  std::string collection_schema;
  // Fail the session at this document (0-based, counted in this run), as a crash would.
  int64_t crash_at_document = -1;
  HttpFileOptions driver;
};

struct RunResult {
  absl::Status open_status;
  absl::Status run_status;
  std::vector<std::string> committed;  // Documents followed by a checkpoint.
  size_t uncommitted = 0;              // Documents written after the last checkpoint.
  size_t checkpoints = 0;
  std::string state;  // After every checkpoint.
};

// Fast retries for tests.
HttpFileOptions TestOptions();

RunResult RunCapture(const std::string& config_json, const RunOptions& options = {});

}  // namespace connectors::http_file::testing
