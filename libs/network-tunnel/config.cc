// The `networkTunnel` endpoint-config property: its schema and parsing.
#include <simdjson.h>

#include <cctype>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/network-tunnel/ssh_keys.h"
#include "libs/network-tunnel/tunnel.h"

namespace connectors::tunnel {
namespace {

using internal::kEndpointField;
using internal::kKnownHostsField;
using internal::kPrivateKeyField;

constexpr std::string_view kScheme = "ssh://";

// The endpoint quoted in errors, cut short: it names a user and a host, nothing secret (one
// with a password in it is rejected without being quoted).
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 100;
  if (text.size() > kMax) return StrCat("\"", text.substr(0, kMax), "...\"");
  return StrCat("\"", text, "\"");
}

absl::Status BadEndpoint(std::string_view endpoint, std::string_view why) {
  return absl::InvalidArgumentError(
      StrCat(kEndpointField, ": ", Quote(endpoint), " is not ssh://user@host[:port] (", why, ")"));
}

// A string member: absent and null are nullopt; anything else but a string is an error.
absl::StatusOr<std::optional<std::string_view>> StringMember(const simdjson::dom::object& object,
                                                             std::string_view key,
                                                             std::string_view field) {
  simdjson::dom::element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::optional<std::string_view>();
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat(field, ": must be a string"));
  }
  return std::optional<std::string_view>(text);
}

// An object member: absent and null are nullopt.
absl::StatusOr<std::optional<simdjson::dom::object>> ObjectMember(
    const simdjson::dom::object& object, std::string_view key, std::string_view field) {
  simdjson::dom::element value;
  if (object.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::optional<simdjson::dom::object>();
  }
  simdjson::dom::object member;
  if (value.get_object().get(member) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat(field, ": must be an object"));
  }
  return std::optional<simdjson::dom::object>(member);
}

}  // namespace

schema::Schema NetworkTunnelSchema() {
  using schema::Object;
  using schema::String;
  return Object("Network Tunnel",
                "Connect to your system through an SSH server that acts as a bastion host for "
                "your network.")
      .Advanced()
      .Property(
          "sshForwarding",
          Object("SSH Forwarding")
              .Property("sshEndpoint",
                        String("SSH Endpoint",
                               "Address of the SSH server that forwards connections to your "
                               "system, in the form ssh://user@hostname[:port].")
                            .Pattern("^ssh://.+@.+$")
                            .Order(0))
              .Property("privateKey",
                        String("SSH Private Key",
                               "Private key that the SSH user logs in with: RSA, ECDSA or "
                               "Ed25519, in PEM or OpenSSH format, without a passphrase.")
                            .Secret()
                            .Multiline()
                            .Order(1))
              .Property("knownHosts",
                        String("Known Hosts",
                               "Optional known_hosts lines for the SSH server (as "
                               "`ssh-keyscan -p PORT HOST` prints them). When given, the "
                               "server's host key must match one of them; when empty, any host "
                               "key is accepted and its fingerprint is logged.")
                            .Multiline()
                            .Order(2))
              .Required({"sshEndpoint", "privateKey"}));
}

absl::StatusOr<SshEndpoint> ParseSshEndpoint(std::string_view ssh_endpoint) {
  const std::string_view endpoint = ssh_endpoint;
  if (endpoint.substr(0, kScheme.size()) != kScheme) {
    return BadEndpoint(endpoint, "it must start with ssh://");
  }
  std::string_view rest = endpoint.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos || at == 0) {
    return BadEndpoint(endpoint, "the SSH user is missing: write it before an @");
  }
  SshEndpoint out;
  const std::string_view user = rest.substr(0, at);
  if (user.find(':') != std::string_view::npos) {
    // Never quote it: what follows the colon is probably a password.
    return absl::InvalidArgumentError(
        StrCat(kEndpointField,
               ": must not contain a password (user:password@...); the tunnel logs in with the "
               "private key, so write ssh://user@host[:port]"));
  }
  out.user = std::string(user);
  std::string_view host_port = rest.substr(at + 1);
  std::string_view port_text;
  if (!host_port.empty() && host_port[0] == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      return BadEndpoint(endpoint, "an IPv6 address opened with [ is not closed with ]");
    }
    out.host = std::string(host_port.substr(1, close - 1));
    std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadEndpoint(endpoint, "unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return BadEndpoint(endpoint, "the port after : is empty");
    }
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon != std::string_view::npos && host_port.find(':') == colon) {
      out.host = std::string(host_port.substr(0, colon));
      port_text = host_port.substr(colon + 1);
      if (port_text.empty()) return BadEndpoint(endpoint, "the port after : is empty");
    } else {
      out.host = std::string(host_port);  // No port, or a bare IPv6 address.
    }
  }
  if (out.host.empty()) return BadEndpoint(endpoint, "the host is missing");
  for (char c : out.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '@' || c == '?' ||
        c == '#') {
      return BadEndpoint(endpoint, "the host contains characters a host name cannot have");
    }
  }
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) {
        return BadEndpoint(endpoint, "the port must be a number from 1 to 65535");
      }
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) {
      return BadEndpoint(endpoint, "the port must be a number from 1 to 65535");
    }
    out.port = port;
  }
  return out;
}

absl::StatusOr<std::optional<SshForwarding>> ParseNetworkTunnel(
    std::string_view endpoint_config_json) {
  json::Parser parser;
  auto root = parser.Parse(endpoint_config_json);
  if (!root.ok()) {
    return absl::InvalidArgumentError(
        StrCat("endpoint config is not valid JSON: ", MessageOf(root.status())));
  }
  simdjson::dom::object config;
  if (root->get_object().get(config) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("endpoint config must be a JSON object");
  }
  auto network_tunnel = ObjectMember(config, "networkTunnel", "networkTunnel");
  if (!network_tunnel.ok()) return network_tunnel.status();
  if (!network_tunnel->has_value()) return std::optional<SshForwarding>();
  auto forwarding = ObjectMember(**network_tunnel, "sshForwarding", "networkTunnel.sshForwarding");
  if (!forwarding.ok()) return forwarding.status();
  if (!forwarding->has_value()) return std::optional<SshForwarding>();

  auto endpoint = StringMember(**forwarding, "sshEndpoint", kEndpointField);
  if (!endpoint.ok()) return endpoint.status();
  // "In use" means a non-empty sshEndpoint, as in every connector until now.
  if (!endpoint->has_value() || (*endpoint)->empty()) return std::optional<SshForwarding>();
  if (auto parsed = ParseSshEndpoint(**endpoint); !parsed.ok()) return parsed.status();

  auto private_key = StringMember(**forwarding, "privateKey", kPrivateKeyField);
  if (!private_key.ok()) return private_key.status();
  if (!private_key->has_value()) {
    return absl::InvalidArgumentError(
        StrCat(kPrivateKeyField, ": is required when sshEndpoint is set"));
  }
  if (auto key = internal::ImportPrivateKey(**private_key); !key.ok()) return key.status();

  auto known_hosts = StringMember(**forwarding, "knownHosts", kKnownHostsField);
  if (!known_hosts.ok()) return known_hosts.status();
  if (known_hosts->has_value()) {
    if (auto entries = internal::ParseKnownHosts(**known_hosts); !entries.ok()) {
      return entries.status();
    }
  }

  SshForwarding out;
  out.ssh_endpoint = std::string(**endpoint);
  out.private_key = std::string(**private_key);
  if (known_hosts->has_value()) out.known_hosts = std::string(**known_hosts);
  return std::optional<SshForwarding>(std::move(out));
}

}  // namespace connectors::tunnel
