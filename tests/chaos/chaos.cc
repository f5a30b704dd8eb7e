#include "tests/chaos/chaos.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/time/clock.h"

namespace connectors::chaos {

std::vector<pid_t> ChildrenOf(pid_t pid) {
  // Each thread's "children" file lists the processes that thread started, so every task of
  // the process is read.
  std::vector<pid_t> children;
  std::error_code error;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream list(task.path() / "children");
    for (pid_t child; list >> child;) children.push_back(child);
  }
  return children;
}

absl::StatusOr<std::vector<Round>> KillAndRestart(
    const std::function<absl::StatusOr<process::Subprocess>()>& start, const Options& options) {
  std::mt19937_64 random(options.seed);
  std::vector<Round> rounds;
  Victim victim = (random() & 1) ? Victim::kRuntime : Victim::kConnector;
  for (int i = 0; i < options.rounds; ++i) {
    auto runtime = start();
    if (!runtime.ok()) return runtime.status();
    const int64_t span = absl::ToInt64Milliseconds(options.max_delay - options.min_delay);
    const absl::Duration delay =
        options.min_delay +
        absl::Milliseconds(span > 0 ? static_cast<int64_t>(random() % span) : 0);
    absl::SleepFor(delay);

    Round round{victim, delay, false};
    if (victim == Victim::kConnector) {
      const std::vector<pid_t> children = ChildrenOf(runtime->pid());
      if (!children.empty()) {
        round.killed = ::kill(children[random() % children.size()], SIGKILL) == 0;
      }
    }
    if (victim == Victim::kRuntime || !round.killed) {
      round.killed = runtime->Signal(SIGKILL).ok() || round.killed;
    }
    // After a connector dies the runtime fails on its own; give it time, then make sure.
    if (!runtime->Wait(absl::Seconds(10)).ok()) {
      (void)runtime->Signal(SIGKILL);
      (void)runtime->Wait();
    }
    rounds.push_back(round);
    victim = victim == Victim::kRuntime ? Victim::kConnector : Victim::kRuntime;
  }
  return rounds;
}

}  // namespace connectors::chaos
