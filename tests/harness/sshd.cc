#include "tests/harness/sshd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "tests/harness/service_process.h"
#include "tests/harness/temp_dir.h"

namespace connectors::harness {
namespace {

constexpr char kHost[] = "127.0.0.1";
constexpr int kStartAttempts = 3;
constexpr absl::Duration kReadyTimeout = absl::Seconds(20);

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Whether an SSH server answers on 127.0.0.1:`port` with its identification banner: accepting
// the TCP connection alone does not prove that sshd loaded its keys and configuration.
bool AnswersWithBanner(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    pollfd readable{fd, POLLIN, 0};
    char banner[4] = {};
    ok = ::poll(&readable, 1, 2000) == 1 && ::recv(fd, banner, sizeof(banner), MSG_WAITALL) == 4 &&
         std::memcmp(banner, "SSH-", 4) == 0;
  }
  ::close(fd);
  return ok;
}

absl::StatusOr<std::string> SshdPath() {
  if (::access("/usr/sbin/sshd", X_OK) == 0) return std::string("/usr/sbin/sshd");
  return absl::NotFoundError("/usr/sbin/sshd not found; scripts/setup.sh installs openssh-server");
}

}  // namespace

struct Sshd::State {
  std::string host = kHost;
  int port = 0;
  RunAs run_as;
  std::string private_key_pem;
  std::string ed25519_private_key;
  std::string host_public_key;
  // Declared before the process so sshd is stopped before its files are deleted.
  TempDir dir;
  std::optional<ServiceProcess> server;

  explicit State(TempDir temp) : dir(std::move(temp)) {}
};

Sshd::Sshd(std::unique_ptr<State> state) : state_(std::move(state)) {}
Sshd::Sshd(Sshd&&) noexcept = default;
Sshd& Sshd::operator=(Sshd&&) noexcept = default;
Sshd::~Sshd() = default;

const std::string& Sshd::host() const { return state_->host; }
int Sshd::port() const { return state_->port; }
const std::string& Sshd::user() const { return state_->run_as.user; }
const std::string& Sshd::private_key_pem() const { return state_->private_key_pem; }
std::string Sshd::private_key_pem_path() const { return state_->dir.Path("client_rsa"); }
const std::string& Sshd::ed25519_private_key() const { return state_->ed25519_private_key; }
std::string Sshd::ed25519_private_key_path() const { return state_->dir.Path("client_ed25519"); }
const std::string& Sshd::host_public_key() const { return state_->host_public_key; }
const std::string& Sshd::dir() const { return state_->dir.path(); }
std::string Sshd::LogTail() const { return FileTail(state_->dir.Path("sshd.log")); }

