#include "libs/connector/stop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace connectors::runtime {

StopSignal::StopSignal() : event_fd_(::eventfd(0, EFD_CLOEXEC)) {}

StopSignal::~StopSignal() {
  if (event_fd_ >= 0) ::close(event_fd_);
}

void StopSignal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  cv_.notify_all();
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

bool StopSignal::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

bool StopSignal::WaitFor(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return stopped_; });
}

}  // namespace connectors::runtime
