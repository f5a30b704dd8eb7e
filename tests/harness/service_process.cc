#include "tests/harness/service_process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "tests/harness/temp_dir.h"

extern char** environ;

namespace connectors::harness {
namespace {

// Steps of the child's setup, reported through the exec pipe when one fails.
enum class Step : int {
  kProcessGroup,
  kStdio,
  kMountNamespace,
  kMountPrivate,
  kProcWritable,
  kHideShadow,
  kUserNamespace,
  kSetgroupsDeny,
  kGidMap,
  kUidMap,
  kSetgroups,
  kSetgid,
  kSetuid,
  kChdir,
  kParentDeath,
  kExec,
};

const char* StepName(Step step) {
  switch (step) {
    case Step::kProcessGroup:
      return "setpgid";
    case Step::kStdio:
      return "redirect stdio";
    case Step::kMountNamespace:
      return "unshare(CLONE_NEWNS)";
    case Step::kMountPrivate:
      return "make mounts private";
    case Step::kProcWritable:
      return "remount /proc read-write";
    case Step::kHideShadow:
      return "hide /etc/shadow";
    case Step::kUserNamespace:
      return "unshare(CLONE_NEWUSER)";
    case Step::kSetgroupsDeny:
      return "write /proc/self/setgroups";
    case Step::kGidMap:
      return "write /proc/self/gid_map";
    case Step::kUidMap:
      return "write /proc/self/uid_map";
    case Step::kSetgroups:
      return "setgroups";
    case Step::kSetgid:
      return "setresgid";
    case Step::kSetuid:
      return "setresuid";
    case Step::kChdir:
      return "chdir";
    case Step::kParentDeath:
      return "prctl(PR_SET_PDEATHSIG)";
    case Step::kExec:
      return "exec";
  }
  return "setup";
}

struct ChildFailure {
  Step step;
  int error;
};

// Everything the child needs, prepared before fork: after fork in a multithreaded process the
// child may only make async-signal-safe calls, so it must not allocate or format.
struct ChildPlan {
  std::string program;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string working_dir;
  RunAs::Mode mode = RunAs::Mode::kSelf;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string uid_map;
  std::string gid_map;
  unsigned long proc_flags = 0;  // /proc's mount flags, less read-only.
  int stdin_fd = -1;
  int log_fd = -1;
  int report_fd = -1;
  pid_t parent = -1;
};

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Async-signal-safe: open, write, close.
bool WriteProcFile(const char* path, const std::string& contents) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = WriteAll(fd, contents.data(), contents.size());
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

[[noreturn]] void Fail(const ChildPlan& plan, Step step) {
  const ChildFailure failure{step, errno};
  WriteAll(plan.report_fd, &failure, sizeof(failure));
  ::_exit(127);
}

// Enters the service's user namespace (see RunAs::Mode::kUserNamespace). The mount namespace
// comes first, while we still hold CAP_SYS_ADMIN over the mounts: Bazel's sandbox mounts /proc
// read-only, and the id maps can only be written through a writable /proc.
void EnterUserNamespace(const ChildPlan& plan) {
  if (::unshare(CLONE_NEWNS) != 0) Fail(plan, Step::kMountNamespace);
  // Nothing mounted below may propagate back to the test's (or the host's) mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    Fail(plan, Step::kMountPrivate);
  }
  if (::mount(nullptr, "/proc", nullptr, MS_REMOUNT | MS_BIND | plan.proc_flags, nullptr) != 0) {
    Fail(plan, Step::kProcWritable);
  }
  if (::mount("/dev/null", "/etc/shadow", nullptr, MS_BIND, nullptr) != 0 && errno != ENOENT) {
    Fail(plan, Step::kHideShadow);
  }
  if (::unshare(CLONE_NEWUSER) != 0) Fail(plan, Step::kUserNamespace);
  // An unprivileged writer may map only its own ids, and gid_map needs setgroups denied first.
  if (!WriteProcFile("/proc/self/setgroups", "deny")) Fail(plan, Step::kSetgroupsDeny);
  if (!WriteProcFile("/proc/self/gid_map", plan.gid_map)) Fail(plan, Step::kGidMap);
  if (!WriteProcFile("/proc/self/uid_map", plan.uid_map)) Fail(plan, Step::kUidMap);
}

[[noreturn]] void ChildMain(const ChildPlan& plan) {
  if (::setpgid(0, 0) != 0) Fail(plan, Step::kProcessGroup);
  if (::dup2(plan.stdin_fd, STDIN_FILENO) < 0 || ::dup2(plan.log_fd, STDOUT_FILENO) < 0 ||
      ::dup2(plan.log_fd, STDERR_FILENO) < 0) {
    Fail(plan, Step::kStdio);
  }
  switch (plan.mode) {
    case RunAs::Mode::kSelf:
      break;
    case RunAs::Mode::kUserNamespace:
      EnterUserNamespace(plan);
      break;
    case RunAs::Mode::kSwitchUser:
      if (::setgroups(1, &plan.gid) != 0) Fail(plan, Step::kSetgroups);
      if (::setresgid(plan.gid, plan.gid, plan.gid) != 0) Fail(plan, Step::kSetgid);
      if (::setresuid(plan.uid, plan.uid, plan.uid) != 0) Fail(plan, Step::kSetuid);
      break;
  }
  if (!plan.working_dir.empty() && ::chdir(plan.working_dir.c_str()) != 0) {
    Fail(plan, Step::kChdir);
  }
  // After every credential change: changing credentials clears the parent-death signal.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(plan, Step::kParentDeath);
  // The parent may have died before the signal was armed.
  if (::getppid() != plan.parent) ::_exit(127);
  // Default dispositions and an empty mask, whatever the test process blocked or ignored.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Descriptors the test process opened without O_CLOEXEC (sockets of its clients) must not
  // leak into a service that would keep them open.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  Fail(plan, Step::kExec);
}

absl::StatusOr<std::string> ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return absl::NotFoundError(StrCat("\"", name, "\" is not in PATH"));
}

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    if (!extra.contains(std::string(text.substr(0, text.find('='))))) env.emplace_back(text);
  }
  for (const auto& [name, value] : extra) env.push_back(StrCat(name, "=", value));
  return env;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Whether a path can be entered by any user: every directory on it has the x bit for others.
