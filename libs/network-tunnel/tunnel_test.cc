// The tunnel against real services (tests/harness): OpenSSH's sshd as the bastion, PostgreSQL
// (through libpq) and an in-test echo server as targets.
#include "libs/network-tunnel/tunnel.h"

#include <arpa/inet.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/strings.h"
#include "libs/connector/logging.h"
#include "libs/network-tunnel/ssh_keys.h"
#include "tests/harness/postgres.h"
#include "tests/harness/service_process.h"
#include "tests/harness/sshd.h"
#include "tests/harness/temp_dir.h"

namespace connectors::tunnel {
namespace {

using harness::Postgres;
using harness::Sshd;
using harness::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Helpers.

// A Logger writing into memory, so tests can read what the tunnel logged.
class LogCapture {
 public:
  LogCapture() : fd_(::memfd_create("tunnel-log", MFD_CLOEXEC)), logger_(fd_, LogLevel::kDebug) {}
  ~LogCapture() { ::close(fd_); }
  const Logger& logger() const { return logger_; }
  std::string Text() const {
    std::string out;
    char buffer[8192];
    off_t offset = 0;
    ssize_t n;
    while ((n = ::pread(fd_, buffer, sizeof(buffer), offset)) > 0) {
      out.append(buffer, static_cast<size_t>(n));
      offset += n;
    }
    return out;
  }
  int Count(std::string_view needle) const {
    const std::string text = Text();
    int count = 0;
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      ++count;
    }
    return count;
  }

 private:
  int fd_;
  Logger logger_;
};

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Connects to 127.0.0.1:port; the errno on failure.
absl::StatusOr<Socket> Connect(int port) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = Loopback(port);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return absl::UnavailableError(std::strerror(errno));
  }
  return socket;
}

// A listening socket on 127.0.0.1 that never accepts.
Socket Listen(int backlog, int* port) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::listen(socket.get(), backlog), 0);
  EXPECT_EQ(::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  *port = ntohs(address.sin_port);
  return socket;
}

// Waits until `socket` is closed by the far side: true on EOF or a reset within `timeout`.
bool ClosedByPeer(const Socket& socket, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  while (absl::Now() < deadline) {
    pollfd readable{socket.get(), POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(socket.get(), buffer, sizeof(buffer), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

std::string PublicKeyLine(ssh_key private_key) {
  ssh_key key = nullptr;
  EXPECT_EQ(ssh_pki_export_privkey_to_pubkey(private_key, &key), SSH_OK);
  internal::Key owned(key);
  char* text = nullptr;
  EXPECT_EQ(ssh_pki_export_pubkey_base64(key, &text), SSH_OK);
  if (text == nullptr) return "";
  std::string out = StrCat(ssh_key_type_to_char(ssh_key_type(key)), " ", text);
  ssh_string_free_char(text);
  return out;
}

// "type base64" of a private key's public half (read as the tunnel reads it: libssh alone
// cannot use an Ed25519 key in PEM).
std::string PublicKeyOf(const std::string& private_key) {
  auto key = internal::ImportPrivateKey(private_key);
  EXPECT_TRUE(key.ok()) << key.status();
  if (!key.ok()) return "";
  return PublicKeyLine(key->get());
}

// "ssh-ed25519 SHA256:..." of a "type base64 [comment]" line.
std::string FingerprintOf(const std::string& public_line) {
  const size_t space = public_line.find(' ');
  const std::string type = public_line.substr(0, space);
  std::string encoded = public_line.substr(space + 1);
  encoded = encoded.substr(0, encoded.find(' '));
  ssh_key key = nullptr;
  EXPECT_EQ(
      ssh_pki_import_pubkey_base64(encoded.c_str(), ssh_key_type_from_name(type.c_str()), &key),
      SSH_OK);
  internal::Key owned(key);
  return internal::Fingerprint(owned.get());
}

std::string NewEd25519Key() {
  ssh_key key = nullptr;
  EXPECT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
  char* text = nullptr;
  EXPECT_EQ(ssh_pki_export_privkey_base64(key, nullptr, nullptr, nullptr, &text), SSH_OK);
  std::string out = text;
  ssh_string_free_char(text);
  ssh_key_free(key);
  return out;
}

// Runs a command (ssh-keygen, openssl) to completion.
absl::Status RunCommand(std::vector<std::string> argv, const TempDir& dir) {
  harness::ServiceProcessOptions options;
  options.argv = std::move(argv);
  options.log_path = dir.Path("command.log");
  return harness::ServiceProcess::Run(std::move(options), absl::Seconds(60));
}

// libpq.
struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

std::string ConnInfo(const Postgres& pg, int port) {
  return StrCat("host=127.0.0.1 port=", port, " user=", pg.user(), " password=", pg.password(),
                " dbname=postgres sslmode=disable connect_timeout=10");
}

absl::StatusOr<PgConn> PgConnect(const Postgres& pg, int port) {
  PgConn conn(PQconnectdb(ConnInfo(pg, port).c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(PQerrorMessage(conn.get()));
  }
  return conn;
}

// The first value of the first row.
absl::StatusOr<std::string> PgValue(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), &PQclear);
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return absl::UnavailableError(PQerrorMessage(conn));
  }
  return std::string(PQgetvalue(result.get(), 0, 0));
}

absl::StatusOr<std::string> PgQuery(const Postgres& pg, int port, const std::string& sql) {
  auto conn = PgConnect(pg, port);
  if (!conn.ok()) return conn.status();
  return PgValue(conn->get(), sql);
}

std::string RandomText(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(size, ' ');
  for (char& c : out) c = static_cast<char>('a' + random() % 26);
  return out;
}

// An echo server on 127.0.0.1: every connection gets back what it sends, until it sends
// kCloseCommand, which makes the server close that connection at once, or kFarewellCommand,
// which makes it send kFarewell and then close.
constexpr std::string_view kCloseCommand =
    "\xff"
    "close-now"
    "\xff";
constexpr std::string_view kFarewellCommand =
    "\xff"
    "farewell"
    "\xff";
const std::string& Farewell() {
  static const std::string* text = new std::string(RandomText(3 << 20, 99));
  return *text;
}

class EchoServer {
 public:
  EchoServer() {
    listener_ = Listen(128, &port_);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& thread : threads_) thread.join();
    for (int fd : fds_) ::close(fd);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        ::close(fd);
        break;
      }
      ++accepted_;
      fds_.push_back(fd);
      threads_.emplace_back([fd] { Serve(fd); });
    }
  }
  static void Serve(int fd) {
    char buffer[65536];
    while (true) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      if (std::string_view(buffer, static_cast<size_t>(n)).find(kCloseCommand) !=
          std::string_view::npos) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      if (std::string_view(buffer, static_cast<size_t>(n)).find(kFarewellCommand) !=
          std::string_view::npos) {
        const std::string& farewell = Farewell();
        for (size_t sent = 0; sent < farewell.size();) {
          const ssize_t w =
              ::send(fd, farewell.data() + sent, farewell.size() - sent, MSG_NOSIGNAL);
          if (w <= 0) break;
          sent += static_cast<size_t>(w);
        }
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = ::send(fd, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
        if (w <= 0) return;
        sent += w;
      }
    }
    ::shutdown(fd, SHUT_WR);
  }

  Socket listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::atomic<int> accepted_{0};
};

