#include "tests/harness/http_file_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "tests/harness/service_process.h"
#include "tests/harness/temp_dir.h"

namespace connectors::harness {
namespace {

constexpr char kHost[] = "127.0.0.1";
constexpr char kWorkspace[] = "connectors";
constexpr absl::Duration kReadyTimeout = absl::Seconds(20);

}  // namespace

absl::StatusOr<std::string> FindRunfile(std::string_view path) {
  std::vector<std::string> roots;
  for (const char* name : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      roots.emplace_back(value);
    }
  }
  // A binary run directly (not by bazel test/run) finds its runfiles next to itself, or is
  // itself inside a runfiles tree.
  std::error_code error;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (!error) {
    roots.push_back(StrCat(self, ".runfiles"));
    const size_t inside = self.find(".runfiles/");
    if (inside != std::string::npos) roots.push_back(self.substr(0, inside + 9));
  }
  for (const std::string& root : roots) {
    std::string candidate = StrCat(root, "/", kWorkspace, "/", path);
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
  }
  return absl::NotFoundError(StrCat("runfile ", path, " not found (depend on its target)"));
}

struct HttpFileServer::State {
  std::string host = kHost;
  int port = 0;
  std::string root;
  // Declared before the process so the server is stopped before its files are deleted.
  TempDir dir;
  std::optional<ServiceProcess> server;

  explicit State(TempDir temp) : dir(std::move(temp)) {}
};

HttpFileServer::HttpFileServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpFileServer::HttpFileServer(HttpFileServer&&) noexcept = default;
HttpFileServer& HttpFileServer::operator=(HttpFileServer&&) noexcept = default;
HttpFileServer::~HttpFileServer() = default;

const std::string& HttpFileServer::host() const { return state_->host; }
int HttpFileServer::port() const { return state_->port; }
const std::string& HttpFileServer::root() const { return state_->root; }
const std::string& HttpFileServer::dir() const { return state_->dir.path(); }

std::string HttpFileServer::url(std::string_view path) const {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return StrCat("http://", kHost, ":", state_->port, "/", path);
}

std::string HttpFileServer::LogTail() const {
  return FileTail(state_->dir.Path("http_file_server.log"));
}

absl::StatusOr<HttpFileServer> HttpFileServer::Start(const HttpFileServerOptions& options) {
  std::string binary = options.binary;
  if (binary.empty()) {
    auto found = FindRunfile("tests/harness/http_file_server");
    if (!found.ok()) return found.status();
    binary = *std::move(found);
  }
  auto temp = TempDir::Create("http-");
  if (!temp.ok()) return temp.status();
  auto state = std::make_unique<State>(*std::move(temp));
  if (options.root.empty()) {
    state->root = state->dir.Path("files");
    std::error_code error;
    std::filesystem::create_directory(state->root, error);
    if (error) return absl::InternalError(StrCat("mkdir ", state->root, ": ", error.message()));
  } else {
    std::error_code error;
    state->root = std::filesystem::absolute(options.root, error).string();
    if (error) return absl::InternalError(StrCat("root ", options.root, ": ", error.message()));
  }

  // The server binds port 0 itself and reports the port through a file: no window in which
  // another process could take a port chosen for it.
  const std::string port_file = state->dir.Path("port");
  ServiceProcessOptions server;
  server.argv = {binary, StrCat("--root=", state->root), StrCat("--host=", kHost), "--port=0",
                 StrCat("--port_file=", port_file)};
  if (!options.basic_auth_user.empty() || !options.basic_auth_password.empty()) {
    server.argv.push_back(
        StrCat("--basic_auth=", options.basic_auth_user, ":", options.basic_auth_password));
  }
  if (!options.bearer_token.empty()) {
    server.argv.push_back(StrCat("--bearer_token=", options.bearer_token));
  }
  if (options.gzip) server.argv.push_back("--gzip");
  if (!options.etag) server.argv.push_back("--no_etag");
  if (!options.last_modified) server.argv.push_back("--no_last_modified");
  server.log_path = state->dir.Path("http_file_server.log");
  auto process = ServiceProcess::Start(std::move(server));
  if (!process.ok()) return process.status();
  state->server = *std::move(process);

  const absl::Time deadline = absl::Now() + kReadyTimeout;
  while (true) {
    auto text = ReadFile(port_file);
    if (text.ok()) {
      state->port = std::atoi(text->c_str());
      // The port file is written after listen(), so connections are accepted from here on.
      if (state->port > 0 && AcceptsConnections(state->port))
        return HttpFileServer(std::move(state));
    }
    if (!state->server->Running() || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  state->server->Stop().IgnoreError();
  return absl::UnavailableError(StrCat("http_file_server did not start; log:\n",
                                       FileTail(state->dir.Path("http_file_server.log"))));
}

absl::Status HttpFileServer::Stop() {
  if (!state_ || !state_->server.has_value()) return absl::OkStatus();
  auto code = state_->server->Stop();
  state_->server.reset();
  return code.status();
}

}  // namespace connectors::harness
