// The `networkTunnel` property: schema, ParseNetworkTunnel, ParseSshEndpoint, and the key and
// known_hosts helpers behind them. No network; tunnel_test covers the tunnel itself.
#include <libssh/libssh.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/base/strings.h"
#include "libs/network-tunnel/ssh_keys.h"
#include "libs/network-tunnel/tunnel.h"
#include "libs/schema-gen/validator.h"

namespace connectors::tunnel {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A fresh Ed25519 private key (OpenSSH format), optionally protected by `passphrase`.
std::string NewPrivateKey(const char* passphrase = nullptr) {
  ssh_key key = nullptr;
  EXPECT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
  char* text = nullptr;
  EXPECT_EQ(ssh_pki_export_privkey_base64(key, passphrase, nullptr, nullptr, &text), SSH_OK);
  std::string out = text;
  ssh_string_free_char(text);
  ssh_key_free(key);
  return out;
}

std::string PublicKeyLine(const std::string& private_key) {
  ssh_key key = nullptr;
  EXPECT_EQ(ssh_pki_import_privkey_base64(private_key.c_str(), nullptr, nullptr, nullptr, &key),
            SSH_OK);
  char* text = nullptr;
  EXPECT_EQ(ssh_pki_export_pubkey_base64(key, &text), SSH_OK);
  std::string out = StrCat(ssh_key_type_to_char(ssh_key_type(key)), " ", text);
  ssh_string_free_char(text);
  ssh_key_free(key);
  return out;
}

// JSON string literal of `text`.
std::string Json(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Config(std::string_view endpoint, std::string_view key,
                   std::string_view known_hosts = {}) {
  std::string forwarding =
      StrCat("\"sshEndpoint\":", Json(endpoint), ",\"privateKey\":", Json(key));
  if (!known_hosts.empty()) StrAppend(&forwarding, ",\"knownHosts\":", Json(known_hosts));
  return StrCat("{\"address\":\"db:5432\",\"networkTunnel\":{\"sshForwarding\":{", forwarding,
                "}}}");
}

TEST(NetworkTunnelSchema, HasTheFieldsAndAnnotationsConnectorsExpect) {
  const schema::Schema schema = NetworkTunnelSchema();
  ASSERT_TRUE(schema.Lint().ok()) << schema.Lint();
  const std::string json = schema.ToJson();
  EXPECT_THAT(json, HasSubstr("\"title\":\"Network Tunnel\""));
  EXPECT_THAT(json, HasSubstr("\"title\":\"SSH Forwarding\""));
  EXPECT_THAT(json, HasSubstr("\"sshEndpoint\":{\"title\":\"SSH Endpoint\""));
  EXPECT_THAT(json, HasSubstr("\"pattern\":\"^ssh://.+@.+$\""));
  EXPECT_THAT(json, HasSubstr("\"required\":[\"sshEndpoint\",\"privateKey\"]"));
  EXPECT_THAT(json, HasSubstr("\"order\":1,\"secret\":true,\"multiline\":true}"));
  EXPECT_THAT(json, HasSubstr("\"knownHosts\":{\"title\":\"Known Hosts\""));
  EXPECT_THAT(json, HasSubstr("\"order\":2,\"multiline\":true}"));
  EXPECT_THAT(json, HasSubstr("\"advanced\":true"));

  // Used as a connector's endpoint property, it accepts a tunnel, no tunnel, and rejects a
  // malformed endpoint without echoing the key.
  const std::string endpoint_schema =
      schema::Object("Endpoint").Property("networkTunnel", NetworkTunnelSchema()).ToJson();
  auto validator = schema::Validator::Compile(endpoint_schema);
  ASSERT_TRUE(validator.ok()) << validator.status();
  EXPECT_TRUE(validator->Check(Config("ssh://me@bastion:22", "KEY"), "endpoint config").ok());
  EXPECT_TRUE(validator->Check("{}", "endpoint config").ok());
  const absl::Status bad = validator->Check(Config("bastion", "KEY-TEXT"), "endpoint config");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(
      std::string(MessageOf(bad)),
      AllOf(HasSubstr("/networkTunnel/sshForwarding/sshEndpoint"), Not(HasSubstr("KEY-TEXT"))));
}

TEST(ParseNetworkTunnel, ReadsAValidTunnel) {
  const std::string key = NewPrivateKey();
  const std::string known_hosts = "[bastion.example.com]:2222 " + PublicKeyLine(NewPrivateKey());
  auto parsed = ParseNetworkTunnel(Config("ssh://flow@bastion.example.com:2222", key, known_hosts));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->ssh_endpoint, "ssh://flow@bastion.example.com:2222");
  EXPECT_EQ((*parsed)->private_key, key);
  EXPECT_EQ((*parsed)->known_hosts, known_hosts);

  auto without_known_hosts = ParseNetworkTunnel(Config("ssh://flow@bastion", key));
  ASSERT_TRUE(without_known_hosts.ok()) << without_known_hosts.status();
  ASSERT_TRUE(without_known_hosts->has_value());
  EXPECT_EQ((*without_known_hosts)->known_hosts, "");
}

TEST(ParseNetworkTunnel, AbsentOrEmptyMeansNoTunnel) {
  for (const char* config : {
           R"({})",
           R"({"address":"db:5432"})",
           R"({"networkTunnel":null})",
           R"({"networkTunnel":{}})",
           R"({"networkTunnel":{"sshForwarding":null}})",
           R"({"networkTunnel":{"sshForwarding":{}}})",
           R"({"networkTunnel":{"sshForwarding":{"sshEndpoint":"","privateKey":""}}})",
       }) {
    auto parsed = ParseNetworkTunnel(config);
    ASSERT_TRUE(parsed.ok()) << config << ": " << parsed.status();
    EXPECT_FALSE(parsed->has_value()) << config;
  }
}

TEST(ParseNetworkTunnel, BadEndpointNamesTheField) {
  auto parsed = ParseNetworkTunnel(Config("db.example.com", NewPrivateKey()));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(MessageOf(parsed.status()),
            "networkTunnel.sshForwarding.sshEndpoint: \"db.example.com\" is not "
            "ssh://user@host[:port] (it must start with ssh://)");
}

TEST(ParseNetworkTunnel, OtherErrorsNameTheFieldAndNeverTheKey) {
  const std::string key = NewPrivateKey();
  struct Case {
    std::string config;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not json", "endpoint config is not valid JSON"},
      {"[]", "endpoint config must be a JSON object"},
      {R"({"networkTunnel":"ssh://a@b"})", "networkTunnel: must be an object"},
      {R"({"networkTunnel":{"sshForwarding":[]}})",
       "networkTunnel.sshForwarding: must be an object"},
      {R"({"networkTunnel":{"sshForwarding":{"sshEndpoint":5}}})",
       "networkTunnel.sshForwarding.sshEndpoint: must be a string"},
      {R"({"networkTunnel":{"sshForwarding":{"sshEndpoint":"ssh://a@b"}}})",
       "networkTunnel.sshForwarding.privateKey: is required when sshEndpoint is set"},
      {Config("ssh://a@b", "garbage-key-text"),
       "networkTunnel.sshForwarding.privateKey: is not a private key"},
      {Config("ssh://a@b", key, "bastion ssh-ed25519 not-base64!"),
       "networkTunnel.sshForwarding.knownHosts: line 1: the ssh-ed25519 key is not valid"},
      {Config("ssh://a@b", key, "# comment\nbastion ssh-foo AAAAC3"),
       "networkTunnel.sshForwarding.knownHosts: line 2: unknown key type \"ssh-foo\""},
      {Config("ssh://a@b", key, "bastion"),
       "networkTunnel.sshForwarding.knownHosts: line 1: expected \"host[,host...] key-type "
       "base64-key\""},
  };
  for (const Case& c : cases) {
    auto parsed = ParseNetworkTunnel(c.config);
    ASSERT_FALSE(parsed.ok()) << c.config;
    EXPECT_THAT(std::string(MessageOf(parsed.status())),
                AllOf(StartsWith(c.message), Not(HasSubstr("garbage-key-text"))))
        << c.config;
  }
}

TEST(ParseSshEndpoint, SplitsUserHostAndPort) {
  struct Case {
    std::string endpoint;
    std::string user;
    std::string host;
    int port;
  };
  for (const Case& c : std::vector<Case>{
           {"ssh://flow@bastion.example.com", "flow", "bastion.example.com", 22},
           {"ssh://flow@bastion.example.com:2222", "flow", "bastion.example.com", 2222},
           {"ssh://flow@bastion.example.com:2222/", "flow", "bastion.example.com", 2222},
           {"ssh://flow@10.1.2.3:22", "flow", "10.1.2.3", 22},
           {"ssh://flow@[2001:db8::1]:2200", "flow", "2001:db8::1", 2200},
           {"ssh://flow@[::1]", "flow", "::1", 22},
           {"ssh://flow@example.com@bastion", "flow@example.com", "bastion", 22},
       }) {
    auto endpoint = ParseSshEndpoint(c.endpoint);
    ASSERT_TRUE(endpoint.ok()) << c.endpoint << ": " << endpoint.status();
    EXPECT_EQ(endpoint->user, c.user) << c.endpoint;
    EXPECT_EQ(endpoint->host, c.host) << c.endpoint;
    EXPECT_EQ(endpoint->port, c.port) << c.endpoint;
  }
}

TEST(ParseSshEndpoint, RejectsMalformedEndpoints) {
  struct Case {
    std::string endpoint;
    std::string why;
  };
  for (const Case& c : std::vector<Case>{
           {"bastion:22", "it must start with ssh://"},
           {"http://flow@bastion", "it must start with ssh://"},
           {"ssh://bastion", "the SSH user is missing"},
           {"ssh://flow@", "the host is missing"},
           {"ssh://flow@:22", "the host is missing"},
           {"ssh://flow@bastion:", "the port after : is empty"},
           {"ssh://flow@bastion:0", "the port must be a number from 1 to 65535"},
           {"ssh://flow@bastion:65536", "the port must be a number from 1 to 65535"},
           {"ssh://flow@bastion:22x", "the port must be a number from 1 to 65535"},
           {"ssh://flow@[::1", "is not closed with ]"},
           {"ssh://flow@bas tion", "characters a host name cannot have"},
       }) {
    auto endpoint = ParseSshEndpoint(c.endpoint);
    ASSERT_FALSE(endpoint.ok()) << c.endpoint;
    EXPECT_THAT(std::string(MessageOf(endpoint.status())),
                AllOf(StartsWith(StrCat("networkTunnel.sshForwarding.sshEndpoint: \"", c.endpoint,
                                        "\" is not ssh://user@host[:port] (")),
                      HasSubstr(c.why)));
  }
  // A password is never quoted back.
  auto with_password = ParseSshEndpoint("ssh://flow:hunter2@bastion");
  ASSERT_FALSE(with_password.ok());
  EXPECT_THAT(std::string(MessageOf(with_password.status())),
              AllOf(HasSubstr("must not contain a password"), Not(HasSubstr("hunter2"))));
}

TEST(PrivateKey, SurvivesWhatFormsDoToIt) {
  const std::string key = NewPrivateKey();
  std::string crlf;
  for (char c : key) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  std::string one_line = key;
  for (char& c : one_line) {
    if (c == '\n') c = ' ';
  }
  std::string escaped;
  for (char c : key) {
    if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  std::string indented;
  for (char c : key) {
    indented += c;
    if (c == '\n') indented += "    ";
  }
  for (const std::string& variant : {key, crlf, one_line, escaped, indented,
                                     "\n\n  " + key + "\n\n", key.substr(0, key.size() - 1)}) {
    auto imported = internal::ImportPrivateKey(variant);
    EXPECT_TRUE(imported.ok()) << imported.status();
  }
}

TEST(PrivateKey, ErrorsSayWhatIsWrong) {
  const std::string encrypted = NewPrivateKey("correct horse");
  const std::string public_key = PublicKeyLine(NewPrivateKey());
  struct Case {
    std::string key;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "is empty"},
           {"   \n", "is empty"},
           {public_key, "is a public key"},
           {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
            "is a public key"},
           {"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "is a PuTTY key"},
           {encrypted, "is protected by a passphrase"},
           {"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAtruncated\n-----END OPENSSH PRIVATE "
            "KEY-----\n",
            "could not be read as a PEM or OpenSSH private key"},
           {"password123", "is not a private key"},
       }) {
    auto imported = internal::ImportPrivateKey(c.key);
    ASSERT_FALSE(imported.ok()) << c.message;
    const std::string message(MessageOf(imported.status()));
    EXPECT_THAT(message, StartsWith(StrCat("networkTunnel.sshForwarding.privateKey: ", c.message)));
    EXPECT_THAT(message, Not(HasSubstr("password123")));
    EXPECT_THAT(message, Not(HasSubstr("AAAA")));
  }
}

TEST(KnownHosts, MatchesHostsAsOpenSshDoes) {
  const std::string key = PublicKeyLine(NewPrivateKey());
  auto entries = internal::ParseKnownHosts(
      StrCat("# comment\n"
             "\n"
             "bastion.example.com,10.0.0.5 ",
             key, "\n", "[bastion.example.com]:2222 ", key, " a comment\n",
             "*.corp.example.com,!secret.corp.example.com ", key, "\n",
             "|1|MDEyMzQ1Njc4OWFiY2RlZmdoaWo=|jaHXoMQTU/+rEgquOJTQzPGCF4I= ", key, "\n",
             "|1|MDEyMzQ1Njc4OWFiY2RlZmdoaWo=|6Z2DNlQc17Z2Pqekd1uS9VHHujA= ", key, "\n",
             "@cert-authority *.example.com ", key, "\n", "@revoked revoked.example.com ", key,
             "\n", key, "\n"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 7u);  // The @cert-authority line is skipped.
  const auto& e = *entries;
  EXPECT_TRUE(internal::HostMatches(e[0], "bastion.example.com", 22));
  EXPECT_TRUE(internal::HostMatches(e[0], "BASTION.example.com", 22));
  EXPECT_TRUE(internal::HostMatches(e[0], "10.0.0.5", 22));
  EXPECT_FALSE(internal::HostMatches(e[0], "bastion.example.com", 2222));
  EXPECT_TRUE(internal::HostMatches(e[1], "bastion.example.com", 2222));
  EXPECT_FALSE(internal::HostMatches(e[1], "bastion.example.com", 22));
  EXPECT_TRUE(internal::HostMatches(e[2], "db.corp.example.com", 22));
  EXPECT_FALSE(internal::HostMatches(e[2], "secret.corp.example.com", 22));
  EXPECT_FALSE(internal::HostMatches(e[2], "corp.example.com", 22));
  EXPECT_TRUE(internal::HostMatches(e[3], "example.com", 22));
  EXPECT_FALSE(internal::HostMatches(e[3], "example.org", 22));
  EXPECT_TRUE(internal::HostMatches(e[4], "bastion.example.com", 2222));
  EXPECT_FALSE(internal::HostMatches(e[4], "bastion.example.com", 22));
  EXPECT_TRUE(e[5].revoked);
  EXPECT_TRUE(e[6].hosts.empty());  // A bare key applies to any host.
  EXPECT_TRUE(internal::HostMatches(e[6], "anything", 2200));
  EXPECT_EQ(e[0].type, "ssh-ed25519");
  EXPECT_THAT(internal::Fingerprint(e[0].key.get()), StartsWith("ssh-ed25519 SHA256:"));
}

}  // namespace
}  // namespace connectors::tunnel