// Sends `size` bytes through `socket` while reading the echo back, and checks it.
absl::Status EchoRoundTrip(const Socket& socket, size_t size, uint32_t seed) {
  const std::string data = RandomText(size, seed);
  std::string received;
  size_t sent = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  char buffer[65536];
  while (received.size() < data.size()) {
    if (absl::Now() > deadline) return absl::DeadlineExceededError("echo timed out");
    pollfd ready{socket.get(), static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
    if (::poll(&ready, 1, 1000) <= 0) continue;
    if ((ready.revents & POLLOUT) && sent < data.size()) {
      const ssize_t n =
          ::send(socket.get(), data.data() + sent, std::min<size_t>(65536, data.size() - sent),
                 MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) return absl::UnavailableError(std::strerror(errno));
    }
    if (ready.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(socket.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0) return absl::UnavailableError(StrCat("EOF after ", received.size(), " bytes"));
      if (n < 0 && errno != EAGAIN) return absl::UnavailableError(std::strerror(errno));
      if (n > 0) received.append(buffer, static_cast<size_t>(n));
    }
  }
  if (received != data) return absl::DataLossError("echo differs from what was sent");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Shared services: one sshd and one PostgreSQL for the suite.

class TunnelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto sshd = Sshd::Start();
    ASSERT_TRUE(sshd.ok()) << sshd.status();
    sshd_.emplace(*std::move(sshd));
    auto pg = Postgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_.emplace(*std::move(pg));
  }
  static void TearDownTestSuite() {
    sshd_.reset();
    pg_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(sshd_.has_value());
    ASSERT_TRUE(pg_.has_value());
  }

  static const Sshd& sshd() { return *sshd_; }
  static Postgres& pg() { return *pg_; }

  static std::string Endpoint() {
    return StrCat("ssh://", sshd_->user(), "@", sshd_->host(), ":", sshd_->port());
  }
  static SshForwarding Forwarding(std::string key, std::string known_hosts = "") {
    return SshForwarding{Endpoint(), std::move(key), std::move(known_hosts)};
  }
  static SshForwarding Forwarding() { return Forwarding(sshd_->private_key_pem()); }
  static TunnelOptions Options() {
    TunnelOptions options;
    options.connect_timeout = absl::Seconds(5);
    return options;
  }
  // Adds a public key line to the sshd's authorized_keys.
  static void Authorize(const std::string& public_line) {
    const std::string path = StrCat(sshd_->dir(), "/authorized_keys");
    auto current = harness::ReadFile(path);
    ASSERT_TRUE(current.ok()) << current.status();
    ASSERT_TRUE(harness::WriteFile(path, StrCat(*current, public_line, "\n")).ok());
  }
  static std::string KnownHostsName() { return StrCat("[127.0.0.1]:", sshd_->port()); }

  static std::optional<Sshd> sshd_;
  static std::optional<Postgres> pg_;
};

