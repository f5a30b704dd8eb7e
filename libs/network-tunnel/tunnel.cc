#include "libs/network-tunnel/tunnel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/server.h>  // ssh_send_keepalive, which clients may use too.
#include <linux/tcp.h>      // Not <netinet/tcp.h>: glibc's tcp_info lacks tcpi_bytes_received.
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/base/unique_fd.h"
#include "libs/network-tunnel/ssh_keys.h"

namespace connectors::tunnel {
namespace {

using internal::Fingerprint;
using internal::Key;
using internal::KnownHost;

constexpr char kLocalHost[] = "127.0.0.1";
// Bytes moved per read, and how much one connection may hold for a slow local reader before
// the tunnel stops reading its channel (the SSH window then stops the far side).
constexpr size_t kChunk = 32 * 1024;
constexpr size_t kMaxToLocal = 256 * 1024;
// Reads of the SSH socket per loop turn (libssh reads at most 4 KiB at a time).
constexpr int kPumpRounds = 64;
constexpr int kListenBacklog = 128;
// Channel reads per connection per loop turn (each up to kMaxToLocal).
constexpr int kServiceRounds = 16;

std::string ErrnoText(int error) { return std::strerror(error); }

std::string HostPort(std::string_view host, int port) {
  if (host.find(':') != std::string_view::npos) return StrCat("[", host, "]:", port);
  return StrCat(host, ":", port);
}

std::string DurationText(absl::Duration d) {
  if (d >= absl::Seconds(1) && d % absl::Seconds(1) == absl::ZeroDuration()) {
    return StrCat(absl::ToInt64Seconds(d), "s");
  }
  return StrCat(absl::ToInt64Milliseconds(d), "ms");
}

using Fd = UniqueFd;

struct SessionDeleter {
  void operator()(ssh_session session) const { ssh_free(session); }
};
using Session = std::unique_ptr<ssh_session_struct, SessionDeleter>;

struct ChannelDeleter {
  void operator()(ssh_channel channel) const { ssh_channel_free(channel); }
};
using Channel = std::unique_ptr<ssh_channel_struct, ChannelDeleter>;

// --- Reaching the SSH server. ---------------------------------------------------------------

void SetSocketOptions(int fd, const TunnelOptions& options) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  if (options.keepalive_interval > absl::ZeroDuration() && options.keepalive_count_max > 0) {
    // Data (our keepalives) left unacknowledged this long fails the socket, like
    // ServerAliveCountMax at the TCP level: a bastion that vanished is noticed even when the
    // kernel would otherwise retransmit for many minutes.
    const unsigned int user_timeout = static_cast<unsigned int>(
        absl::ToInt64Milliseconds(options.keepalive_interval * (options.keepalive_count_max + 1)));
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
  }
}

// Bytes the kernel has received on a TCP connection, whoever read them: libssh reads its
// socket inside many calls, so readability seen by our own poll() misses some of what arrives.
std::optional<uint64_t> ReceivedBytes(int fd) {
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  if (length < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received)) {
    return std::nullopt;
  }
  return info.tcpi_bytes_received;
}

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text,
                sizeof(text));
  } else if (address->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text,
                sizeof(text));
  }
  return text;
}

