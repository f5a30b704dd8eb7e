#include "tests/harness/postgres.h"

#include <postgresql/libpq-fe.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
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
constexpr char kSuperuser[] = "postgres";
constexpr int kStartAttempts = 3;
constexpr absl::Duration kReadyTimeout = absl::Seconds(30);
// sun_path holds 108 bytes; the socket is "<dir>/.s.PGSQL.<port>".
constexpr size_t kMaxSocketDirLength = 80;

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnDeleter>;
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

// A value in a libpq connection string, single-quoted so spaces and quotes survive.
std::string ConnValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// A single-quoted postgresql.conf string.
std::string ConfString(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

absl::StatusOr<std::string> RandomPassword() {
  unsigned char bytes[18];
  size_t filled = 0;
  while (filled < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof(bytes) - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(StrCat("getrandom: ", std::strerror(errno)));
    filled += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string password;
  for (unsigned char byte : bytes) {
    password.push_back(kHex[byte >> 4]);
    password.push_back(kHex[byte & 15]);
  }
  return password;
}

// The directory holding initdb and postgres: Debian installs them outside PATH, under
// /usr/lib/postgresql/<major>/bin. 15 is Debian 12's; otherwise the newest installed, else PATH.
absl::StatusOr<std::string> PostgresBinDir() {
  auto has_initdb = [](const std::string& dir) {
    return ::access(StrCat(dir, "/initdb").c_str(), X_OK) == 0 &&
           ::access(StrCat(dir, "/postgres").c_str(), X_OK) == 0;
  };
  if (has_initdb("/usr/lib/postgresql/15/bin")) return std::string("/usr/lib/postgresql/15/bin");
  std::vector<std::pair<int, std::string>> installed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
    const std::string bin = StrCat(entry.path().string(), "/bin");
    if (has_initdb(bin)) installed.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
  }
  if (!installed.empty()) return std::max_element(installed.begin(), installed.end())->second;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (!dirs.empty()) {
    const size_t colon = std::min(dirs.find(':'), dirs.size());
    std::string dir(dirs.substr(0, colon));
    if (!dir.empty() && has_initdb(dir)) return dir;
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
  }
  return absl::NotFoundError(
      "PostgreSQL server binaries (initdb, postgres) not found under /usr/lib/postgresql or in "
      "PATH; scripts/setup.sh installs them");
}

absl::Status AppendFile(const std::string& path, std::string_view text) {
  auto contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  return WriteFile(path, StrCat(*contents, text));
}

}  // namespace

struct Postgres::State {
  std::string host = kHost;
  std::string user = kSuperuser;
  RunAs run_as;
  std::string bin_dir;
  std::string password;
  int port = 0;
  // Declared before the process so the server is stopped before its files are deleted.
  TempDir dir;
  std::optional<ServiceProcess> server;

  explicit State(TempDir temp) : dir(std::move(temp)) {}
};

Postgres::Postgres(std::unique_ptr<State> state) : state_(std::move(state)) {}
Postgres::Postgres(Postgres&&) noexcept = default;
Postgres& Postgres::operator=(Postgres&&) noexcept = default;
Postgres::~Postgres() = default;

const std::string& Postgres::host() const { return state_->host; }
int Postgres::port() const { return state_->port; }
const std::string& Postgres::user() const { return state_->user; }
const std::string& Postgres::password() const { return state_->password; }
const std::string& Postgres::dir() const { return state_->dir.path(); }

std::string Postgres::LogTail() const { return FileTail(state_->dir.Path("postgres.log")); }

std::string Postgres::ConnectionString(std::string_view database) const {
  return StrCat("host=", kHost, " port=", state_->port, " user=", kSuperuser,
                " password=", ConnValue(state_->password), " dbname=", ConnValue(database),
                " connect_timeout=10");
}

