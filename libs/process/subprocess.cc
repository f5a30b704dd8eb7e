#include "libs/process/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"

extern char** environ;

namespace connectors::process {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry = *e;
    const std::string name(entry.substr(0, entry.find('=')));
    if (!extra.contains(name)) env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(StrCat(name, "=", value));
  return env;
}

}  // namespace

absl::StatusOr<Subprocess> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("spawn needs a program");
  int in[2], out[2], err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
      (options.pipe_stderr && ::pipe2(err, O_CLOEXEC) != 0)) {
    return absl::InternalError(StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  if (options.pipe_stderr) posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  // The child starts with default signal dispositions and an empty mask, whatever the parent
  // blocked or ignored (the connector runtime blocks SIGTERM and ignores SIGPIPE).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = MergedEnvironment(options.env);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  Subprocess child;
  const int rc = ::posix_spawnp(&child.pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  if (options.pipe_stderr) ::close(err[1]);
  child.stdin_fd_ = in[1];
  child.stdout_fd_ = out[0];
  child.stderr_fd_ = err[0];
  if (rc != 0) {
    child.pid_ = -1;
    return absl::NotFoundError(
        StrCat("cannot start \"", options.argv[0], "\": ", std::strerror(rc)));
  }
  return child;
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    this->~Subprocess();
    pid_ = std::exchange(other.pid_, -1);
    stdin_fd_ = std::exchange(other.stdin_fd_, -1);
    stdout_fd_ = std::exchange(other.stdout_fd_, -1);
    stderr_fd_ = std::exchange(other.stderr_fd_, -1);
    exit_code_ = std::exchange(other.exit_code_, std::nullopt);
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_code_.has_value()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  CloseAll();
}

void Subprocess::CloseAll() {
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
}

void Subprocess::CloseStdin() { CloseFd(stdin_fd_); }

absl::Status Subprocess::Signal(int signal) {
  if (pid_ <= 0 || exit_code_.has_value()) return absl::FailedPreconditionError("not running");
  if (::kill(pid_, signal) != 0) return absl::InternalError(std::strerror(errno));
  return absl::OkStatus();
}

absl::StatusOr<int> Subprocess::Wait(std::optional<absl::Duration> timeout) {
  if (exit_code_.has_value()) return *exit_code_;
  if (pid_ <= 0) return absl::FailedPreconditionError("no process");
  const absl::Time deadline = timeout ? absl::Now() + *timeout : absl::InfiniteFuture();
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, timeout ? WNOHANG : 0);
    if (done == pid_) {
      exit_code_ = ExitCodeOf(status);
      return *exit_code_;
    }
    if (done < 0 && errno != EINTR) return absl::InternalError(std::strerror(errno));
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(StrCat("process ", pid_, " still running"));
    }
    if (timeout) absl::SleepFor(absl::Milliseconds(5));
  }
}

std::string Subprocess::ReadAllStderr() {
  std::string out;
  if (stderr_fd_ < 0) return out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(stderr_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace connectors::process
