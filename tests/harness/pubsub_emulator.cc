#include "tests/harness/pubsub_emulator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "tests/harness/service_process.h"
#include "tests/harness/temp_dir.h"

namespace connectors::harness {
namespace {

constexpr char kHost[] = "127.0.0.1";
constexpr char kDebianLauncher[] =
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator";
constexpr int kStartAttempts = 3;
constexpr absl::Duration kReadyTimeout = absl::Seconds(60);

// Whether the emulator answers a REST request on `port`: listing a project's topics gives a
// JSON answer once the server is up (accepting TCP alone happens earlier).
bool AnswersRest(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request =
        "GET /v1/projects/harness-probe/topics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      pollfd readable{fd, POLLIN, 0};
      char head[12] = {};
      ok = ::poll(&readable, 1, 5000) == 1 && ::recv(fd, head, sizeof(head), MSG_WAITALL) > 9 &&
           std::memcmp(head, "HTTP/1.1 200", 12) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

struct PubsubEmulator::State {
  std::string host = kHost;
  int port = 0;
  TempDir dir;
  std::optional<ServiceProcess> server;  // Declared after dir: stopped before it is deleted.

  explicit State(TempDir temp) : dir(std::move(temp)) {}
};

PubsubEmulator::PubsubEmulator(std::unique_ptr<State> state) : state_(std::move(state)) {}
PubsubEmulator::PubsubEmulator(PubsubEmulator&&) noexcept = default;
PubsubEmulator& PubsubEmulator::operator=(PubsubEmulator&&) noexcept = default;
PubsubEmulator::~PubsubEmulator() = default;

const std::string& PubsubEmulator::host() const { return state_->host; }
int PubsubEmulator::port() const { return state_->port; }
std::string PubsubEmulator::host_port() const { return StrCat(state_->host, ":", state_->port); }
std::string PubsubEmulator::url() const { return StrCat("http://", host_port()); }
const std::string& PubsubEmulator::dir() const { return state_->dir.path(); }
std::string PubsubEmulator::LogTail() const { return FileTail(state_->dir.Path("emulator.log")); }

absl::StatusOr<std::string> PubsubEmulator::Launcher() {
  if (const char* path = std::getenv("PUBSUB_EMULATOR_LAUNCHER"); path != nullptr && *path) {
    if (::access(path, X_OK) == 0) return std::string(path);
    return absl::NotFoundError(StrCat("PUBSUB_EMULATOR_LAUNCHER=", path, " is not executable"));
  }
  if (::access(kDebianLauncher, X_OK) == 0) return std::string(kDebianLauncher);
  return absl::NotFoundError(
      StrCat(kDebianLauncher,
             " not found: install the google-cloud-cli-pubsub-emulator package "
             "(Google's apt repository) and a Java runtime, or point "
             "PUBSUB_EMULATOR_LAUNCHER at cloud-pubsub-emulator"));
}

std::string PubsubEmulator::Missing() {
  auto launcher = Launcher();
  return StrCat(
      "\n*************************************************************************\n"
      "* SKIPPED: the Google Cloud Pub/Sub emulator is not installed.\n* ",
      launcher.ok() ? "" : MessageOf(launcher.status()),
      "\n*************************************************************************\n");
}

absl::StatusOr<PubsubEmulator> PubsubEmulator::Start() {
  auto launcher = Launcher();
  if (!launcher.ok()) return launcher.status();
  auto temp = TempDir::Create("pubsub-emulator-");
  if (!temp.ok()) return temp.status();
  auto state = std::make_unique<State>(*std::move(temp));

  std::string last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    ServiceProcessOptions server;
    server.argv = {*launcher, StrCat("--host=", kHost), StrCat("--port=", *port)};
    server.log_path = state->dir.Path("emulator.log");
    server.working_dir = state->dir.path();
    // The JVM writes its own temp files (and perf data) here rather than in /tmp.
    server.env = {
        {"JAVA_TOOL_OPTIONS", StrCat("-Djava.io.tmpdir=", state->dir.path(), " -XX:-UsePerfData")}};
    auto process = ServiceProcess::Start(std::move(server));
    if (!process.ok()) return process.status();
    state->port = *port;
    state->server = *std::move(process);

    const absl::Time deadline = absl::Now() + kReadyTimeout;
    bool ready = false;
    while (state->server->Running() && absl::Now() < deadline) {
      if (AnswersRest(*port)) {
        ready = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (ready) return PubsubEmulator(std::move(state));
    state->server->Stop().IgnoreError();
    state->server.reset();
    last_error = FileTail(state->dir.Path("emulator.log"));
    // Another process took the port between FreePort() and the bind: try a new one.
    if (last_error.find("Address already in use") == std::string::npos &&
        last_error.find("BindException") == std::string::npos) {
      break;
    }
  }
  return absl::UnavailableError(StrCat("the Pub/Sub emulator did not start; log:\n", last_error));
}

absl::Status PubsubEmulator::Stop() {
  if (!state_ || !state_->server.has_value()) return absl::OkStatus();
  auto code = state_->server->Stop();
  state_->server.reset();
  return code.status();
}

}  // namespace connectors::harness
