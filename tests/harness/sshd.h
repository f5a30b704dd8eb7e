// A real OpenSSH server for a test (the bastion of Flow's SSH network tunnel): /usr/sbin/sshd
// with a fresh host key, listening on 127.0.0.1 at a free port, accepting public-key logins for
// user() with a key pair generated per server, and TCP forwarding to loopback targets
// (PermitOpen 127.0.0.1:* localhost:*), so a test can open a local port forward through it to
// another harness service. Everything (config, keys, pid file, log) lives in its temp dir.
// The destructor stops sshd and its sessions and deletes the dir.
//
//   auto sshd = harness::Sshd::Start();
//   ASSERT_TRUE(sshd.ok()) << sshd.status();
//   config["networkTunnel"]["sshForwarding"] = {
//       {"sshEndpoint", StrCat("ssh://", sshd->user(), "@", sshd->host(), ":", sshd->port())},
//       {"privateKey", sshd->private_key_pem()}};
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::harness {

class Sshd {
 public:
  // Generates the keys and starts sshd; returns once it answers with its SSH banner. Runs sshd
  // as ServiceAccount(): not root, so it needs no privilege separation directory.
  static absl::StatusOr<Sshd> Start();

  // A moved-from Sshd may only be destroyed or assigned to.
  Sshd(Sshd&&) noexcept;
  Sshd& operator=(Sshd&&) noexcept;
  ~Sshd();

  const std::string& host() const;  // "127.0.0.1"
  int port() const;
  // The account to log in as: the one sshd runs as (the current user, or see ServiceAccount()).
  const std::string& user() const;
  // The client's RSA private key in PEM ("-----BEGIN RSA PRIVATE KEY-----"), the format Flow's
  // network tunnel takes, and its file.
  const std::string& private_key_pem() const;
  std::string private_key_pem_path() const;
  // The client's Ed25519 private key (OpenSSH format), also authorized, and its file.
  const std::string& ed25519_private_key() const;
  std::string ed25519_private_key_path() const;
  // The server's host key, "ssh-ed25519 AAAA...", for known_hosts checks.
  const std::string& host_public_key() const;
  // The temp dir (sshd_config, keys, sshd.log).
  const std::string& dir() const;
  std::string LogTail() const;

  // Stops sshd and every session it forked now; files stay until destruction. Idempotent.
  absl::Status Stop();

 private:
  struct State;
  explicit Sshd(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace connectors::harness
