// Child processes for services that tests start. A ServiceProcess owns its child and cannot
// outlive it:
//   - the child leads its own process group, and Stop() (also run by the destructor) signals the
//     leader, waits, then SIGKILLs the whole group and every descendant it saw (sshd moves each
//     connection into a session of its own), so helpers the service forked go too;
//   - the child gets PR_SET_PDEATHSIG=SIGKILL, so it dies with the thread that started it even
//     if the test crashes or is killed (create services on a thread that outlives them; gtest's
//     main thread does);
//   - stdin is /dev/null and stdout/stderr go to a log file that errors quote.
// RunAs decides which account the child runs as; see ServiceAccount().
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::harness {

// Who a service process runs as.
struct RunAs {
  enum class Mode {
    // As this process. The only mode when the test is not root.
    kSelf,
    // Root only: in a fresh user namespace whose one uid/gid (`uid`/`gid`, the account's) maps to
    // ours, so the service sees itself as the unprivileged account while every file stays owned
    // by us. Works inside Bazel's sandbox, where only uid 0 exists and setuid() fails. The child
    // also gets a private mount namespace in which /etc/shadow reads as empty, as it would for an
    // unprivileged process (sshd would otherwise refuse accounts whose password is locked).
    kUserNamespace,
    // Root only, when user namespaces are unavailable (e.g. Docker's default seccomp profile):
    // setgroups/setgid/setuid to the account. Directories the service writes must be given to it
    // (GrantOwnership) and must be reachable by it (TempBase()).
    kSwitchUser,
  };
  Mode mode = Mode::kSelf;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;  // Account name the service sees as its own.
  std::string home;

  // A base for the service's temp dirs that the account can reach: DefaultTempBase(), or /tmp
  // in kSwitchUser mode when that base sits under a directory others cannot enter (/root).
  std::string TempBase() const;
  // Makes `path` (recursively) owned by the account in kSwitchUser mode; a no-op otherwise.
  absl::Status GrantOwnership(const std::string& path) const;
};

// How this process should run services. Not root: kSelf as the current user. Root: PostgreSQL
// refuses to run as root and sshd as root needs privilege separation (a root-owned /run/sshd and
// setuid to the `sshd` user), so services run as an unprivileged account: `postgres` (created by
// Debian's postgresql package; it has a login shell, so sshd can run commands for it), else
// `nobody`. kUserNamespace when a probe child can create a user namespace, else kSwitchUser.
// CONNECTORS_HARNESS_RUN_AS=switch-user forces kSwitchUser (to test that path as real root).
absl::StatusOr<RunAs> ServiceAccount();

struct ServiceProcessOptions {
  std::vector<std::string> argv;                   // argv[0]: a path, or a name searched in PATH.
  std::map<std::string, std::string> env;          // Added to (or replacing in) this process's env.
  std::string log_path;                            // stdout+stderr appended here; empty: /dev/null.
  std::string working_dir;                         // Empty: this process's.
  RunAs run_as;                                    // Default: kSelf.
  int stop_signal = SIGTERM;                       // What Stop() sends the leader first.
  absl::Duration stop_timeout = absl::Seconds(5);  // Then SIGKILL to the whole group.
};

class ServiceProcess {
 public:
  // Starts the child; an error if it cannot be set up or exec'd (nothing is left running).
  static absl::StatusOr<ServiceProcess> Start(ServiceProcessOptions options);
  // Runs a command to completion: an error quoting the log tail unless it exits 0 in time.
  static absl::Status Run(ServiceProcessOptions options, absl::Duration timeout);

  ServiceProcess(ServiceProcess&& other) noexcept;
  ServiceProcess& operator=(ServiceProcess&& other) noexcept;
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;
  ~ServiceProcess();

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return options_.log_path; }
  // The last `max_bytes` of the log, for error messages.
  std::string LogTail(size_t max_bytes = 4000) const;

  // Whether the leader is still running (an exited leader is not reaped yet: see Stop()).
  bool Running() const;
  // Waits up to `timeout` for the leader to exit, then reaps it (and SIGKILLs its group).
  // Returns the exit code, 128+signal if killed; DeadlineExceeded if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Sends stop_signal to the leader, waits up to stop_timeout, SIGKILLs the group and the
  // leader's descendants, reaps the leader. Idempotent; returns the exit code of the leader.
  absl::StatusOr<int> Stop();

 private:
  ServiceProcess() = default;
  // Kills the group while the unreaped leader still holds its id, then reaps the leader.
  int KillGroupAndReap();

  ServiceProcessOptions options_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// The last `max_bytes` of a file (empty if unreadable).
std::string FileTail(const std::string& path, size_t max_bytes = 4000);

}  // namespace connectors::harness