absl::StatusOr<Postgres> Postgres::Start(const PostgresOptions& options) {
  auto run_as = ServiceAccount();
  if (!run_as.ok()) return run_as.status();
  auto bin_dir = PostgresBinDir();
  if (!bin_dir.ok()) return bin_dir.status();
  auto password = RandomPassword();
  if (!password.ok()) return password.status();
  auto temp = TempDir::CreateIn(run_as->TempBase(), "postgres-");
  if (!temp.ok()) return temp.status();

  auto state = std::make_unique<State>(*std::move(temp));
  state->run_as = *std::move(run_as);
  state->bin_dir = *std::move(bin_dir);
  state->password = *std::move(password);
  const TempDir& dir = state->dir;

  // sun_path is short (108 bytes) and Bazel's TEST_TMPDIR long. Past that, the socket goes to
  // Linux's abstract namespace (a leading '@'), which needs no file and so leaves nothing behind
  // even if the test crashes; the pid and mkdtemp's unique name keep it unique.
  std::string socket_dir = dir.Path("run");
  if (socket_dir.size() > kMaxSocketDirLength) {
    socket_dir = StrCat("@connectors-harness/", ::getpid(), "/",
                        std::filesystem::path(dir.path()).filename().string());
  } else if (!std::filesystem::create_directory(socket_dir)) {
    return absl::InternalError(StrCat("cannot create ", socket_dir));
  }

  // initdb sets the superuser's password from a file, so it never shows in a process list.
  const std::string password_file = dir.Path("password");
  if (auto s = WriteFile(password_file, state->password, 0600); !s.ok()) return s;
  if (auto s = state->run_as.GrantOwnership(dir.path()); !s.ok()) return s;
  ServiceProcessOptions initdb;
  initdb.argv = {StrCat(state->bin_dir, "/initdb"), "--pgdata", dir.Path("data"), "--username",
                 kSuperuser, StrCat("--pwfile=", password_file), "--auth=scram-sha-256",
                 "--encoding=UTF8", "--locale=C",
                 // Durability is pointless for a throwaway cluster and fsync is most of the time.
                 "--no-sync", "--no-instructions"};
  initdb.env = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
  initdb.log_path = dir.Path("initdb.log");
  initdb.run_as = state->run_as;
  if (auto s = ServiceProcess::Run(std::move(initdb), absl::Seconds(60)); !s.ok()) return s;
  std::filesystem::remove(password_file);

  std::string config =
      StrCat("\n# tests/harness\n", "listen_addresses = '", kHost, "'\n",
             "unix_socket_directories = ", ConfString(socket_dir), "\n", "wal_level = logical\n",
             "max_replication_slots = 10\n", "max_wal_senders = 10\n",
             "password_encryption = 'scram-sha-256'\n", "ssl = off\n",
             // A throwaway cluster trades durability for speed.
             "fsync = off\n", "synchronous_commit = off\n", "full_page_writes = off\n",
             "shared_buffers = 32MB\n", "logging_collector = off\n", "log_destination = 'stderr'\n",
             "timezone = 'UTC'\n");
  for (const std::string& line : options.config) StrAppend(&config, line, "\n");
  if (auto s = AppendFile(dir.Path("data/postgresql.conf"), config); !s.ok()) return s;
  // Password (SCRAM) authentication only, as on a user's server; replication connections too.
  if (auto s = WriteFile(dir.Path("data/pg_hba.conf"),
                         "local all all scram-sha-256\n"
                         "host all all 127.0.0.1/32 scram-sha-256\n"
                         "host replication all 127.0.0.1/32 scram-sha-256\n",
                         0600);
      !s.ok()) {
    return s;
  }

  // The postmaster runs as our direct child (not through pg_ctl, which daemonizes it) so that it
  // is in our process group bookkeeping and dies with us. Fast shutdown (SIGINT) disconnects
  // clients instead of waiting for them as smart shutdown (SIGTERM) would.
  std::string last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    ServiceProcessOptions server;
    server.argv = {StrCat(state->bin_dir, "/postgres"), "-D", dir.Path("data"), "-p",
                   StrCat(*port)};
    server.env = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
    server.log_path = dir.Path("postgres.log");
    server.run_as = state->run_as;
    server.stop_signal = SIGINT;
    server.stop_timeout = absl::Seconds(10);
    auto process = ServiceProcess::Start(std::move(server));
    if (!process.ok()) return process.status();
    state->port = *port;
    state->server = *std::move(process);

    const std::string conninfo = StrCat("host=", kHost, " port=", *port, " connect_timeout=2");
    const absl::Time deadline = absl::Now() + kReadyTimeout;
    bool ready = false;
    while (state->server->Running() && absl::Now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (ready) return Postgres(std::move(state));
    state->server->Stop().IgnoreError();
    state->server.reset();
    last_error = FileTail(dir.Path("postgres.log"));
    // Another process took the port between FreePort() and the bind: try a new one.
    if (last_error.find("Address already in use") == std::string::npos) break;
  }
  return absl::UnavailableError(StrCat("PostgreSQL did not start; log:\n", last_error));
}

absl::Status Postgres::CreateDatabase(std::string_view name) {
  return Exec(StrCat("CREATE DATABASE ", QuoteIdentifier(name))).status();
}

absl::StatusOr<Postgres::Rows> Postgres::Exec(std::string_view sql, std::string_view database) {
  Connection conn(PQconnectdb(ConnectionString(database).c_str()));
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        StrCat("connect to ", database, ": ", Trimmed(PQerrorMessage(conn.get()))));
  }
  Result result(PQexec(conn.get(), std::string(sql).c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return absl::InvalidArgumentError(Trimmed(PQresultErrorMessage(result.get())));
  }
  Rows rows;
  const int columns = PQnfields(result.get());
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    std::vector<std::string>& values = rows.emplace_back();
    for (int column = 0; column < columns; ++column) {
      values.push_back(PQgetisnull(result.get(), row, column)
                           ? "\\N"
                           : std::string(PQgetvalue(result.get(), row, column),
                                         PQgetlength(result.get(), row, column)));
    }
  }
  return rows;
}

absl::Status Postgres::Stop() {
  if (!state_ || !state_->server.has_value()) return absl::OkStatus();
  auto code = state_->server->Stop();
  state_->server.reset();
  if (!code.ok()) return code.status();
  // Fast shutdown exits 0; anything else means the server had already failed.
  if (*code != 0) return absl::InternalError(StrCat("postgres exited with ", *code));
  return absl::OkStatus();
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace connectors::harness