// Resolves the SSH server and connects to the first address that accepts, within `timeout`
// for all addresses together. Errors tell DNS failures, refusals and timeouts apart.
absl::StatusOr<Fd> ConnectTcp(const SshEndpoint& endpoint, const TunnelOptions& options) {
  const std::string server = HostPort(endpoint.host, endpoint.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  addrinfo* found = nullptr;
  const std::string port_text = StrCat(endpoint.port);
  const int gai = ::getaddrinfo(endpoint.host.c_str(), port_text.c_str(), &hints, &found);
  if (gai != 0) {
    std::string why = gai == EAI_SYSTEM ? ErrnoText(errno) : ::gai_strerror(gai);
    return absl::UnavailableError(
        StrCat("network tunnel: cannot resolve the SSH server's host name \"", endpoint.host,
               "\": ", why, "; check the host in networkTunnel.sshForwarding.sshEndpoint"));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);

  const absl::Time deadline = absl::Now() + options.connect_timeout;
  std::vector<std::string> failures;
  bool timed_out = false;
  for (const addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    const std::string ip = AddressText(address->ai_addr);
    Fd fd(::socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
      failures.push_back(StrCat(ip, ": ", ErrnoText(errno)));
      continue;
    }
    SetSocketOptions(fd.get(), options);
    int error = 0;
    if (::connect(fd.get(), address->ai_addr, address->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        while (true) {
          const int64_t wait_ms =
              std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
          pollfd writable{fd.get(), POLLOUT, 0};
          const int ready = ::poll(&writable, 1, static_cast<int>(wait_ms));
          if (ready < 0 && errno == EINTR) continue;
          if (ready <= 0) {
            error = ETIMEDOUT;
            timed_out = true;
            break;
          }
          socklen_t length = sizeof(error);
          if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
          break;
        }
      }
    }
    if (error == 0) return fd;
    failures.push_back(
        timed_out && error == ETIMEDOUT
            ? StrCat(ip, ": no answer within ", DurationText(options.connect_timeout))
            : StrCat(ip, ": ", ErrnoText(error)));
    if (absl::Now() >= deadline) break;
  }
  std::string joined;
  for (const std::string& failure : failures) {
    if (!joined.empty()) joined += "; ";
    joined += failure;
  }
  const std::string hint =
      timed_out ? "check that the SSH server is reachable from here (a firewall or allow-list "
                  "may be dropping the connection)"
                : "check the host and port in networkTunnel.sshForwarding.sshEndpoint and that "
                  "the SSH server is running";
  std::string message = StrCat("network tunnel: cannot connect to the SSH server ", server, " (",
                               joined, "); ", hint);
  if (timed_out) return absl::DeadlineExceededError(message);
  return absl::UnavailableError(message);
}

// --- Host key. ------------------------------------------------------------------------------

// libssh's host key algorithm names for a known_hosts key type.
std::vector<std::string> HostKeyAlgorithms(std::string_view type) {
  if (type == "ssh-rsa") return {"rsa-sha2-512", "rsa-sha2-256"};
  return {std::string(type)};
}

constexpr std::string_view kDefaultHostKeyAlgorithms[] = {
    "ssh-ed25519",         "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp256", "rsa-sha2-512",        "rsa-sha2-256"};

// Offers the key types known_hosts lists for this server first, so that a server with several
// host keys shows the one we can check.
void PreferHostKeyTypes(ssh_session session, const std::vector<const KnownHost*>& entries) {
  std::vector<std::string> order;
  auto add = [&](std::string_view algorithm) {
    if (std::find(order.begin(), order.end(), algorithm) == order.end()) {
      order.emplace_back(algorithm);
    }
  };
  for (const KnownHost* entry : entries) {
    if (!entry->revoked) {
      for (const std::string& algorithm : HostKeyAlgorithms(entry->type)) add(algorithm);
    }
  }
  if (order.empty()) return;
  for (std::string_view algorithm : kDefaultHostKeyAlgorithms) add(algorithm);
  std::string list;
  for (const std::string& algorithm : order) {
    if (!list.empty()) list += ',';
    list += algorithm;
  }
  ssh_options_set(session, SSH_OPTIONS_HOSTKEYS, list.c_str());
}

absl::Status CheckHostKey(ssh_session session, const SshEndpoint& endpoint,
                          const std::vector<const KnownHost*>& entries, bool strict,
                          const Logger& log) {
  const std::string server = HostPort(endpoint.host, endpoint.port);
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session, &raw) != SSH_OK || raw == nullptr) {
    return absl::UnavailableError(StrCat("network tunnel: the SSH server ", server,
                                         " did not present a host key: ", ssh_get_error(session)));
  }
  Key server_key(raw);
  const std::string fingerprint = Fingerprint(server_key.get());
  const std::string known_name =
      endpoint.port == 22 ? endpoint.host : StrCat("[", endpoint.host, "]:", endpoint.port);

  if (!strict) {
    char* encoded = nullptr;
    std::string line;
    if (ssh_pki_export_pubkey_base64(server_key.get(), &encoded) == SSH_OK) {
      line = StrCat(known_name, " ", ssh_key_type_to_char(ssh_key_type(server_key.get())), " ",
                    encoded);
      ssh_string_free_char(encoded);
    }
    log.Info(
        "network tunnel: SSH host key not verified (networkTunnel.sshForwarding.knownHosts is "
        "empty)",
        {LogField::Str("server", server), LogField::Str("fingerprint", fingerprint),
         LogField::Str("knownHostsLine", line)});
    return absl::OkStatus();
  }

  for (const KnownHost* entry : entries) {
    if (entry->revoked &&
        ssh_key_cmp(entry->key.get(), server_key.get(), SSH_KEY_CMP_PUBLIC) == 0) {
      return absl::PermissionDeniedError(StrCat("network tunnel: the host key of the SSH server ",
                                                server, " (", fingerprint,
                                                ") is marked @revoked on line ", entry->line,
                                                " of networkTunnel.sshForwarding.knownHosts"));
    }
  }
  std::vector<std::string> expected;
  for (const KnownHost* entry : entries) {
    if (entry->revoked) continue;
    if (ssh_key_cmp(entry->key.get(), server_key.get(), SSH_KEY_CMP_PUBLIC) == 0) {
      log.Info("network tunnel: SSH host key verified against knownHosts",
               {LogField::Str("server", server), LogField::Str("fingerprint", fingerprint),
                LogField::Int("knownHostsLine", entry->line)});
      return absl::OkStatus();
    }
    expected.push_back(Fingerprint(entry->key.get()));
  }
  if (expected.empty()) {
    return absl::PermissionDeniedError(StrCat(
        "network tunnel: networkTunnel.sshForwarding.knownHosts has no key for the SSH server ",
        known_name, ", whose host key is ", fingerprint, "; add its line (ssh-keyscan -p ",
        endpoint.port, " ", endpoint.host, " prints it) or leave knownHosts empty"));
  }
  std::string expected_text;
  for (const std::string& key : expected) {
    if (!expected_text.empty()) expected_text += ", ";
    expected_text += key;
  }
  return absl::PermissionDeniedError(StrCat(
      "network tunnel: host key mismatch for the SSH server ", known_name, ": it presented ",
      fingerprint, " but networkTunnel.sshForwarding.knownHosts expects ", expected_text,
      ". If the server's key was changed on purpose, update knownHosts; otherwise someone may "
      "be intercepting the connection"));
}

