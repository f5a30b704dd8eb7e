#include "tests/source-http-file/support.h"

#include <unistd.h>

#include <mutex>

#include "libs/base/strings.h"
#include "libs/json/merge_patch.h"

namespace connectors::http_file::testing {
namespace {

class Session final : public runtime::CaptureSession, public runtime::CaptureOutput {
 public:
  Session(RunResult* result, int64_t crash_at)
      : result_(result), crash_at_(crash_at), log_(STDERR_FILENO, LogLevel::kDebug) {}

  runtime::CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override { return false; }
  bool WaitForStop(absl::Duration timeout) override { return false; }
  uint64_t acknowledged() const override { return result_->checkpoints; }
  bool WaitForAcknowledged(uint64_t checkpoints, absl::Duration timeout) override { return true; }

  absl::Status Document(uint32_t binding, std::string_view doc_json) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (crash_at_ >= 0 && documents_ == crash_at_) {
      return absl::InternalError("simulated crash");
    }
    ++documents_;
    pending_.emplace_back(doc_json);
    return absl::OkStatus();
  }
  absl::Status SourcedSchema(uint32_t binding, std::string_view schema_json) override {
    return absl::OkStatus();
  }
  absl::Status Checkpoint(std::string_view state_json, bool merge_patch) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto next = merge_patch ? json::ApplyMergePatch(result_->state, state_json)
                            : absl::StatusOr<std::string>(std::string(state_json));
    if (!next.ok()) return next.status();
    result_->state = *next;
    for (auto& doc : pending_) result_->committed.push_back(std::move(doc));
    pending_.clear();
    ++result_->checkpoints;
    return absl::OkStatus();
  }

  size_t pending() const { return pending_.size(); }

 private:
  RunResult* result_;
  int64_t crash_at_;
  Logger log_;
  std::mutex mu_;
  int64_t documents_ = 0;
  std::vector<std::string> pending_;
};

}  // namespace

HttpFileOptions TestOptions() {
  HttpFileOptions options;
  options.retry.initial_backoff = absl::Milliseconds(20);
  options.retry.max_backoff = absl::Milliseconds(200);
  options.retry.max_attempts = 4;
  options.retry.stall_timeout = absl::Seconds(5);
  return options;
}

RunResult RunCapture(const std::string& config_json, const RunOptions& options) {
  RunResult result;
  result.state = options.state_json;
  HttpFileDriver driver(options.driver);
  ::capture::Request::Open open;
  open.mutable_capture()->set_name("acmeCo/http");
  open.mutable_capture()->set_config_json(config_json);
  auto* binding = open.mutable_capture()->add_bindings();
  binding->set_resource_config_json(R"({"stream":"files"})");
  binding->set_state_key("files");
  binding->mutable_collection()->set_name("acmeCo/files");
  binding->mutable_collection()->set_write_schema_json(
      options.collection_schema.empty() ? R"({"type":"object"})" : options.collection_schema);
  open.mutable_range()->set_key_begin(options.key_begin);
  open.mutable_range()->set_key_end(options.key_end);
  open.mutable_range()->set_r_clock_end(0xFFFFFFFF);
  open.set_state_json(options.state_json);
  Logger log(STDERR_FILENO, LogLevel::kDebug);
  auto capture = driver.Open(open, log);
  result.open_status = capture.status();
  if (!capture.ok()) return result;
  Session session(&result, options.crash_at_document);
  result.run_status = (*capture)->Run(session);
  result.uncommitted = session.pending();
  return result;
}

}  // namespace connectors::http_file::testing
