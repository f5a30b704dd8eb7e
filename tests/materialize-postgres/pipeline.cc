#include "tests/materialize-postgres/pipeline.h"

#include <cstdlib>
#include <fstream>

#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::postgres::testing {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : fs::absolute(value).string();
}

Pipeline::Pipeline(fs::path dir, const harness::Postgres& pg, std::string hello_config)
    : dir_(std::move(dir)) {
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  std::ofstream(dir_ / "catalog.yaml")
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
  process::SpawnOptions options;
  options.argv = {Env("FLOW_LOCAL_BINARY")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.argv.insert(options.argv.end(),
                      {"--catalog", (dir_ / "catalog.yaml").string(), "--data-dir",
                       (dir_ / "data").string(), "--log-level", "warn"});
  options.pipe_stderr = false;
  auto child = process::Subprocess::Spawn(options);
  if (child.ok()) child->CloseStdin();
  return child;
}

int Pipeline::Run(const std::vector<std::string>& args) const {
  auto child = Start(args);
  if (!child.ok()) return -1;
  auto code = child->Wait(absl::Seconds(120));
  return code.ok() ? *code : -1;
}

std::vector<int64_t> Pipeline::JournalIds() const {
  std::ifstream in(dir_ / "data" / "collections" / "acmeCo%2Fgreetings.jsonl");
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
  std::ifstream in(dir_ / "data" / "collections" / "acmeCo%2Fgreetings.jsonl");
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