// --- Login. ---------------------------------------------------------------------------------

std::string AuthMethods(int methods) {
  std::vector<std::string> names;
  if (methods & SSH_AUTH_METHOD_PUBLICKEY) names.push_back("publickey");
  if (methods & SSH_AUTH_METHOD_PASSWORD) names.push_back("password");
  if (methods & SSH_AUTH_METHOD_INTERACTIVE) names.push_back("keyboard-interactive");
  if (methods & SSH_AUTH_METHOD_GSSAPI_MIC) names.push_back("gssapi-with-mic");
  if (methods & SSH_AUTH_METHOD_HOSTBASED) names.push_back("hostbased");
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out.empty() ? "none" : out;
}

absl::Status Login(ssh_session session, const SshEndpoint& endpoint, ssh_key private_key) {
  const std::string server = HostPort(endpoint.host, endpoint.port);
  ssh_key public_raw = nullptr;
  std::string public_fingerprint = "?";
  if (ssh_pki_export_privkey_to_pubkey(private_key, &public_raw) == SSH_OK) {
    Key public_key(public_raw);
    public_fingerprint = Fingerprint(public_key.get());
  }
  const int rc = ssh_userauth_publickey(session, nullptr, private_key);
  if (rc == SSH_AUTH_SUCCESS) return absl::OkStatus();
  if (rc == SSH_AUTH_DENIED) {
    const int methods = ssh_userauth_list(session, nullptr);
    std::string message =
        StrCat("network tunnel: the SSH server ", server, " rejected the private key for user \"",
               endpoint.user, "\" (public key ", public_fingerprint, ")");
    if (methods != 0 && !(methods & SSH_AUTH_METHOD_PUBLICKEY)) {
      StrAppend(&message, "; the server does not accept public keys at all (it offers: ",
                AuthMethods(methods), ")");
    } else {
      StrAppend(&message,
                "; check the user name in networkTunnel.sshForwarding.sshEndpoint "
                "and that this key's public key is in that user's "
                "~/.ssh/authorized_keys on the SSH server");
    }
    return absl::PermissionDeniedError(message);
  }
  if (rc == SSH_AUTH_PARTIAL) {
    return absl::PermissionDeniedError(
        StrCat("network tunnel: the SSH server ", server, " accepted the private key for user \"",
               endpoint.user, "\" but requires further authentication (",
               AuthMethods(ssh_userauth_list(session, nullptr)),
               "), which the tunnel cannot provide; configure the server to accept the key alone"));
  }
  return absl::UnavailableError(StrCat("network tunnel: logging in to the SSH server ", server,
                                       " as \"", endpoint.user,
                                       "\" failed: ", ssh_get_error(session)));
}

// --- Forward target. --------------------------------------------------------------------------

