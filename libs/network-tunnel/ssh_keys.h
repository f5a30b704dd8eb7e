// Internal: private keys and known_hosts lines as libssh keys, with errors that name the config
// field and never quote the private key.
#pragma once

#include <libssh/libssh.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace connectors::tunnel::internal {

inline constexpr char kEndpointField[] = "networkTunnel.sshForwarding.sshEndpoint";
inline constexpr char kPrivateKeyField[] = "networkTunnel.sshForwarding.privateKey";
inline constexpr char kKnownHostsField[] = "networkTunnel.sshForwarding.knownHosts";

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using Key = std::unique_ptr<ssh_key_struct, KeyDeleter>;

// Undoes what pasting through forms and JSON tends to do to a key: CRLF line ends, indentation,
// surrounding blank lines, a missing final newline, literal "\n" escapes, or the whole key on
// one line with spaces where its line breaks were.
std::string NormalizePrivateKey(std::string_view text);

// Imports an unencrypted RSA, ECDSA or Ed25519 private key in PEM (PKCS#1, SEC1, PKCS#8) or
// OpenSSH format. Errors say what is wrong (empty, a public key, a PuTTY key, passphrase-protected,
// not a key, unreadable) without quoting it.
absl::StatusOr<Key> ImportPrivateKey(std::string_view text);

// "ssh-ed25519 SHA256:..." as OpenSSH prints it.
std::string Fingerprint(ssh_key key);

// One usable known_hosts line.
struct KnownHost {
  int line = 0;                    // 1-based, for messages.
  std::vector<std::string> hosts;  // Patterns, hashed entries (|1|salt|hash), or empty: any host.
  bool revoked = false;            // @revoked marker.
  std::string type;                // "ssh-ed25519", ...
  Key key;
};

// Parses OpenSSH known_hosts text. Blank lines and comments are skipped, as are
// @cert-authority lines (host certificates are not supported; `skipped` counts them). A line may
// also be a bare public key ("ssh-ed25519 AAAA... [comment]"), which then applies to any host.
absl::StatusOr<std::vector<KnownHost>> ParseKnownHosts(std::string_view text,
                                                       int* skipped = nullptr);

// Whether a line's host field matches `host` on `port`, as OpenSSH matches it: the name is
// `host` for port 22 and `[host]:port` otherwise, compared case-insensitively against each
// comma-separated pattern (* and ? wildcards, !negation) or hashed entry.
bool HostMatches(const KnownHost& entry, std::string_view host, int port);

}  // namespace connectors::tunnel::internal