bool ReachableByOthers(const std::string& path) {
  std::filesystem::path current = std::filesystem::path(path);
  while (true) {
    struct stat info {};
    if (::stat(current.c_str(), &info) != 0 || (info.st_mode & S_IXOTH) == 0) return false;
    if (!current.has_relative_path()) return true;
    current = current.parent_path();
  }
}

// Runs the whole kUserNamespace setup in a throwaway child: whether it works depends on the
// kernel, seccomp policy and sandbox, and only trying tells.
bool UserNamespaceWorks(uid_t uid, gid_t gid) {
  ServiceProcessOptions options;
  options.argv = {"/bin/true"};
  options.run_as.mode = RunAs::Mode::kUserNamespace;
  options.run_as.uid = uid;
  options.run_as.gid = gid;
  auto process = ServiceProcess::Start(std::move(options));
  if (!process.ok()) return false;
  auto code = process->Wait(absl::Seconds(10));
  return code.ok() && *code == 0;
}

// A process by pid and start time (field 22 of /proc/<pid>/stat), so a pid reused by an
// unrelated process is never mistaken for it.
struct ProcessId {
  pid_t pid;
  unsigned long long start_time;
};

// The parent pid and start time of `pid`, from /proc.
bool ReadStat(pid_t pid, pid_t* parent, unsigned long long* start_time) {
  auto stat = ReadFile(StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return false;
  // The command name (field 2) is in parentheses and may contain anything, so parse after it.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return false;
  std::string_view rest = std::string_view(*stat).substr(close + 2);
  // Fields from 3 on: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads itrealvalue starttime.
  std::vector<std::string_view> fields;
  while (!rest.empty() && fields.size() < 20) {
    const size_t space = rest.find(' ');
    fields.push_back(rest.substr(0, space));
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  if (fields.size() < 20) return false;
  *parent = static_cast<pid_t>(std::strtol(std::string(fields[1]).c_str(), nullptr, 10));
  *start_time = std::strtoull(std::string(fields[19]).c_str(), nullptr, 10);
  return true;
}

// Every live descendant of `root`. Services such as sshd move their per-connection children
// into sessions of their own, out of reach of a signal to the service's process group.
std::vector<ProcessId> Descendants(pid_t root) {
  std::map<pid_t, std::vector<ProcessId>> children;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
    pid_t parent = 0;
    unsigned long long start_time = 0;
    if (ReadStat(pid, &parent, &start_time)) children[parent].push_back({pid, start_time});
  }
  std::vector<ProcessId> found;
  std::vector<pid_t> pending = {root};
  while (!pending.empty()) {
    const pid_t pid = pending.back();
    pending.pop_back();
    for (const ProcessId& child : children[pid]) {
      found.push_back(child);
      pending.push_back(child.pid);
    }
  }
  return found;
}

void KillIfSame(const ProcessId& process) {
  pid_t parent = 0;
  unsigned long long start_time = 0;
  if (ReadStat(process.pid, &parent, &start_time) && start_time == process.start_time) {
    ::kill(process.pid, SIGKILL);
  }
}

}  // namespace

