// Turns SIGTERM and SIGINT into a stop request, from a thread of its own (a signal handler can
// do almost nothing safely). Construct it before starting other threads: it blocks both
// signals in the calling thread, and threads inherit the mask. A second signal exits at once
// with code 130.
#pragma once

#include <signal.h>

#include <atomic>
#include <thread>

#include "libs/connector/logging.h"
#include "libs/connector/stop.h"

namespace connectors::runtime {

class SignalWatcher {
 public:
  SignalWatcher(StopSignal& stop, const Logger& log);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void Watch();

  StopSignal& stop_;
  const Logger& log_;
  sigset_t signals_;
  std::atomic<bool> done_ = false;
  std::thread thread_;
};

}  // namespace connectors::runtime