// libssh reports "Channel opening failure: channel N error (CODE) TEXT".
std::string ChannelOpenError(ssh_session session, const std::string& server,
                             const std::string& target) {
  const std::string error = ssh_get_error(session);
  int code = 0;
  std::string reason = error;
  const size_t open = error.find("error (");
  if (open != std::string::npos) {
    const size_t close = error.find(')', open);
    if (close != std::string::npos) {
      code = std::atoi(error.c_str() + open + 7);
      reason = error.substr(std::min(error.size(), close + 2));
    }
  }
  if (reason.empty()) reason = error;
  switch (code) {
    case 1:  // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
      return StrCat("network tunnel: the SSH server ", server,
                    " refused to forward connections to ", target, " (", reason,
                    "); its sshd_config must allow TCP forwarding to that address "
                    "(AllowTcpForwarding, PermitOpen)");
    case 2:  // SSH_OPEN_CONNECT_FAILED
      return StrCat("network tunnel: the SSH server ", server, " could not connect to ", target,
                    " (", reason,
                    "); check the address and port of the database, and that the SSH server "
                    "can reach it");
    default:
      return StrCat("network tunnel: the SSH server ", server,
                    " could not open a forwarded connection to ", target, ": ", error);
  }
}

}  // namespace

// --- The tunnel's state and its loop. ----------------------------------------------------------

struct Tunnel::State {
  const Logger* log = nullptr;
  SshEndpoint endpoint;
  std::string server;  // host:port of the SSH server.
  std::string target_host;
  int target_port = 0;
  std::string target;  // host:port of the target.
  TunnelOptions options;
  int local_port = 0;

  // Owned by the loop thread once it runs.
  Session session;
  ssh_event event = nullptr;
  int ssh_fd = -1;  // Ours; libssh may close it on a socket error (see CloseSession).
  Fd listener;
  Fd wake;  // eventfd: the destructor asks the loop to stop.
  std::thread thread;

  mutable std::mutex mu;
  absl::Status status;  // Guarded by mu.

  struct Conn {
    uint64_t id = 0;
    Fd fd;
    ssh_channel channel = nullptr;
    int peer_port = 0;
    bool opening = true;
    std::string to_local;  // From the channel, not yet written to the local socket.
    size_t to_local_sent = 0;
    std::string to_remote;  // From the local socket, not yet taken by the channel.
    size_t to_remote_sent = 0;
    bool local_eof = false;   // The local client finished sending.
    bool eof_sent = false;    // ...and the channel was told so.
    bool remote_eof = false;  // The far side finished sending (EOF or close), all read.
    bool local_shut = false;  // ...and the local client was told so (SHUT_WR).
    bool local_hangup = false;
    bool done = false;
    uint64_t bytes_up = 0;
    uint64_t bytes_down = 0;
    int poll_index = -1;
  };
  std::vector<std::unique_ptr<Conn>> conns;
  uint64_t next_id = 1;
  absl::Time last_heard;
  uint64_t last_received = 0;
  bool busy = false;  // A connection has more buffered channel data: poll without waiting.

  void Run();
  void Pump();
  bool SessionAlive() const;
  std::string SessionError() const;
  void Accept();
  void Service(Conn& conn, short revents);
  void ReadLocal(Conn& conn);
  bool FlushToRemote(Conn& conn);
  void ReadChannel(Conn& conn);
  void WriteLocal(Conn& conn);
  void Finish(Conn& conn, bool abort);
  void Lose(const std::string& reason);
  void CloseSession();
};

void Tunnel::State::Pump() {
  for (int round = 0; round < kPumpRounds; ++round) {
    if (ssh_event_dopoll(event, 0) != SSH_OK) break;
  }
}

bool Tunnel::State::SessionAlive() const {
  // libssh closes the socket itself after some errors; from then on ssh_fd is not ours.
  if (ssh_get_fd(session.get()) != ssh_fd) return false;
  if (!ssh_is_connected(session.get())) return false;
  return (ssh_get_status(session.get()) & (SSH_CLOSED | SSH_CLOSED_ERROR)) == 0;
}

std::string Tunnel::State::SessionError() const {
  // Read the error first: ssh_get_disconnect_message() overwrites it when there is no message.
  const char* error = ssh_get_error(session.get());
  std::string text = error != nullptr ? error : "";
  const char* disconnect = ssh_get_disconnect_message(session.get());
  if (disconnect != nullptr && *disconnect != '\0') {
    return StrCat("the server disconnected: ", disconnect);
  }
  if (text.empty()) return "the connection was closed";
  return text;
}

void Tunnel::State::Accept() {
  while (true) {
    sockaddr_in peer{};
    socklen_t length = sizeof(peer);
    const int fd = ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log->Warn("network tunnel: accepting a local connection failed",
                  {LogField::Str("error", ErrnoText(errno))});
      }
      return;
    }
    auto conn = std::make_unique<Conn>();
    conn->id = next_id++;
    conn->fd = Fd(fd);
    conn->peer_port = ntohs(peer.sin_port);
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    conn->channel = ssh_channel_new(session.get());
    if (conn->channel == nullptr) {
      log->Error("network tunnel: cannot create an SSH channel",
                 {LogField::Str("error", ssh_get_error(session.get()))});
      continue;  // Closing the local socket tells the client.
    }
    log->Debug("network tunnel: forwarding a new connection",
               {LogField::Uint("connection", conn->id), LogField::Str("target", target)});
    conns.push_back(std::move(conn));
  }
}