std::string RunAs::TempBase() const {
  std::string base = DefaultTempBase();
  if (mode == Mode::kSwitchUser && !ReachableByOthers(base)) return "/tmp";
  return base;
}

absl::Status RunAs::GrantOwnership(const std::string& path) const {
  if (mode != Mode::kSwitchUser) return absl::OkStatus();
  auto give = [this](const std::filesystem::path& entry) -> absl::Status {
    if (::lchown(entry.c_str(), uid, gid) != 0) {
      return absl::InternalError(StrCat("chown ", entry.string(), ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  if (absl::Status status = give(path); !status.ok()) return status;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, error)) {
    if (absl::Status status = give(entry.path()); !status.ok()) return status;
  }
  if (error) return absl::InternalError(StrCat("walk ", path, ": ", error.message()));
  return absl::OkStatus();
}

absl::StatusOr<RunAs> ServiceAccount() {
  RunAs run_as;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getuid() != 0) {
    ::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found);
    if (found == nullptr) return absl::NotFoundError(StrCat("no account for uid ", ::getuid()));
    run_as.uid = found->pw_uid;
    run_as.gid = found->pw_gid;
    run_as.user = found->pw_name;
    run_as.home = found->pw_dir;
    return run_as;
  }
  for (const char* name : {"postgres", "nobody"}) {
    ::getpwnam_r(name, &entry, buffer.data(), buffer.size(), &found);
    if (found != nullptr) break;
  }
  if (found == nullptr) {
    return absl::NotFoundError(
        "running as root, and neither a `postgres` nor a `nobody` account exists to run services "
        "as (scripts/setup.sh installs postgresql, which creates `postgres`)");
  }
  run_as.uid = found->pw_uid;
  run_as.gid = found->pw_gid;
  run_as.user = found->pw_name;
  run_as.home = found->pw_dir;
  const char* forced = std::getenv("CONNECTORS_HARNESS_RUN_AS");
  const bool force_switch = forced != nullptr && std::string_view(forced) == "switch-user";
  run_as.mode = !force_switch && UserNamespaceWorks(run_as.uid, run_as.gid)
                    ? RunAs::Mode::kUserNamespace
                    : RunAs::Mode::kSwitchUser;
  return run_as;
}

absl::StatusOr<ServiceProcess> ServiceProcess::Start(ServiceProcessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("a service needs a program");
  ChildPlan plan;
  {
    auto program = ResolveProgram(options.argv[0]);
    if (!program.ok()) return program.status();
    plan.program = *std::move(program);
  }
  std::vector<std::string> env = MergedEnvironment(options.env);
  for (auto& arg : options.argv) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : env) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.working_dir = options.working_dir;
  plan.mode = options.run_as.mode;
  plan.uid = options.run_as.uid;
  plan.gid = options.run_as.gid;
  plan.uid_map = StrCat(options.run_as.uid, " ", ::geteuid(), " 1\n");
  plan.gid_map = StrCat(options.run_as.gid, " ", ::getegid(), " 1\n");
  if (plan.mode == RunAs::Mode::kUserNamespace) {
    // Remounting must keep the flags it cannot clear (nosuid, nodev, noexec), so read them here.
    struct statvfs proc {};
    if (::statvfs("/proc", &proc) == 0) {
      if (proc.f_flag & ST_NOSUID) plan.proc_flags |= MS_NOSUID;
      if (proc.f_flag & ST_NODEV) plan.proc_flags |= MS_NODEV;
      if (proc.f_flag & ST_NOEXEC) plan.proc_flags |= MS_NOEXEC;
      if (proc.f_flag & ST_RELATIME) plan.proc_flags |= MS_RELATIME;
      if (proc.f_flag & ST_NOATIME) plan.proc_flags |= MS_NOATIME;
      if (proc.f_flag & ST_NODIRATIME) plan.proc_flags |= MS_NODIRATIME;
    }
  }

  const std::string log_path = options.log_path.empty() ? "/dev/null" : options.log_path;
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(StrCat("open ", log_path, ": ", std::strerror(errno)));
  const int stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (stdin_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(log_fd);
    if (stdin_fd >= 0) ::close(stdin_fd);
    return absl::InternalError(StrCat("pipe: ", std::strerror(error)));
  }
  plan.stdin_fd = stdin_fd;
  plan.log_fd = log_fd;
  plan.report_fd = report[1];
  plan.parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) ChildMain(plan);
  const int fork_error = errno;
  ::close(report[1]);
  ::close(log_fd);
  ::close(stdin_fd);
  if (pid < 0) {
    ::close(report[0]);
    return absl::InternalError(StrCat("fork: ", std::strerror(fork_error)));
  }

  ServiceProcess process;
  process.options_ = std::move(options);
  process.pid_ = pid;
  // The pipe closes on exec (O_CLOEXEC); before that the child reports a failed step.
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == sizeof(failure)) {
    process.KillGroupAndReap();
    return absl::InternalError(StrCat("starting ", process.options_.argv[0], ": ",
                                      StepName(failure.step), ": ", std::strerror(failure.error)));
  }
  return process;
}

