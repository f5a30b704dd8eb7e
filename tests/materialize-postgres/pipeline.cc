#include "tests/materialize-postgres/pipeline.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::postgres::testing {

namespace fs = std::filesystem;

std::string Env(const char* name) { return local::testing::RunfileFromEnv(name); }

Pipeline::Pipeline(fs::path dir, const harness::Postgres& pg, std::string hello_config)
    : flow_((fs::remove_all(dir), std::move(dir))) {
  std::ofstream(flow_.dir() / "catalog.yaml")
      << StrCat(R"(captures:
  acmeCo/hello:
    endpoint:
      local:
        command: [")",
                Env("HELLO_WORLD_BINARY"), R"("]
        config: )",
                hello_config, R"(
    bindings:
      - resource: {name: greetings}
        target: acmeCo/greetings
collections:
  acmeCo/greetings:
    key: [/id]
    schema: {type: object, properties: {id: {type: integer}, message: {type: string}, ts: {type: string, format: date-time}}, required: [id, message, ts]}
materializations:
  acmeCo/to-postgres:
    endpoint:
      local:
        command: [")",
                Env("MATERIALIZE_POSTGRES_BINARY"), R"("]
        config: {address: "127.0.0.1:)",
                pg.port(), R"(", user: postgres, password: ")", pg.password(), R"(", schema: flow}
    bindings:
      - source: acmeCo/greetings
        resource: {table: greetings}
      - source: acmeCo/greetings
        resource: {table: greetings_log, delta_updates: true}
)");
}

absl::StatusOr<process::Subprocess> Pipeline::Start(const std::vector<std::string>& args) const {
  return flow_.Start(args);
}

int Pipeline::Run(const std::vector<std::string>& args) const { return flow_.Run(args); }

std::vector<int64_t> Pipeline::JournalIds() const {
  std::istringstream in(flow_.Journal("acmeCo/greetings"));
  std::vector<int64_t> ids;
  json::Parser parser;
  for (std::string line; std::getline(in, line);) {
    auto doc = parser.Parse(line);
    int64_t id = -1;
    if (doc.ok() && (*doc)["id"].get(id) == simdjson::SUCCESS) ids.push_back(id);
  }
  return ids;
}

std::string Pipeline::JournalDocs() const {
  std::istringstream in(flow_.Journal("acmeCo/greetings"));
  std::string out;
  json::Parser parser;
  for (std::string line; std::getline(in, line);) {
    auto doc = parser.Parse(line);
    if (!doc.ok()) continue;
    int64_t id = 0;
    std::string_view message, ts;
    (void)(*doc)["id"].get(id);
    (void)(*doc)["message"].get(message);
    (void)(*doc)["ts"].get(ts);
    StrAppend(&out, id, "|", message, "|", ts, "\n");
  }
  return out;
}

}  // namespace connectors::postgres::testing
