// A child process with its stdin, stdout and stderr on pipes. Owns the process: the destructor
// kills it (SIGKILL) if it is still running and reaps it, so a failing test or an aborted
// pipeline never leaves children behind.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::process {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is the program (searched in PATH).
  std::map<std::string, std::string> env;  // Added to (or replacing in) the parent's env.
  bool pipe_stderr = true;                 // Else the child inherits the parent's stderr.
  std::string working_dir;                 // Empty: the parent's.
};

class Subprocess {
 public:
  static absl::StatusOr<Subprocess> Spawn(const SpawnOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }  // -1 unless piped.

  // Closes the child's stdin (it sees EOF).
  void CloseStdin();
  absl::Status Signal(int signal);
  // Waits for exit and returns the exit code (128 + signal if killed by one). With a timeout,
  // DeadlineExceeded if it is still running when the timeout passes.
  absl::StatusOr<int> Wait(std::optional<absl::Duration> timeout = std::nullopt);
  // Reads the rest of stderr (until the child closes it).
  std::string ReadAllStderr();

 private:
  Subprocess() = default;
  void CloseAll();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace connectors::process
