// The endpoint config of materialize-postgres: its schema (schema-gen) and parsing.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/schema-gen/schema.h"
#include "materialize-postgres/pg_client.h"

namespace connectors::postgres {

struct EndpointConfig {
  std::string host;
  int port = 5432;
  std::string user;
  std::string password;  // Secret.
  std::string database;
  std::string schema = "public";
  std::string sslmode;
  bool hard_delete = false;

  ConnectParams Params() const {
    return ConnectParams{host, port, user, password, database, sslmode};
  }
};

schema::Schema EndpointConfigSchema();

// Parses a config already checked against EndpointConfigSchema. Errors name the field.
absl::StatusOr<EndpointConfig> ParseEndpointConfig(std::string_view json);

}  // namespace connectors::postgres