std::optional<Sshd> TunnelTest::sshd_;
std::optional<Postgres> TunnelTest::pg_;

// ---------------------------------------------------------------------------------------------
// Forwarding.

TEST_F(TunnelTest, QueriesPostgresThroughTheTunnel) {
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), pg().host(), pg().port(), log.logger());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status() << "\n" << sshd().LogTail();
  EXPECT_EQ((*tunnel)->local_host(), "127.0.0.1");
  EXPECT_NE((*tunnel)->local_port(), pg().port());
  EXPECT_TRUE((*tunnel)->status().ok());

  auto value = PgQuery(pg(), (*tunnel)->local_port(),
                       "SELECT 'via ' || host(inet_client_addr()) || ' ' || (40 + 2)");
  ASSERT_TRUE(value.ok()) << value.status() << "\n" << log.Text();
  // PostgreSQL sees the connection come from sshd, not from the test.
  EXPECT_EQ(*value, "via 127.0.0.1 42");

  // Without knownHosts the host key is accepted and its fingerprint logged at info.
  const std::string logs = log.Text();
  EXPECT_THAT(
      logs,
      HasSubstr("\"level\":\"info\",\"message\":\"network tunnel: SSH host key not verified"));
  EXPECT_THAT(logs, HasSubstr(FingerprintOf(sshd().host_public_key())));
  EXPECT_THAT(logs, HasSubstr("network tunnel: ready"));
  // Nothing of the private key is ever logged.
  const std::string key_line = sshd().private_key_pem().substr(32, 60);
  EXPECT_THAT(logs, Not(HasSubstr(key_line)));
}

TEST_F(TunnelTest, EveryKeyTypeAndFormat) {
  auto dir = TempDir::Create("keys-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  struct Key {
    std::string name;
    std::string header;  // Proves the format the key was generated in.
    std::vector<std::string> command;
    std::string text;
  };
  std::vector<Key> keys = {
      {"rsa-pem", "-----BEGIN RSA PRIVATE KEY-----", {"-t", "rsa", "-b", "2048", "-m", "PEM"}},
      {"rsa-openssh", "-----BEGIN OPENSSH PRIVATE KEY-----", {"-t", "rsa", "-b", "2048"}},
      {"rsa-pkcs8", "-----BEGIN PRIVATE KEY-----", {"-t", "rsa", "-b", "2048", "-m", "PKCS8"}},
      {"ecdsa-pem", "-----BEGIN EC PRIVATE KEY-----", {"-t", "ecdsa", "-b", "256", "-m", "PEM"}},
      {"ecdsa384-pem", "-----BEGIN EC PRIVATE KEY-----", {"-t", "ecdsa", "-b", "384", "-m", "PEM"}},
      {"ecdsa-openssh", "-----BEGIN OPENSSH PRIVATE KEY-----", {"-t", "ecdsa", "-b", "521"}},
      {"ecdsa-pkcs8", "-----BEGIN PRIVATE KEY-----", {"-t", "ecdsa", "-m", "PKCS8"}},
      {"ed25519-openssh", "-----BEGIN OPENSSH PRIVATE KEY-----", {"-t", "ed25519"}},
      // ssh-keygen writes Ed25519 keys only in OpenSSH format; OpenSSL writes PKCS#8 PEM.
      {"ed25519-pem", "-----BEGIN PRIVATE KEY-----", {}},
  };
  for (Key& key : keys) {
    const std::string path = dir->Path(key.name);
    std::vector<std::string> argv;
    if (key.command.empty()) {
      argv = {"openssl", "genpkey", "-algorithm", "ed25519", "-out", path};
    } else {
      argv = {"ssh-keygen", "-q", "-N", "", "-C", key.name, "-f", path};
      argv.insert(argv.end(), key.command.begin(), key.command.end());
    }
    ASSERT_TRUE(RunCommand(argv, *dir).ok()) << key.name;
    auto text = harness::ReadFile(path);
    ASSERT_TRUE(text.ok()) << text.status();
    ASSERT_THAT(*text, StartsWith(key.header)) << key.name;
    key.text = *text;
    Authorize(PublicKeyOf(key.text));
  }
  keys.push_back({"harness-ed25519", "", {}, sshd().ed25519_private_key()});

  for (const Key& key : keys) {
    SCOPED_TRACE(key.name);
    LogCapture log;
    auto tunnel = Tunnel::Start(Forwarding(key.text), pg().host(), pg().port(), log.logger());
    ASSERT_TRUE(tunnel.ok()) << tunnel.status() << "\n" << sshd().LogTail();
    auto value = PgQuery(pg(), (*tunnel)->local_port(), "SELECT 'ok'");
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(*value, "ok");
  }
}

