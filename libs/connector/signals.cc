#include "libs/connector/signals.h"

#include <cstdlib>
#include <cstring>

namespace connectors::runtime {

namespace {
void IgnoreHere(int) {}
}  // namespace

SignalWatcher::SignalWatcher(StopSignal& stop, const Logger& log) : stop_(stop), log_(log) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  // A handler (never run: the signals stay blocked and are taken by sigtimedwait) because the
  // kernel drops default-disposition signals sent to PID 1, which a connector is in a container.
  struct sigaction action = {};
  action.sa_handler = IgnoreHere;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  thread_ = std::thread([this] { Watch(); });
}

SignalWatcher::~SignalWatcher() {
  done_ = true;
  thread_.join();
}

void SignalWatcher::Watch() {
  // Polling lets the destructor end the thread without sending it a signal.
  const timespec poll_interval = {0, 100'000'000};
  int received = 0;
  while (!done_) {
    const int signal = sigtimedwait(&signals_, nullptr, &poll_interval);
    if (signal < 0) continue;
    if (++received > 1) {
      log_.Error("second stop signal received; exiting immediately");
      std::_Exit(130);
    }
    log_.Info("stop signal received; finishing the current unit of work",
              {LogField::Str("signal", strsignal(signal))});
    stop_.Stop();
  }
}

}  // namespace connectors::runtime