void Tunnel::State::ReadLocal(Conn& conn) {
  char buffer[kChunk];
  for (int round = 0; round < 8; ++round) {
    if (conn.local_eof || conn.to_remote_sent < conn.to_remote.size()) return;
    // The far side closed: what it sent is still delivered, what the client sends is not.
    if (ssh_channel_is_closed(conn.channel)) return;
    const uint32_t window = ssh_channel_window_size(conn.channel);
    if (window == 0) return;
    const ssize_t n = ::read(conn.fd.get(), buffer, std::min<size_t>(window, sizeof(buffer)));
    if (n == 0) {
      conn.local_eof = true;
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      log->Debug("network tunnel: local connection failed",
                 {LogField::Uint("connection", conn.id), LogField::Str("error", ErrnoText(errno))});
      Finish(conn, /*abort=*/true);
      return;
    }
    conn.bytes_up += static_cast<uint64_t>(n);
    conn.to_remote.assign(buffer, static_cast<size_t>(n));
    conn.to_remote_sent = 0;
    if (!FlushToRemote(conn)) return;
  }
}

// Hands pending bytes to the channel as far as its window allows; false once the connection
// was finished because the channel failed.
bool Tunnel::State::FlushToRemote(Conn& conn) {
  if (ssh_channel_is_closed(conn.channel)) {
    conn.to_remote.clear();  // Nobody left to receive it.
    conn.to_remote_sent = 0;
  }
  while (conn.to_remote_sent < conn.to_remote.size()) {
    const uint32_t window = ssh_channel_window_size(conn.channel);
    if (window == 0) return true;  // A window adjust from the server resumes us.
    const size_t length = std::min<size_t>(window, conn.to_remote.size() - conn.to_remote_sent);
    const int written = ssh_channel_write(conn.channel, conn.to_remote.data() + conn.to_remote_sent,
                                          static_cast<uint32_t>(length));
    if (written < 0) {
      log->Debug("network tunnel: forwarded connection's channel failed",
                 {LogField::Uint("connection", conn.id),
                  LogField::Str("error", ssh_get_error(session.get()))});
      Finish(conn, /*abort=*/true);
      return false;
    }
    if (written == 0) return true;  // Key re-exchange in progress; retried on SSH activity.
    conn.to_remote_sent += static_cast<size_t>(written);
  }
  conn.to_remote.clear();
  conn.to_remote_sent = 0;
  return true;
}

void Tunnel::State::ReadChannel(Conn& conn) {
  char buffer[kChunk];
  while (!conn.remote_eof && conn.to_local.size() - conn.to_local_sent < kMaxToLocal) {
    const size_t space = kMaxToLocal - (conn.to_local.size() - conn.to_local_sent);
    const int n = ssh_channel_read_nonblocking(conn.channel, buffer,
                                               static_cast<uint32_t>(std::min(space, kChunk)), 0);
    if (n > 0) {
      if (conn.to_local_sent == conn.to_local.size()) {
        conn.to_local.clear();
        conn.to_local_sent = 0;
      }
      conn.to_local.append(buffer, static_cast<size_t>(n));
      conn.bytes_down += static_cast<uint64_t>(n);
      last_heard = absl::Now();
      continue;
    }
    if (n == SSH_EOF || ssh_channel_is_eof(conn.channel) || ssh_channel_is_closed(conn.channel)) {
      conn.remote_eof = true;
    } else if (n == SSH_ERROR) {
      log->Debug("network tunnel: reading a forwarded connection's channel failed",
                 {LogField::Uint("connection", conn.id),
                  LogField::Str("error", ssh_get_error(session.get()))});
      conn.remote_eof = true;
    }
    return;
  }
}

void Tunnel::State::WriteLocal(Conn& conn) {
  while (conn.to_local_sent < conn.to_local.size()) {
    const ssize_t n = ::send(conn.fd.get(), conn.to_local.data() + conn.to_local_sent,
                             conn.to_local.size() - conn.to_local_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      log->Debug("network tunnel: writing to a local connection failed",
                 {LogField::Uint("connection", conn.id), LogField::Str("error", ErrnoText(errno))});
      Finish(conn, /*abort=*/true);
      return;
    }
    conn.to_local_sent += static_cast<size_t>(n);
  }
  conn.to_local.clear();
  conn.to_local_sent = 0;
}