TEST_F(TunnelTest, TwentyConcurrentConnections) {
  EchoServer echo;
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", echo.port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  const int port = (*tunnel)->local_port();

  // 20 connections at once, each moving 1 MiB each way (more than the SSH window, so flow
  // control is exercised), all open at the same time.
  constexpr int kConnections = 20;
  std::vector<absl::Status> results(kConnections);
  std::vector<std::thread> clients;
  std::atomic<int> connected{0};
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      auto socket = Connect(port);
      if (!socket.ok()) {
        results[i] = socket.status();
        return;
      }
      ++connected;
      while (connected < kConnections) absl::SleepFor(absl::Milliseconds(1));
      results[i] = EchoRoundTrip(*socket, 1 << 20, static_cast<uint32_t>(i));
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kConnections; ++i) EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
  EXPECT_EQ(echo.accepted(), kConnections + 1);  // The probe connected once too.

  EXPECT_TRUE((*tunnel)->status().ok());

  // And 20 PostgreSQL sessions at once, each running a query that takes a while.
  auto pg_tunnel = Tunnel::Start(Forwarding(), pg().host(), pg().port(), log.logger(), Options());
  ASSERT_TRUE(pg_tunnel.ok()) << pg_tunnel.status();
  std::vector<absl::StatusOr<std::string>> values(kConnections, absl::UnknownError(""));
  std::vector<std::thread> sessions;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kConnections; ++i) {
    sessions.emplace_back([&, i] {
      values[i] =
          PgQuery(pg(), (*pg_tunnel)->local_port(), StrCat("SELECT pg_sleep(0.5)::text || ", i));
    });
  }
  for (std::thread& session : sessions) session.join();
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(values[i].ok()) << i << ": " << values[i].status();
    EXPECT_EQ(*values[i], StrCat(i));
  }
  // They ran side by side, not one after another (20 x 0.5s).
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_TRUE((*pg_tunnel)->status().ok());
}

