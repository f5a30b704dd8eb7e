// Kill-and-restart testing: run a pipeline, kill -9 the runtime or one of the connectors it
// started at random moments, restart, and let the test verify the destination against the
// source afterwards. Deterministic for a given seed, so a failure can be replayed.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/process/subprocess.h"

namespace connectors::chaos {

struct Options {
  int rounds = 5;
  absl::Duration min_delay = absl::Milliseconds(200);
  absl::Duration max_delay = absl::Milliseconds(1000);
  uint64_t seed = 1;
};

enum class Victim { kRuntime, kConnector };

struct Round {
  Victim victim;
  absl::Duration delay;
  bool killed;  // False when the process had already exited before its kill was due.
};

// The processes started directly by `pid` (read from /proc).
std::vector<pid_t> ChildrenOf(pid_t pid);

// `rounds` times: start the runtime with `start`, wait a random delay, then SIGKILL either the
// runtime or one of its child processes (alternating, the first victim chosen by the seed),
// and reap the runtime. Returns what each round did.
absl::StatusOr<std::vector<Round>> KillAndRestart(
    const std::function<absl::StatusOr<process::Subprocess>()>& start, const Options& options);

}  // namespace connectors::chaos