void Tunnel::State::Service(Conn& conn, short revents) {
  if (conn.done) return;
  if (conn.opening) {
    const int rc = ssh_channel_open_forward(conn.channel, target_host.c_str(), target_port,
                                            kLocalHost, conn.peer_port);
    if (rc == SSH_AGAIN) return;
    if (rc != SSH_OK) {
      // The local client sees its connection closed; this log line says why.
      log->Error(ChannelOpenError(session.get(), server, target),
                 {LogField::Uint("connection", conn.id)});
      Finish(conn, /*abort=*/true);
      return;
    }
    conn.opening = false;
    last_heard = absl::Now();
  }

  if (revents & (POLLHUP | POLLERR)) conn.local_hangup = true;
  if ((revents & POLLIN) || conn.local_hangup) ReadLocal(conn);
  if (conn.done) return;
  if (!FlushToRemote(conn)) return;
  if (conn.local_eof && conn.to_remote.empty() && !conn.eof_sent) {
    ssh_channel_send_eof(conn.channel);
    conn.eof_sent = true;
  }

  // Channel data libssh already holds does not wake poll(): move it while the local socket
  // takes it, and ask for another turn at once if there is still more.
  for (int round = 0;; ++round) {
    const uint64_t before = conn.bytes_down;
    ReadChannel(conn);
    WriteLocal(conn);
    if (conn.done) return;
    if (conn.bytes_down == before || conn.to_local_sent < conn.to_local.size()) break;
    if (round == kServiceRounds) {
      busy = true;
      break;
    }
  }
  const bool drained = conn.to_local_sent == conn.to_local.size();
  if (conn.remote_eof && drained && !conn.local_shut) {
    ::shutdown(conn.fd.get(), SHUT_WR);
    conn.local_shut = true;
  }
  // Done when both directions are finished, or when the far side closed the channel (nothing
  // sent its way would arrive) and everything it sent was delivered.
  if (conn.local_shut && (conn.eof_sent || ssh_channel_is_closed(conn.channel))) {
    Finish(conn, /*abort=*/false);
  }
}

