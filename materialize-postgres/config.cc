#include "materialize-postgres/config.h"

#include <charconv>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/network-tunnel/tunnel.h"

namespace connectors::postgres {

schema::Schema EndpointConfigSchema() {
  using namespace schema;
  return Object("Materialize PostgreSQL", "Connection to a PostgreSQL database.")
      .Property("address", String("Address",
                                  "Host and port of the database, as host[:port] "
                                  "(port 5432 when omitted).")
                               .MinLength(1)
                               .Order(0))
      .Property("user", String("User", "Database user to connect as.").MinLength(1).Order(1))
      .Property("password", String("Password", "Password of the user.").Secret().Order(2))
      .Property("database", String("Database",
                                   "Name of the logical database; the server's "
                                   "default for the user when empty.")
                                .Order(3))
      .Property("schema", String("Database Schema",
                                 "Schema for bound tables without a schema of their own, and "
                                 "for the checkpoints table.")
                              .Default("public")
                              .MinLength(1)
                              .Order(4))
      .Property("sslmode",
                String("SSL Mode", "How to negotiate SSL with the server (libpq sslmode).")
                    .Enum({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
                    .Advanced()
                    .Order(5))
      .Property("hardDelete",
                Boolean("Hard Delete",
                        "Delete rows whose documents are deleted in the collection, instead of "
                        "keeping them with _meta/op set to 'd'.")
                    .Order(6))
      .Property("networkTunnel", tunnel::NetworkTunnelSchema())
      .Required({"address", "user", "password"});
}

absl::StatusOr<EndpointConfig> ParseEndpointConfig(std::string_view json) {
  json::Parser parser;
  auto doc = parser.Parse(json);
  if (!doc.ok())
    return absl::InvalidArgumentError(StrCat("endpoint config: ", MessageOf(doc.status())));
  EndpointConfig config;
  auto text = [&](const char* key, std::string* out) {
    std::string_view v;
    if ((*doc)[key].get(v) == simdjson::SUCCESS) *out = std::string(v);
  };
  std::string address;
  text("address", &address);
  text("user", &config.user);
  text("password", &config.password);
  text("database", &config.database);
  text("schema", &config.schema);
  text("sslmode", &config.sslmode);
  if (config.schema.empty()) config.schema = "public";
  bool hard = false;
  if ((*doc)["hardDelete"].get(hard) == simdjson::SUCCESS) config.hard_delete = hard;

  if (address.empty()) return absl::InvalidArgumentError("endpoint config: address is required");
  config.host = address;
  const size_t colon = address.rfind(':');
  if (colon != std::string::npos && address.find(']', colon) == std::string::npos) {
    const std::string_view port = std::string_view(address).substr(colon + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      return absl::InvalidArgumentError(StrCat("endpoint config: address \"", address,
                                               "\" has an invalid port; use host[:port]"));
    }
    config.port = value;
    config.host = address.substr(0, colon);
  }
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  if (config.host.empty()) {
    return absl::InvalidArgumentError(
        StrCat("endpoint config: address \"", address, "\" has no host; use host[:port]"));
  }
  return config;
}

}  // namespace connectors::postgres
