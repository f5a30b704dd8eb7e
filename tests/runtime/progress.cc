#include "tests/runtime/progress.h"

#include "absl/time/clock.h"
#include "libs/base/strings.h"

namespace connectors::local {

Progress::Progress(std::string task, std::string commits_name, const Logger& log,
                   absl::Duration interval)
    : task_(std::move(task)), commits_name_(std::move(commits_name)), log_(log) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, absl::ToChronoNanoseconds(interval), [this] { return done_; })) {
      Report(/*final=*/false);
    }
  });
}

Progress::~Progress() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Report(/*final=*/true);
}

void Progress::Report(bool final) {
  const absl::Time now = absl::Now();
  const uint64_t documents = documents_;
  const uint64_t bytes = bytes_;
  const double seconds =
      std::max(1e-9, absl::ToDoubleSeconds(final ? now - start_ : now - reported_at_));
  const double docs_per_s = (final ? documents : documents - reported_documents_) / seconds;
  const double bytes_per_s = (final ? bytes : bytes - reported_bytes_) / seconds;
  reported_documents_ = documents;
  reported_bytes_ = bytes;
  reported_at_ = now;

  const int64_t last_commit = last_commit_nanos_;
  const double since_commit =
      last_commit == 0 ? -1 : absl::ToDoubleSeconds(now - absl::FromUnixNanos(last_commit));
  log_.Info(
      final ? "summary" : "progress",
      {LogField::Str("task", task_), LogField::Uint("documents", documents),
       LogField::Uint("bytes", bytes), LogField::Double("docsPerSecond", docs_per_s),
       LogField::Double("bytesPerSecond", bytes_per_s), LogField::Uint(commits_name_, commits_),
       LogField::Double("secondsSinceCommit", since_commit),
       LogField::Uint("backlogBytes", backlog_bytes_),
       LogField::Double("elapsedSeconds", absl::ToDoubleSeconds(now - start_))});
}

}  // namespace connectors::local
