// Progress of a running task, printed to stderr every few seconds and summarised at the end:
// documents and bytes per second, checkpoints or transactions, and lag.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "libs/connector/logging.h"

namespace connectors::local {

class Progress {
 public:
  // `commits_name` is what a commit is called for this task ("checkpoints", "transactions").
  Progress(std::string task, std::string commits_name, const Logger& log,
           absl::Duration interval = absl::Seconds(5));
  ~Progress();  // Stops the periodic reports and logs the summary.

  void AddDocuments(uint64_t documents, uint64_t bytes) {
    documents_ += documents;
    bytes_ += bytes;
  }
  void AddCommit() {
    ++commits_;
    last_commit_nanos_ = absl::ToUnixNanos(absl::Now());
  }
  // Bytes of input not yet processed (materializations), for the lag column.
  void SetBacklogBytes(uint64_t bytes) { backlog_bytes_ = bytes; }

  uint64_t documents() const { return documents_; }
  uint64_t commits() const { return commits_; }

 private:
  void Report(bool final);

  const std::string task_;
  const std::string commits_name_;
  const Logger& log_;
  const absl::Time start_ = absl::Now();
  std::atomic<uint64_t> documents_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<int64_t> last_commit_nanos_{0};
  std::atomic<uint64_t> backlog_bytes_{0};
  uint64_t reported_documents_ = 0;
  uint64_t reported_bytes_ = 0;
  absl::Time reported_at_ = start_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace connectors::local