void Tunnel::State::Finish(Conn& conn, bool abort) {
  if (conn.done) return;
  conn.done = true;
  if (conn.channel != nullptr) {
    if (!conn.opening && ssh_channel_is_open(conn.channel)) ssh_channel_close(conn.channel);
    // Freed now, or by libssh once the server confirms the close.
    ssh_channel_free(conn.channel);
    conn.channel = nullptr;
  }
  if (abort) {
    // Reset rather than close politely: the client must not take a cut stream as complete.
    const linger reset{1, 0};
    ::setsockopt(conn.fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  }
  conn.fd.Reset();
  log->Debug("network tunnel: forwarded connection closed",
             {LogField::Uint("connection", conn.id), LogField::Uint("bytesUp", conn.bytes_up),
              LogField::Uint("bytesDown", conn.bytes_down), LogField::Bool("aborted", abort)});
}

void Tunnel::State::Lose(const std::string& reason) {
  const std::string message =
      StrCat("network tunnel: lost the SSH session with ", server, ": ", reason,
             "; forwarded connections were closed and no new ones are accepted");
  {
    std::lock_guard<std::mutex> lock(mu);
    status = absl::UnavailableError(message);
  }
  log->Error(message, {LogField::Str("server", server), LogField::Str("target", target)});
}

void Tunnel::State::CloseSession() {
  listener.Reset();
  for (auto& conn : conns) Finish(*conn, /*abort=*/true);
  conns.clear();
  if (!session) return;
  if (event != nullptr) {
    ssh_event_remove_session(event, session.get());
    ssh_event_free(event);
    event = nullptr;
  }
  // libssh closes the socket itself after some socket errors; otherwise it stays ours.
  const bool still_ours = ssh_get_fd(session.get()) == ssh_fd;
  ssh_disconnect(session.get());
  session.reset();
  if (still_ours && ssh_fd >= 0) ::close(ssh_fd);
  ssh_fd = -1;
}

void Tunnel::State::Run() {
  ssh_set_blocking(session.get(), 0);
  const bool keepalives =
      options.keepalive_interval > absl::ZeroDuration() && options.keepalive_count_max > 0;
  absl::Time next_keepalive = absl::Now() + options.keepalive_interval;
  last_heard = absl::Now();
  last_received = ReceivedBytes(ssh_fd).value_or(0);
  std::vector<pollfd> fds;
  while (true) {
    fds.clear();
    fds.push_back({wake.get(), POLLIN, 0});
    short ssh_events = POLLIN;
    if (ssh_get_poll_flags(session.get()) & SSH_WRITE_PENDING) ssh_events |= POLLOUT;
    fds.push_back({ssh_fd, ssh_events, 0});
    fds.push_back({listener.get(), POLLIN, 0});
    for (auto& conn : conns) {
      conn->poll_index = -1;
      // A hung-up socket would make poll() return at once, every time; Service() still tries
      // it on every turn.
      if (conn->opening || conn->local_hangup) continue;
      short events = 0;
      if (!conn->local_eof && conn->to_remote.empty() && !ssh_channel_is_closed(conn->channel) &&
          ssh_channel_window_size(conn->channel) > 0) {
        events |= POLLIN;
      }
      if (conn->to_local_sent < conn->to_local.size()) events |= POLLOUT;
      conn->poll_index = static_cast<int>(fds.size());
      fds.push_back({conn->fd.get(), events, 0});
    }
    int timeout_ms = 1000;
    if (keepalives) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(next_keepalive - absl::Now()) + 1, 0, 1000));
    }
    if (busy) timeout_ms = 0;
    busy = false;
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      Lose(StrCat("poll failed: ", ErrnoText(errno)));
      break;
    }
    if (ready > 0 && (fds[0].revents & POLLIN)) break;  // Shutting down.
    const absl::Time now = absl::Now();
    // Anything at all from the server proves it alive (keepalive answers, channel data).
    if (const std::optional<uint64_t> received = ReceivedBytes(ssh_fd); received.has_value()) {
      if (*received != last_received) {
        last_received = *received;
        last_heard = now;
      }
    } else if (ready > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      last_heard = now;
    }

    Pump();
    if (!SessionAlive()) {
      Lose(SessionError());
      break;
    }
    if (ready > 0 && (fds[2].revents & POLLIN)) Accept();
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& conn = *conns[i];
      const short revents =
          conn.poll_index >= 0 && ready > 0 ? fds[static_cast<size_t>(conn.poll_index)].revents : 0;
      Service(conn, revents);
    }
    conns.erase(std::remove_if(conns.begin(), conns.end(),
                               [](const std::unique_ptr<Conn>& conn) { return conn->done; }),
                conns.end());

    if (keepalives) {
      if (now - last_heard > options.keepalive_interval * options.keepalive_count_max) {
        Lose(StrCat("the server did not answer keepalives for ", DurationText(now - last_heard)));
        break;
      }
      if (now >= next_keepalive) {
        // A keepalive is a global request the server must answer. libssh completes a
        // previous one on the first call and sends a new one on the second.
        ssh_send_keepalive(session.get());
        ssh_send_keepalive(session.get());
        next_keepalive = now + options.keepalive_interval;
        log->Debug("network tunnel: sent SSH keepalive", {LogField::Str("server", server)});
      }
    }
    if (!SessionAlive()) {
      Lose(SessionError());
      break;
    }
  }
  CloseSession();
}

// --- Public API. -------------------------------------------------------------------------------

Tunnel::Tunnel(std::unique_ptr<State> state) : state_(std::move(state)) {}

Tunnel::~Tunnel() {
  if (!state_) return;
  const uint64_t one = 1;
  if (state_->wake.get() >= 0) {
    [[maybe_unused]] ssize_t n = ::write(state_->wake.get(), &one, sizeof(one));
  }
  if (state_->thread.joinable()) state_->thread.join();
  state_->log->Info("network tunnel: closed", {LogField::Str("server", state_->server),
                                               LogField::Str("target", state_->target)});
}

std::string Tunnel::local_host() const { return kLocalHost; }
int Tunnel::local_port() const { return state_->local_port; }

absl::Status Tunnel::status() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->status;
}

absl::StatusOr<std::unique_ptr<Tunnel>> Tunnel::Start(const SshForwarding& config,
                                                      std::string target_host, int target_port,
                                                      const Logger& log) {
  return Start(config, std::move(target_host), target_port, log, TunnelOptions());
}

