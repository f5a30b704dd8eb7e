// SSH bastion tunnelling for database connectors, in-process with libssh: the `networkTunnel`
// endpoint-config property (schema and parsing) and a local port forward through one SSH
// session. See README.md.
//
//   auto tunnel_config = tunnel::ParseNetworkTunnel(endpoint_config_json);
//   if (!tunnel_config.ok()) return tunnel_config.status();
//   std::unique_ptr<tunnel::Tunnel> tunnel;
//   if (*tunnel_config) {
//     auto started = tunnel::Tunnel::Start(**tunnel_config, db_host, db_port, log);
//     if (!started.ok()) return started.status();
//     tunnel = *std::move(started);
//     db_host = tunnel->local_host();  // "127.0.0.1"
//     db_port = tunnel->local_port();
//   }
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/connector/logging.h"
#include "libs/schema-gen/schema.h"

namespace connectors::tunnel {

// The user's `networkTunnel.sshForwarding` object.
struct SshForwarding {
  std::string ssh_endpoint;  // ssh://user@host[:port]
  std::string private_key;   // PEM or OpenSSH private key, unencrypted. Secret: never logged.
  std::string known_hosts;   // Optional OpenSSH known_hosts lines; empty: accept any host key.
};

// The schema-gen schema of the `networkTunnel` property every database connector adds to its
// endpoint config: advanced, titled "Network Tunnel", with sshForwarding { sshEndpoint,
// privateKey (secret, multiline), knownHosts (optional, multiline) }.
schema::Schema NetworkTunnelSchema();

// Reads the `networkTunnel` object from an endpoint config JSON; nullopt when absent or empty
// (no `sshForwarding`, or an empty `sshEndpoint`). Checks the endpoint, the private key and the
// known_hosts lines; errors name the field, e.g.
//   networkTunnel.sshForwarding.sshEndpoint: "db.example.com" is not ssh://user@host[:port]
absl::StatusOr<std::optional<SshForwarding>> ParseNetworkTunnel(
    std::string_view endpoint_config_json);

// An `sshEndpoint` split into its parts. IPv6 hosts are written in brackets: ssh://u@[::1]:22.
struct SshEndpoint {
  std::string user;
  std::string host;  // Without brackets.
  int port = 22;
};
// Errors name the field as ParseNetworkTunnel does.
absl::StatusOr<SshEndpoint> ParseSshEndpoint(std::string_view ssh_endpoint);

// Tuning knobs with the defaults every connector should use; tests shorten them.
struct TunnelOptions {
  // Bounds the TCP connect to the SSH server, and separately each of the SSH handshake, the
  // login and the probe of the forward target. DNS resolution is bounded by the resolver.
  absl::Duration connect_timeout = absl::Seconds(10);
  // An SSH keepalive (a global request the server must answer) is sent after this much time
  // without one; when nothing at all arrives from the server for keepalive_count_max intervals
  // the session is declared lost. Zero disables both.
  absl::Duration keepalive_interval = absl::Seconds(30);
  int keepalive_count_max = 3;
  // Start() opens (and closes) one forwarded connection to the target before returning, so a
  // target the bastion cannot reach fails Start() with an error naming it, instead of every
  // later connection being dropped.
  bool probe_target = true;
};

// Forwards 127.0.0.1:<free port> through one SSH session to target_host:target_port (as the
// bastion resolves it). A single thread owns the session (libssh sessions are not thread-safe)
// and multiplexes it with every forwarded connection in a poll loop.
class Tunnel {
 public:
  // Connects, verifies the host key (against known_hosts when given, else logs its fingerprint
  // at info), logs in with the private key, probes the target (see TunnelOptions), and starts
  // listening. Returns once the listener is ready, or an error a user can act on that names
  // what failed (never the key).
  static absl::StatusOr<std::unique_ptr<Tunnel>> Start(const SshForwarding& config,
                                                       std::string target_host, int target_port,
                                                       const Logger& log);
  static absl::StatusOr<std::unique_ptr<Tunnel>> Start(const SshForwarding& config,
                                                       std::string target_host, int target_port,
                                                       const Logger& log,
                                                       const TunnelOptions& options);

  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;
  // Clean shutdown: stops accepting, closes every forwarded connection and its channel,
  // disconnects from the SSH server. Joins the tunnel's thread.
  ~Tunnel();

  std::string local_host() const;  // "127.0.0.1"
  int local_port() const;

  // OK while the SSH session is up. Once it is lost (the server disconnected, stopped answering
  // keepalives, or the network failed) the tunnel closes its listener and every forwarded
  // connection, logs the reason at error level, and this returns it; start a new Tunnel.
  absl::Status status() const;

 private:
  struct State;
  explicit Tunnel(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace connectors::tunnel