TEST_F(TunnelTest, ConnectionClosedByTheFarSideLeavesOthersRunning) {
  EchoServer echo;
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", echo.port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  const int port = (*tunnel)->local_port();
  std::vector<Socket> sockets;
  for (int i = 0; i < 3; ++i) {
    auto socket = Connect(port);
    ASSERT_TRUE(socket.ok()) << socket.status();
    ASSERT_TRUE(EchoRoundTrip(*socket, 1000, i).ok());
    sockets.push_back(*std::move(socket));
  }
  // The echo server drops the middle connection.
  ASSERT_EQ(::send(sockets[1].get(), kCloseCommand.data(), kCloseCommand.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(kCloseCommand.size()));
  EXPECT_TRUE(ClosedByPeer(sockets[1], absl::Seconds(10)));
  // The others carry on, and new ones still work.
  EXPECT_TRUE(EchoRoundTrip(sockets[0], 100000, 10).ok());
  EXPECT_TRUE(EchoRoundTrip(sockets[2], 100000, 12).ok());
  auto fresh = Connect(port);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(EchoRoundTrip(*fresh, 100000, 13).ok());
  EXPECT_TRUE((*tunnel)->status().ok());
}

// Reads until EOF (or an error, or 30 s).
std::string ReadToEof(const Socket& socket) {
  std::string out;
  char buffer[65536];
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    pollfd readable{socket.get(), POLLIN, 0};
    if (::poll(&readable, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(socket.get(), buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(TunnelTest, EverythingSentBeforeAFarSideCloseIsDelivered) {
  EchoServer echo;
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", echo.port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  // The server sends 3 MiB (more than the SSH window and the tunnel's buffers) and closes at
  // once; the client reads slowly at first, so the close arrives while data is still queued.
  auto socket = Connect((*tunnel)->local_port());
  ASSERT_TRUE(socket.ok());
  ASSERT_EQ(::send(socket->get(), kFarewellCommand.data(), kFarewellCommand.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(kFarewellCommand.size()));
  absl::SleepFor(absl::Milliseconds(500));
  const std::string received = ReadToEof(*socket);
  EXPECT_EQ(received.size(), Farewell().size());
  EXPECT_TRUE(received == Farewell());
}

TEST_F(TunnelTest, HalfCloseIsForwardedBothWays) {
  EchoServer echo;
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", echo.port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  // The client sends, then shuts down its sending side; the echo server sees EOF only after
  // all of it, echoes it, and shuts down its own side, which the client sees as EOF.
  auto socket = Connect((*tunnel)->local_port());
  ASSERT_TRUE(socket.ok());
  const std::string data = RandomText(200000, 5);
  for (size_t sent = 0; sent < data.size();) {
    const ssize_t n = ::send(socket->get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
  ASSERT_EQ(::shutdown(socket->get(), SHUT_WR), 0);
  EXPECT_TRUE(ReadToEof(*socket) == data);
  // The connection is finished on both sides and forgotten.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (log.Count("forwarded connection closed") < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(log.Text(), HasSubstr("\"bytesUp\":200000,\"bytesDown\":200000,\"aborted\":false"));
}

TEST_F(TunnelTest, PostgresBackendTerminatedLeavesOtherSessionsRunning) {
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), pg().host(), pg().port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  const int port = (*tunnel)->local_port();
  auto a = PgConnect(pg(), port);
  auto b = PgConnect(pg(), port);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  auto a_pid = PgValue(a->get(), "SELECT pg_backend_pid()");
  ASSERT_TRUE(a_pid.ok()) << a_pid.status();

  // PostgreSQL itself closes a's connection (as a restart or an idle timeout would).
  auto terminated = pg().Exec(StrCat("SELECT pg_terminate_backend(", *a_pid, ")"));
  ASSERT_TRUE(terminated.ok()) << terminated.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (PgValue(a->get(), "SELECT 1").ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(PgValue(a->get(), "SELECT 1").ok());

  auto still = PgValue(b->get(), "SELECT 'b still works'");
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(*still, "b still works");
  auto fresh = PgQuery(pg(), port, "SELECT 'new connection works'");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE((*tunnel)->status().ok());
}

TEST_F(TunnelTest, DestructionClosesTheListenerAndConnections) {
  EchoServer echo;
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", echo.port(), log.logger(), Options());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  const int port = (*tunnel)->local_port();
  auto open = Connect(port);
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_TRUE(EchoRoundTrip(*open, 1000, 1).ok());

  tunnel->reset();
  auto refused = Connect(port);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(MessageOf(refused.status())), HasSubstr("refused"));
  EXPECT_TRUE(ClosedByPeer(*open, absl::Seconds(5)));
  EXPECT_THAT(log.Text(), HasSubstr("network tunnel: closed"));
}

TEST_F(TunnelTest, SendsKeepalives) {
  LogCapture log;
  TunnelOptions options = Options();
  options.keepalive_interval = absl::Milliseconds(100);
  options.keepalive_count_max = 50;  // Only sending is tested here, not a slow machine.
  auto tunnel = Tunnel::Start(Forwarding(), pg().host(), pg().port(), log.logger(), options);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  absl::SleepFor(absl::Seconds(1));
  // sshd answers each one, so the idle session stays up.
  EXPECT_GE(log.Count("sent SSH keepalive"), 5) << log.Text();
  EXPECT_TRUE((*tunnel)->status().ok()) << (*tunnel)->status();
  auto value = PgQuery(pg(), (*tunnel)->local_port(), "SELECT 'alive'");
  ASSERT_TRUE(value.ok()) << value.status();
}

// ---------------------------------------------------------------------------------------------
// Host keys.

TEST_F(TunnelTest, KnownHostsThatMatch) {
  auto dir = TempDir::Create("known-hosts-");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string plain = StrCat(KnownHostsName(), " ", sshd().host_public_key());
  // ssh-keygen -H hashes host names the way ~/.ssh/known_hosts often has them.
  ASSERT_TRUE(harness::WriteFile(dir->Path("known_hosts"), plain + "\n").ok());
  ASSERT_TRUE(RunCommand({"ssh-keygen", "-H", "-f", dir->Path("known_hosts")}, *dir).ok());
  auto hashed = harness::ReadFile(dir->Path("known_hosts"));
  ASSERT_TRUE(hashed.ok()) << hashed.status();
  ASSERT_THAT(*hashed, StartsWith("|1|"));

  const std::string other_key = PublicKeyOf(NewEd25519Key());
  for (const std::string& known_hosts : {
           plain, *hashed,
           StrCat("# from ssh-keyscan\r\nother.example.com ", other_key, "\r\n", plain, "\r\n"),
           StrCat("127.0.0.1 ", other_key, "\n", plain),  // Port 22 entries do not apply.
           sshd().host_public_key(),                      // A bare key.
       }) {
    SCOPED_TRACE(known_hosts);
    LogCapture log;
    auto tunnel = Tunnel::Start(Forwarding(sshd().private_key_pem(), known_hosts), pg().host(),
                                pg().port(), log.logger(), Options());
    ASSERT_TRUE(tunnel.ok()) << tunnel.status();
    EXPECT_THAT(log.Text(), HasSubstr("SSH host key verified against knownHosts"));
    auto value = PgQuery(pg(), (*tunnel)->local_port(), "SELECT 'ok'");
    ASSERT_TRUE(value.ok()) << value.status();
  }
}

TEST_F(TunnelTest, KnownHostsMismatchNamesTheHostAndBothFingerprints) {
  const std::string server_fingerprint = FingerprintOf(sshd().host_public_key());
  auto dir = TempDir::Create("rsa-");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(RunCommand({"ssh-keygen", "-q", "-N", "", "-t", "rsa", "-b", "2048", "-f",
                          dir->Path("host_rsa")},
                         *dir)
                  .ok());
  auto rsa_public = harness::ReadFile(dir->Path("host_rsa.pub"));
  ASSERT_TRUE(rsa_public.ok());
  const std::string other_ed25519 = PublicKeyOf(NewEd25519Key());
  struct Case {
    std::string name;
    std::string known_hosts;
    std::string expected;  // Fingerprint knownHosts expects.
  };
  for (const Case& c : std::vector<Case>{
           {"another key of the same type", StrCat(KnownHostsName(), " ", other_ed25519),
            FingerprintOf(other_ed25519)},
           // The server has no RSA host key: it shows its Ed25519 key, which is not listed.
           {"a key of another type", StrCat(KnownHostsName(), " ", *rsa_public),
            FingerprintOf(*rsa_public)},
       }) {
    SCOPED_TRACE(c.name);
    LogCapture log;
    auto tunnel = Tunnel::Start(Forwarding(sshd().private_key_pem(), c.known_hosts), pg().host(),
                                pg().port(), log.logger(), Options());
    ASSERT_FALSE(tunnel.ok());
    EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(MessageOf(tunnel.status())),
                AllOf(HasSubstr(StrCat("host key mismatch for the SSH server ", KnownHostsName(),
                                       ": it presented ", server_fingerprint)),
                      HasSubstr(StrCat("knownHosts expects ", c.expected))));
  }

  // knownHosts given, but nothing in it for this server.
  LogCapture log;
  auto unlisted =
      Tunnel::Start(Forwarding(sshd().private_key_pem(),
                               StrCat("bastion.example.com ", sshd().host_public_key())),
                    pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(unlisted.ok());
  EXPECT_THAT(std::string(MessageOf(unlisted.status())),
              AllOf(HasSubstr(StrCat("knownHosts has no key for the SSH server ", KnownHostsName(),
                                     ", whose host key is ", server_fingerprint)),
                    HasSubstr(StrCat("ssh-keyscan -p ", sshd().port(), " 127.0.0.1"))));

  // A revoked key is refused even when listed as valid too.
  auto revoked =
      Tunnel::Start(Forwarding(sshd().private_key_pem(),
                               StrCat("@revoked ", KnownHostsName(), " ", sshd().host_public_key(),
                                      "\n", KnownHostsName(), " ", sshd().host_public_key())),
                    pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(revoked.ok());
  EXPECT_THAT(std::string(MessageOf(revoked.status())), HasSubstr("is marked @revoked on line 1"));
}

// ---------------------------------------------------------------------------------------------
// Errors a user can act on.

TEST_F(TunnelTest, BadKeyFormat) {
  const std::string pem = sshd().private_key_pem();
  for (const std::string& key :
       {std::string("my-secret-password"), pem.substr(0, pem.size() / 2), PublicKeyOf(pem)}) {
    LogCapture log;
    auto tunnel = Tunnel::Start(Forwarding(key), pg().host(), pg().port(), log.logger(), Options());
    ASSERT_FALSE(tunnel.ok());
    EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(MessageOf(tunnel.status()));
    EXPECT_THAT(message, StartsWith("networkTunnel.sshForwarding.privateKey: "));
    EXPECT_THAT(message, Not(HasSubstr("my-secret-password")));
    EXPECT_THAT(message, Not(HasSubstr(pem.substr(40, 40))));
  }
}

TEST_F(TunnelTest, KeyRejectedByTheServer) {
  const std::string stranger = NewEd25519Key();
  LogCapture log;
  auto tunnel =
      Tunnel::Start(Forwarding(stranger), pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(tunnel.ok());
  EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(MessageOf(tunnel.status())),
              AllOf(HasSubstr(StrCat("the SSH server 127.0.0.1:", sshd().port(),
                                     " rejected the private key for user \"", sshd().user(),
                                     "\" (public key ", FingerprintOf(PublicKeyOf(stranger)), ")")),
                    HasSubstr("authorized_keys"), Not(HasSubstr(stranger.substr(40, 30)))));
  EXPECT_THAT(log.Text(), Not(HasSubstr(stranger.substr(40, 30))));

  // The right key for the wrong user is rejected the same way.
  SshForwarding wrong_user = Forwarding();
  wrong_user.ssh_endpoint = StrCat("ssh://nosuchuser@127.0.0.1:", sshd().port());
  auto as_stranger = Tunnel::Start(wrong_user, pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(as_stranger.ok());
  EXPECT_THAT(std::string(MessageOf(as_stranger.status())),
              HasSubstr("rejected the private key for user \"nosuchuser\""));
}

TEST_F(TunnelTest, BastionRefusesConnections) {
  auto port = harness::FreePort();
  ASSERT_TRUE(port.ok());
  SshForwarding config = Forwarding();
  config.ssh_endpoint = StrCat("ssh://", sshd().user(), "@127.0.0.1:", *port);
  LogCapture log;
  auto tunnel = Tunnel::Start(config, pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(tunnel.ok());
  EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(
      std::string(MessageOf(tunnel.status())),
      StartsWith(StrCat("network tunnel: cannot connect to the SSH server 127.0.0.1:", *port,
                        " (127.0.0.1: Connection refused); check the host and "
                        "port in networkTunnel.sshForwarding.sshEndpoint")));
}

TEST_F(TunnelTest, BastionTimesOut) {
  // A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs
  // as it does to a host behind a firewall that drops packets.
  int port = 0;
  Socket full = Listen(0, &port);
  std::vector<Socket> fillers;
  for (int i = 0; i < 3; ++i) {
    Socket filler(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in address = Loopback(port);
    ::connect(filler.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    fillers.push_back(std::move(filler));
  }
  absl::SleepFor(absl::Milliseconds(200));
  SshForwarding config = Forwarding();
  config.ssh_endpoint = StrCat("ssh://", sshd().user(), "@127.0.0.1:", port);
  TunnelOptions options = Options();
  options.connect_timeout = absl::Seconds(1);
  LogCapture log;
  const absl::Time start = absl::Now();
  auto tunnel = Tunnel::Start(config, pg().host(), pg().port(), log.logger(), options);
  ASSERT_FALSE(tunnel.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(MessageOf(tunnel.status())),
              StartsWith(StrCat("network tunnel: cannot connect to the SSH server 127.0.0.1:", port,
                                " (127.0.0.1: no answer within 1s); check that the SSH "
                                "server is reachable")));
}

TEST_F(TunnelTest, ServerThatIsNotSshTimesOutInTheHandshake) {
  int port = 0;
  Socket silent = Listen(16, &port);  // Accepts (in the kernel) but never says anything.
  SshForwarding config = Forwarding();
  config.ssh_endpoint = StrCat("ssh://", sshd().user(), "@127.0.0.1:", port);
  TunnelOptions options = Options();
  options.connect_timeout = absl::Seconds(1);
  LogCapture log;
  auto tunnel = Tunnel::Start(config, pg().host(), pg().port(), log.logger(), options);
  ASSERT_FALSE(tunnel.ok());
  EXPECT_THAT(std::string(MessageOf(tunnel.status())),
              AllOf(StartsWith(StrCat("network tunnel: the SSH handshake with 127.0.0.1:", port,
                                      " failed (")),
                    HasSubstr("names an SSH server")));
}

TEST_F(TunnelTest, DnsFailure) {
  SshForwarding config = Forwarding();
  config.ssh_endpoint = "ssh://flow@no-such-bastion.invalid:22";
  LogCapture log;
  auto tunnel = Tunnel::Start(config, pg().host(), pg().port(), log.logger(), Options());
  ASSERT_FALSE(tunnel.ok());
  EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(MessageOf(tunnel.status())),
              AllOf(StartsWith("network tunnel: cannot resolve the SSH server's host name "
                               "\"no-such-bastion.invalid\": "),
                    HasSubstr("; check the host in networkTunnel.sshForwarding.sshEndpoint")));
}

TEST_F(TunnelTest, ForwardTargetRefused) {
  auto closed_port = harness::FreePort();
  ASSERT_TRUE(closed_port.ok());
  const std::string target = StrCat("127.0.0.1:", *closed_port);
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.1", *closed_port, log.logger(), Options());
  ASSERT_FALSE(tunnel.ok());
  EXPECT_EQ(tunnel.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(MessageOf(tunnel.status())),
              AllOf(StartsWith(StrCat("network tunnel: the SSH server 127.0.0.1:", sshd().port(),
                                      " could not connect to ", target, " (")),
                    HasSubstr("check the address and port of the database")));

  // Without the probe, Start succeeds; each connection is then closed, the reason logged, and
  // the tunnel stays up for the next one.
  TunnelOptions options = Options();
  options.probe_target = false;
  auto unprobed = Tunnel::Start(Forwarding(), "127.0.0.1", *closed_port, log.logger(), options);
  ASSERT_TRUE(unprobed.ok()) << unprobed.status();
  for (int i = 0; i < 2; ++i) {
    auto socket = Connect((*unprobed)->local_port());
    ASSERT_TRUE(socket.ok());
    EXPECT_TRUE(ClosedByPeer(*socket, absl::Seconds(10)));
  }
  EXPECT_EQ(log.Count(StrCat("could not connect to ", target)), 2) << log.Text();
  EXPECT_TRUE((*unprobed)->status().ok());
}

TEST_F(TunnelTest, ForwardTargetProhibitedByTheServer) {
  // The harness sshd permits forwarding to 127.0.0.1 and localhost only.
  LogCapture log;
  auto tunnel = Tunnel::Start(Forwarding(), "127.0.0.2", pg().port(), log.logger(), Options());
  ASSERT_FALSE(tunnel.ok());
  EXPECT_THAT(
      std::string(MessageOf(tunnel.status())),
      AllOf(StartsWith(StrCat("network tunnel: the SSH server 127.0.0.1:", sshd().port(),
                              " refused to forward connections to 127.0.0.2:", pg().port(), " (")),
            HasSubstr("AllowTcpForwarding, PermitOpen")));
}

// ---------------------------------------------------------------------------------------------
// Losing the session. Each test has its own sshd.

// A TCP relay to `target_port` that can be frozen: it then neither reads nor writes, like a
// bastion whose host hung or whose network path went dark while the connection stays open.
class FreezableRelay {
 public:
  explicit FreezableRelay(int target_port) : target_port_(target_port) {
    listener_ = Listen(16, &port_);
    thread_ = std::thread([this] { Run(); });
  }
  ~FreezableRelay() {
    stopping_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  void Freeze() { frozen_ = true; }

 private:
  void Run() {
    pollfd accept_ready{listener_.get(), POLLIN, 0};
    while (!stopping_ && ::poll(&accept_ready, 1, 100) <= 0) {
    }
    if (stopping_) return;
    Socket client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    auto server = Connect(target_port_);
    if (!server.ok()) return;
    char buffer[65536];
    while (!stopping_) {
      if (frozen_) {
        absl::SleepFor(absl::Milliseconds(20));
        continue;
      }
      pollfd fds[2] = {{client.get(), POLLIN, 0}, {server->get(), POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int from = i == 0 ? client.get() : server->get();
        const int to = i == 0 ? server->get() : client.get();
        const ssize_t n = ::recv(from, buffer, sizeof(buffer), 0);
        if (n <= 0) return;
        if (::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
      }
    }
  }

  int target_port_;
  Socket listener_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> frozen_{false};
  std::thread thread_;
};

absl::Status WaitForFailure(const Tunnel& tunnel, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (tunnel.status().ok() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  return tunnel.status();
}

TEST(TunnelSessionTest, BastionGoingAwayClosesTheTunnel) {
  auto sshd = Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  EchoServer echo;
  LogCapture log;
  SshForwarding config{StrCat("ssh://", sshd->user(), "@127.0.0.1:", sshd->port()),
                       sshd->private_key_pem(), ""};
  auto tunnel = Tunnel::Start(config, "127.0.0.1", echo.port(), log.logger());
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  auto open = Connect((*tunnel)->local_port());
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(EchoRoundTrip(*open, 1000, 1).ok());

  ASSERT_TRUE(sshd->Stop().ok());  // Kills sshd and its sessions.
  const absl::Status lost = WaitForFailure(**tunnel, absl::Seconds(10));
  ASSERT_FALSE(lost.ok());
  EXPECT_THAT(std::string(MessageOf(lost)),
              StartsWith(StrCat(
                  "network tunnel: lost the SSH session with 127.0.0.1:", sshd->port(), ": ")));
  EXPECT_THAT(log.Text(), HasSubstr("\"level\":\"error\",\"message\":\"network tunnel: lost"));
  EXPECT_TRUE(ClosedByPeer(*open, absl::Seconds(5)));
  EXPECT_FALSE(Connect((*tunnel)->local_port()).ok());
}

TEST(TunnelSessionTest, UnansweredKeepalivesCloseTheTunnel) {
  auto sshd = Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  FreezableRelay relay(sshd->port());
  LogCapture log;
  SshForwarding config{StrCat("ssh://", sshd->user(), "@127.0.0.1:", relay.port()),
                       sshd->private_key_pem(), ""};
  TunnelOptions options;
  options.keepalive_interval = absl::Milliseconds(300);
  options.keepalive_count_max = 3;
  auto tunnel = Tunnel::Start(config, "127.0.0.1", sshd->port(), log.logger(), options);
  ASSERT_TRUE(tunnel.ok()) << tunnel.status();
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE((*tunnel)->status().ok()) << (*tunnel)->status();  // Answered so far.

  relay.Freeze();
  const absl::Time frozen = absl::Now();
  const absl::Status lost = WaitForFailure(**tunnel, absl::Seconds(10));
  ASSERT_FALSE(lost.ok());
  EXPECT_LT(absl::Now() - frozen, absl::Seconds(5));
  EXPECT_THAT(std::string(MessageOf(lost)), HasSubstr("the server did not answer keepalives for"));
}

}  // namespace
}  // namespace connectors::tunnel
