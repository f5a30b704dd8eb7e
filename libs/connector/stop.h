// A one-shot stop signal shared between the runtime and a running session: set on SIGTERM,
// SIGINT, end of input, or a fatal error on another thread. Waiters block on a condition
// variable; blocking reads poll its file descriptor.
#pragma once

#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace connectors::runtime {

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  void Stop();
  bool stopped() const;
  // Sleeps up to `timeout`; returns true if stopped (now or during the wait).
  bool WaitFor(absl::Duration timeout) const;
  // Becomes readable once stopped, for poll().
  int fd() const { return event_fd_; }

 private:
  int event_fd_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace connectors::runtime