absl::StatusOr<std::unique_ptr<Tunnel>> Tunnel::Start(const SshForwarding& config,
                                                      std::string target_host, int target_port,
                                                      const Logger& log,
                                                      const TunnelOptions& options) {
  auto endpoint = ParseSshEndpoint(config.ssh_endpoint);
  if (!endpoint.ok()) return endpoint.status();
  if (target_host.empty() || target_port < 1 || target_port > 65535) {
    return absl::InvalidArgumentError(StrCat("network tunnel: the forward target \"", target_host,
                                             ":", target_port,
                                             "\" needs a host and a port from 1 to 65535"));
  }
  auto private_key = internal::ImportPrivateKey(config.private_key);
  if (!private_key.ok()) return private_key.status();
  auto known_hosts = internal::ParseKnownHosts(config.known_hosts);
  if (!known_hosts.ok()) return known_hosts.status();
  const bool strict = config.known_hosts.find_first_not_of(" \t\r\n") != std::string::npos;
  std::vector<const KnownHost*> host_entries;
  for (const KnownHost& entry : *known_hosts) {
    if (internal::HostMatches(entry, endpoint->host, endpoint->port)) {
      host_entries.push_back(&entry);
    }
  }

  auto state = std::make_unique<State>();
  state->log = &log;
  state->endpoint = *endpoint;
  state->server = HostPort(endpoint->host, endpoint->port);
  state->target_host = std::move(target_host);
  state->target_port = target_port;
  state->target = HostPort(state->target_host, target_port);
  state->options = options;
  const std::string& server = state->server;
  log.Info("network tunnel: connecting to the SSH server",
           {LogField::Str("server", server), LogField::Str("user", endpoint->user),
            LogField::Str("target", state->target)});

  auto socket = ConnectTcp(*endpoint, options);
  if (!socket.ok()) return socket.status();

  state->session.reset(ssh_new());
  ssh_session session = state->session.get();
  if (session == nullptr) return absl::ResourceExhaustedError("network tunnel: ssh_new failed");
  // The session owns nothing from the machine's configuration: no ~/.ssh/config, no
  // known_hosts files (host keys are checked here, against the config's knownHosts).
  const int no = 0;
  const long timeout_seconds =
      std::max<long>(1, static_cast<long>(absl::ToInt64Seconds(options.connect_timeout)));
  const socket_t fd = socket->get();
  ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(session, SSH_OPTIONS_HOST, endpoint->host.c_str());
  ssh_options_set(session, SSH_OPTIONS_PORT, &endpoint->port);
  ssh_options_set(session, SSH_OPTIONS_USER, endpoint->user.c_str());
  ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_seconds);
  PreferHostKeyTypes(session, host_entries);
  ssh_options_set(session, SSH_OPTIONS_FD, &fd);
  state->ssh_fd = socket->Release();
  // From here CloseSession() disposes of the socket, whichever way Start ends.
  struct Cleanup {
    State* state;
    ~Cleanup() {
      if (state != nullptr) state->CloseSession();
    }
  } cleanup{state.get()};

  if (ssh_connect(session) != SSH_OK) {
    return absl::UnavailableError(StrCat(
        "network tunnel: the SSH handshake with ", server, " failed (", ssh_get_error(session),
        "); check that networkTunnel.sshForwarding.sshEndpoint names an SSH server"));
  }
  if (auto s = CheckHostKey(session, *endpoint, host_entries, strict, log); !s.ok()) return s;
  if (auto s = Login(session, *endpoint, private_key->get()); !s.ok()) return s;
  log.Info("network tunnel: logged in to the SSH server",
           {LogField::Str("server", server), LogField::Str("user", endpoint->user)});

  if (options.probe_target) {
    Channel probe(ssh_channel_new(session));
    if (probe == nullptr) {
      return absl::UnavailableError(
          StrCat("network tunnel: cannot create an SSH channel: ", ssh_get_error(session)));
    }
    const int rc = ssh_channel_open_forward(probe.get(), state->target_host.c_str(), target_port,
                                            kLocalHost, 0);
    if (rc != SSH_OK) {
      return absl::UnavailableError(ChannelOpenError(session, server, state->target));
    }
    ssh_channel_close(probe.get());
  }

  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (listener.get() < 0 ||
      ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener.get(), kListenBacklog) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return absl::InternalError(
        StrCat("network tunnel: cannot listen on ", kLocalHost, ": ", ErrnoText(errno)));
  }
  state->local_port = ntohs(address.sin_port);
  state->listener = std::move(listener);
  state->wake = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  state->event = ssh_event_new();
  if (state->wake.get() < 0 || state->event == nullptr ||
      ssh_event_add_session(state->event, session) != SSH_OK) {
    return absl::InternalError("network tunnel: cannot set up the event loop");
  }

  log.Info("network tunnel: ready",
           {LogField::Str("listen", HostPort(kLocalHost, state->local_port)),
            LogField::Str("server", server), LogField::Str("target", state->target)});
  cleanup.state = nullptr;
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->Run(); });
  return std::unique_ptr<Tunnel>(new Tunnel(std::move(state)));
}

}  // namespace connectors::tunnel