absl::StatusOr<Sshd> Sshd::Start() {
  auto sshd_path = SshdPath();
  if (!sshd_path.ok()) return sshd_path.status();
  auto run_as = ServiceAccount();
  if (!run_as.ok()) return run_as.status();
  auto temp = TempDir::CreateIn(run_as->TempBase(), "sshd-");
  if (!temp.ok()) return temp.status();
  auto state = std::make_unique<State>(*std::move(temp));
  state->run_as = *std::move(run_as);
  const TempDir& dir = state->dir;
  if (auto s = state->run_as.GrantOwnership(dir.path()); !s.ok()) return s;

  // Keys are generated as the account sshd runs as, so they are owned as sshd expects. The
  // three run at once: RSA generation dominates.
  struct Key {
    std::string file;
    std::vector<std::string> type;
  };
  const std::vector<Key> keys = {
      {"host_ed25519_key", {"-t", "ed25519"}},
      {"client_ed25519", {"-t", "ed25519"}},
      {"client_rsa", {"-t", "rsa", "-b", "2048", "-m", "PEM"}},
  };
  std::vector<ServiceProcess> generators;
  for (const Key& key : keys) {
    ServiceProcessOptions keygen;
    keygen.argv = {"ssh-keygen",      "-q", "-N", "", "-C", "connectors-harness", "-f",
                   dir.Path(key.file)};
    keygen.argv.insert(keygen.argv.end(), key.type.begin(), key.type.end());
    keygen.log_path = dir.Path(StrCat(key.file, ".keygen.log"));
    keygen.run_as = state->run_as;
    auto process = ServiceProcess::Start(std::move(keygen));
    if (!process.ok()) return process.status();
    generators.push_back(*std::move(process));
  }
  for (ServiceProcess& generator : generators) {
    auto code = generator.Wait(absl::Seconds(30));
    if (!code.ok() || *code != 0) {
      return absl::InternalError(StrCat("ssh-keygen failed; log:\n", generator.LogTail()));
    }
  }

  auto rsa = ReadFile(dir.Path("client_rsa"));
  auto ed25519 = ReadFile(dir.Path("client_ed25519"));
  auto host_public = ReadFile(dir.Path("host_ed25519_key.pub"));
  auto rsa_public = ReadFile(dir.Path("client_rsa.pub"));
  auto ed25519_public = ReadFile(dir.Path("client_ed25519.pub"));
  for (const auto* file : {&rsa, &ed25519, &host_public, &rsa_public, &ed25519_public}) {
    if (!file->ok()) return file->status();
  }
  state->private_key_pem = *std::move(rsa);
  state->ed25519_private_key = *std::move(ed25519);
  state->host_public_key = Trimmed(*std::move(host_public));
  if (auto s = WriteFile(dir.Path("authorized_keys"), StrCat(*rsa_public, *ed25519_public));
      !s.ok()) {
    return s;
  }

  // Every path is absolute and inside the temp dir; nothing from /etc/ssh is read.
  const std::string config =
      StrCat("# tests/harness\n", "ListenAddress ", kHost, "\n", "HostKey ",
             dir.Path("host_ed25519_key"), "\n", "PidFile ", dir.Path("sshd.pid"), "\n",
             "AuthorizedKeysFile ", dir.Path("authorized_keys"), "\n", "PubkeyAuthentication yes\n",
             "PasswordAuthentication no\n", "KbdInteractiveAuthentication no\n",
             "PermitRootLogin prohibit-password\n",
             // PAM needs root; StrictModes would reject keys in a temp dir others can read.
             "UsePAM no\n", "StrictModes no\n", "AllowTcpForwarding yes\n",
             // Tests may only reach this machine.
             "PermitOpen 127.0.0.1:* localhost:*\n", "GatewayPorts no\n", "X11Forwarding no\n",
             "PermitUserEnvironment no\n", "Subsystem sftp internal-sftp\n", "MaxStartups 100\n",
             "LogLevel VERBOSE\n");
  if (auto s = WriteFile(dir.Path("sshd_config"), config); !s.ok()) return s;

  std::string last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    ServiceProcessOptions server;
    // -D: stay in the foreground as our child; -e: log to stderr (the log file).
    server.argv = {*sshd_path, "-D", "-e", "-f", dir.Path("sshd_config"), "-p", StrCat(*port)};
    server.log_path = dir.Path("sshd.log");
    server.run_as = state->run_as;
    auto process = ServiceProcess::Start(std::move(server));
    if (!process.ok()) return process.status();
    state->port = *port;
    state->server = *std::move(process);

    const absl::Time deadline = absl::Now() + kReadyTimeout;
    bool ready = false;
    while (state->server->Running() && absl::Now() < deadline) {
      if (AnswersWithBanner(*port)) {
        ready = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (ready) return Sshd(std::move(state));
    state->server->Stop().IgnoreError();
    state->server.reset();
    last_error = FileTail(dir.Path("sshd.log"));
    // Another process took the port between FreePort() and the bind: try a new one.
    if (last_error.find("Address already in use") == std::string::npos) break;
  }
  return absl::UnavailableError(StrCat("sshd did not start; log:\n", last_error));
}

absl::Status Sshd::Stop() {
  if (!state_ || !state_->server.has_value()) return absl::OkStatus();
  auto code = state_->server->Stop();
  state_->server.reset();
  return code.status();
}

}  // namespace connectors::harness