absl::Status ServiceProcess::Run(ServiceProcessOptions options, absl::Duration timeout) {
  auto process = Start(std::move(options));
  if (!process.ok()) return process.status();
  auto code = process->Wait(timeout);
  if (!code.ok()) {
    process->Stop().IgnoreError();
    return absl::DeadlineExceededError(StrCat(process->options_.argv[0], " did not finish in ",
                                              absl::FormatDuration(timeout), "; log:\n",
                                              process->LogTail()));
  }
  if (*code != 0) {
    return absl::InternalError(
        StrCat(process->options_.argv[0], " exited with ", *code, "; log:\n", process->LogTail()));
  }
  return absl::OkStatus();
}

ServiceProcess::ServiceProcess(ServiceProcess&& other) noexcept
    : options_(std::move(other.options_)),
      pid_(std::exchange(other.pid_, -1)),
      exit_code_(std::exchange(other.exit_code_, -1)) {}

ServiceProcess& ServiceProcess::operator=(ServiceProcess&& other) noexcept {
  if (this != &other) {
    Stop().IgnoreError();
    options_ = std::move(other.options_);
    pid_ = std::exchange(other.pid_, -1);
    exit_code_ = std::exchange(other.exit_code_, -1);
  }
  return *this;
}

ServiceProcess::~ServiceProcess() { Stop().IgnoreError(); }

std::string ServiceProcess::LogTail(size_t max_bytes) const {
  return FileTail(options_.log_path, max_bytes);
}

bool ServiceProcess::Running() const {
  if (pid_ <= 0) return false;
  siginfo_t info{};
  // WNOWAIT leaves an exited leader a zombie, which keeps its process group id reserved.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return false;
  }
  return info.si_pid == 0;
}

int ServiceProcess::KillGroupAndReap() {
  ::kill(-pid_, SIGKILL);
  for (const ProcessId& process : Descendants(pid_)) KillIfSame(process);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  exit_code_ = ExitCodeOf(status);
  return exit_code_;
}

absl::StatusOr<int> ServiceProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) {
    if (exit_code_ >= 0) return exit_code_;
    return absl::FailedPreconditionError("no process");
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (Running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          StrCat(options_.argv[0], " (pid ", pid_, ") is still running"));
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  return KillGroupAndReap();
}

absl::StatusOr<int> ServiceProcess::Stop() {
  if (pid_ <= 0) {
    if (exit_code_ >= 0) return exit_code_;
    return absl::FailedPreconditionError("no process");
  }
  // Taken before the leader exits: then its orphans are reparented and no longer traceable.
  const std::vector<ProcessId> descendants = Descendants(pid_);
  if (Running()) ::kill(pid_, options_.stop_signal);
  auto code = Wait(options_.stop_timeout);
  if (!code.ok()) code = KillGroupAndReap();
  for (const ProcessId& process : descendants) KillIfSame(process);
  return code;
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  auto contents = ReadFile(path);
  if (!contents.ok()) return {};
  if (contents->size() <= max_bytes) return *std::move(contents);
  return contents->substr(contents->size() - max_bytes);
}

}  // namespace connectors::harness
