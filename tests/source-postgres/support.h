// In-process test support for source-postgres: a CaptureSession that records documents and
// checkpoints and acknowledges every checkpoint at once, a runner that drives the driver's
// Open/Run on a thread against a harness PostgreSQL, and a reducer that folds captured
// documents into the collection's current documents (merge reduction, deletes on op "d").
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/connector/capture.h"
#include "tests/harness/postgres.h"

namespace connectors::pgtest {

struct Doc {
  uint32_t binding;
  std::string json;
};

// Endpoint config for the harness server, plus `extra` members (JSON text without braces,
// e.g. R"("advanced":{"backfill_chunk_size":2})").
std::string ConfigJson(const harness::Postgres& pg, std::string_view extra = "");

struct BindingDef {
  std::string schema;
  std::string table;
  std::string mode;  // Resource `mode`; empty for automatic.
  int64_t priority = 0;
};

class CaptureRun {
 public:
  // Opens the capture (Open errors come back from Start) and runs it on a thread.
  CaptureRun(std::string config_json, std::vector<BindingDef> bindings, std::string state_json);
  ~CaptureRun();

  absl::Status Start();
  // Waits until `pred(docs)` holds (true) or `timeout` passes (false).
  bool WaitFor(const std::function<bool(const std::vector<Doc>&)>& pred,
               absl::Duration timeout = absl::Seconds(30));
  // Requests a stop and returns Run's status.
  absl::Status Stop();

  // While held, the session acknowledges nothing (a runtime that has not committed yet).
  void HoldAcknowledgements(bool hold);

  std::vector<Doc> docs();
  // The state after applying every checkpoint.
  std::string state();
  size_t checkpoints();

 private:
  class Session;
  std::string config_json_;
  std::vector<BindingDef> bindings_;
  std::string state_json_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<runtime::Capture> capture_;
  std::thread thread_;
  absl::Status run_status_;
  bool running_ = false;
};

// Folds documents of `binding` by the values at `key` pointers into current documents (keyed by
// the key values' JSON joined with "|"), with `_meta` removed.
std::map<std::string, std::string> Reduce(const std::vector<Doc>& docs, uint32_t binding,
                                          const std::vector<std::string>& key);

// Count of documents of `binding`.
size_t CountFor(const std::vector<Doc>& docs, uint32_t binding);

}  // namespace connectors::pgtest
