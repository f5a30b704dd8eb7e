#include "tests/runtime/catalog.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/json/writer.h"

namespace connectors::local {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTestData = "tests/runtime/testdata/catalog";

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// A fresh directory under the test's scratch space.
fs::path ScratchDir(std::string_view name) {
  const char* root = std::getenv("TEST_TMPDIR");
  fs::path dir = fs::path(root != nullptr ? root : "/tmp") / "catalog_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// The testdata catalog copied somewhere writable, so round trips can write next to it.
fs::path CopyOfTestData(std::string_view name) {
  const fs::path dir = ScratchDir(name);
  fs::copy(kTestData, dir, fs::copy_options::recursive);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The full example.

TEST(LoadCatalogTest, LoadsTheFullExample) {
  const std::string path = std::string(kTestData) + "/flow.yaml";
  absl::StatusOr<Catalog> catalog = LoadCatalog(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_EQ(catalog->path, path);
  ASSERT_EQ(catalog->captures.size(), 2u);
  ASSERT_EQ(catalog->collections.size(), 3u);
  ASSERT_EQ(catalog->materializations.size(), 1u);

  const Capture& hello = catalog->captures.at("acmeCo/hello");
  EXPECT_EQ(hello.name, "acmeCo/hello");
  EXPECT_EQ(hello.endpoint.kind, Endpoint::Kind::kLocal);
  EXPECT_EQ(
      hello.endpoint.command,
      (std::vector<std::string>{"bazel-bin/source-hello-world/source-hello-world", "--flag"}));
  EXPECT_EQ(hello.endpoint.env, (std::map<std::string, std::string>{{"LOG_LEVEL", "debug"}}));
  EXPECT_TRUE(hello.endpoint.protobuf);
  EXPECT_EQ(hello.endpoint.config_json, R"({"greeting":"Hi","count":3})");
  EXPECT_EQ(hello.endpoint.config_path, "");
  EXPECT_EQ(hello.interval, absl::Seconds(30));
  ASSERT_EQ(hello.bindings.size(), 1u);
  EXPECT_EQ(hello.bindings[0].resource_json, R"({"name":"greetings"})");
  EXPECT_EQ(hello.bindings[0].target, "acmeCo/greetings");
  EXPECT_FALSE(hello.bindings[0].disable);
  EXPECT_EQ(hello.bindings[0].backfill, 0u);

  const Capture& postgres = catalog->captures.at("acmeCo/postgres");
  EXPECT_EQ(postgres.endpoint.kind, Endpoint::Kind::kImage);
  EXPECT_EQ(postgres.endpoint.image, "localhost/source-postgres:dev");
  EXPECT_FALSE(postgres.endpoint.protobuf);
  EXPECT_EQ(postgres.interval, absl::Minutes(5));
  ASSERT_EQ(postgres.bindings.size(), 2u);
  EXPECT_EQ(postgres.bindings[0].backfill, 2u);
  EXPECT_EQ(postgres.bindings[1].resource_json, R"({"namespace":"public","stream":"orders"})");
  EXPECT_TRUE(postgres.bindings[1].disable);

  const Collection& greetings = catalog->collections.at("acmeCo/greetings");
  EXPECT_EQ(greetings.name, "acmeCo/greetings");
  EXPECT_EQ(greetings.key, std::vector<std::string>{"/id"});
  EXPECT_EQ(greetings.write_schema_json,
            R"({"type":"object","properties":{"id":{"type":"integer"},)"
            R"("message":{"type":"string"}},"required":["id"]})");
  EXPECT_EQ(greetings.read_schema_json, "");

  const Materialization& to_postgres = catalog->materializations.at("acmeCo/to-postgres");
  EXPECT_EQ(to_postgres.endpoint.kind, Endpoint::Kind::kGrpc);
  EXPECT_EQ(to_postgres.endpoint.address, "127.0.0.1:9000");
  EXPECT_EQ(to_postgres.endpoint.config_json,
            R"({"address":"localhost:5432","database":"postgres"})");
  ASSERT_EQ(to_postgres.bindings.size(), 2u);
  const MaterializationBinding& first = to_postgres.bindings[0];
  EXPECT_EQ(first.source, "acmeCo/greetings");
  EXPECT_EQ(first.resource_json, R"({"table":"greetings"})");
  EXPECT_TRUE(first.fields.recommended);
  EXPECT_EQ(first.fields.include, (std::map<std::string, std::string>{{"extra_field", "{}"}}));
  EXPECT_EQ(first.fields.exclude, std::vector<std::string>{"other"});
  EXPECT_EQ(first.backfill, 1u);
  EXPECT_EQ(to_postgres.bindings[1].resource_json, R"({"table":"users","delta_updates":true})");
  EXPECT_EQ(to_postgres.bindings[1].fields, FieldSelection());
}

TEST(LoadCatalogTest, ReadsReferencedYamlAndJsonFiles) {
  absl::StatusOr<Catalog> catalog = LoadCatalog(std::string(kTestData) + "/flow.yaml");
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const Capture& postgres = catalog->captures.at("acmeCo/postgres");
  EXPECT_EQ(postgres.endpoint.config_path, "postgres.config.yaml");
  EXPECT_EQ(postgres.endpoint.config_json,
            R"({"address":"localhost:5432","user":"flow_capture","password":"secret",)"
            R"("database":"postgres"})");
  EXPECT_EQ(postgres.bindings[0].resource_path, "users.resource.json");
  EXPECT_EQ(postgres.bindings[0].resource_json, R"({"namespace":"public","stream":"users"})");

  const Collection& users = catalog->collections.at("acmeCo/users");
  EXPECT_EQ(users.key, (std::vector<std::string>{"/tenant", "/id"}));
  EXPECT_EQ(users.write_schema_path, "users.schema.json");
  EXPECT_EQ(users.write_schema_json,
            R"({"type":"object","properties":{"tenant":{"type":"string"},)"
            R"("id":{"type":"integer"},"score":{"type":"number","maximum":1500.0}},)"
            R"("required":["tenant","id"]})");
  EXPECT_EQ(users.read_schema_path, "");
  EXPECT_EQ(users.read_schema_json, R"({"type":"object","required":["tenant","id"]})");

  const Collection& orders = catalog->collections.at("acmeCo/orders");
  EXPECT_EQ(orders.write_schema_path, "orders.schema.yaml");
  EXPECT_EQ(orders.write_schema_json,
            R"({"type":"object","properties":{"id":{"type":"integer"},"note":{"description":)"
            R"("Free text the customer typed.\nMay span lines.\n","type":["string","null"]}},)"
            R"("required":["id"]})");
}

TEST(LoadCatalogTest, EmptyFileIsAnEmptyCatalog) {
  const fs::path dir = ScratchDir("empty");
  WriteFile(dir / "flow.yaml", "# nothing yet\n");
  absl::StatusOr<Catalog> catalog = LoadCatalog((dir / "flow.yaml").string());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  EXPECT_TRUE(catalog->captures.empty());
  EXPECT_TRUE(catalog->collections.empty());
  EXPECT_EQ(ToYaml(*catalog), "{}\n");
}

TEST(LoadCatalogTest, MissingCatalogIsNotFound) {
  absl::StatusOr<Catalog> catalog = LoadCatalog("tests/runtime/testdata/catalog/nope.yaml");
  EXPECT_EQ(catalog.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(catalog.status()),
            "cannot read tests/runtime/testdata/catalog/nope.yaml: No such file or directory");
}

// ---------------------------------------------------------------------------------------------
// Errors: each names file:line:column, the key path, and what is wrong.

struct ErrorCase {
  std::string_view name;
  std::string_view yaml;
  std::string_view message;  // After "<dir>/flow.yaml:".
};

// Declares collection a/c so that bindings have something to point at.
constexpr std::string_view kCollection = R"(
collections:
  a/c: {key: [/id], schema: {type: object}}
)";

const ErrorCase kErrorCases[] = {
    {"unknown top-level key", "captures: {}\ntests: {}\n",
     R"(2:1: unknown key "tests"; expected one of: captures, collections, materializations)"},
    {"not a mapping", "- a\n- b\n", "1:1: expected a mapping, found a sequence"},
    {"syntax error", "captures:\n  a/b: [\n", "3:1: end of sequence flow not found"},
    {"several documents", "captures: {}\n---\ncollections: {}\n",
     "3:1: expected one YAML document, found several"},
    {"unknown endpoint key", R"(
captures:
  a/b:
    endpoint:
      docker: {image: x}
)",
     R"(5:7: captures.a/b.endpoint: unknown key "docker"; expected one of: local, connector, grpc)"},
    {"two endpoint kinds", R"(
captures:
  a/b:
    endpoint:
      local: {command: [x], config: {}}
      grpc: {address: y, config: {}}
)",
     "5:7: captures.a/b.endpoint: needs exactly one of local, connector, grpc; found local, grpc"},
    {"no endpoint kind", "captures:\n  a/b:\n    endpoint: {}\n",
     "3:15: captures.a/b.endpoint: needs exactly one of local, connector, grpc; found none"},
    {"missing endpoint", "captures:\n  a/b: {bindings: []}\n",
     R"(2:8: captures.a/b: missing required key "endpoint")"},
    {"unknown local key", R"(
captures:
  a/b:
    endpoint:
      local: {command: [x], config: {}, image: y}
)",
     R"(5:41: captures.a/b.endpoint.local: unknown key "image"; expected one of: command, env, )"
     R"(protobuf, config)"},
    {"missing command", "captures:\n  a/b:\n    endpoint:\n      local: {config: {}}\n",
     R"(4:14: captures.a/b.endpoint.local: missing required key "command")"},
    {"empty command", "captures:\n  a/b:\n    endpoint:\n      local: {command: [], config: {}}\n",
     "4:24: captures.a/b.endpoint.local.command: must not be empty"},
    {"missing image", "captures:\n  a/b:\n    endpoint:\n      connector: {config: {}}\n",
     R"(4:18: captures.a/b.endpoint.connector: missing required key "image")"},
    {"missing address", "materializations:\n  a/m:\n    endpoint:\n      grpc: {config: {}}\n",
     R"(4:13: materializations.a/m.endpoint.grpc: missing required key "address")"},
    {"missing config", "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x}\n",
     R"(4:13: captures.a/b.endpoint.grpc: missing required key "config")"},
    {"config is a sequence",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: [1]}\n",
     "4:34: captures.a/b.endpoint.grpc.config: expected a mapping or a file path, found a "
     "sequence"},
    {"config file missing",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: nope.yaml}\n",
     "4:34: captures.a/b.endpoint.grpc.config: cannot read $DIR/nope.yaml: No such file or "
     "directory"},
    {"protobuf not a bool",
     "captures:\n  a/b:\n    endpoint:\n      local: {command: [x], protobuf: 'true', config: "
     "{}}\n",
     "4:39: captures.a/b.endpoint.local.protobuf: expected true or false"},
    {"target not declared", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - resource: {}
        target: a/nope
)",
     R"(7:17: captures.a/b.bindings[0].target: collection "a/nope" is not declared under )"
     R"(collections)"},
    {"missing target", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - resource: {}
        target:
)",
     "7:9: captures.a/b.bindings[0].target: expected a string, found null"},
    {"typo in binding key", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - resource: {}
        taget: a/c
)",
     R"(7:9: captures.a/b.bindings[0]: unknown key "taget"; expected one of: resource, target, )"
     R"(disable, backfill)"},
    {"duplicate capture binding", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - {resource: {table: one}, target: a/c}
      - {resource: {table: two}, target: a/c}
)",
     R"(7:9: captures.a/b.bindings[1]: collection "a/c" is already the target of bindings[0])"},
    {"disable: yes is a string", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - {resource: {}, target: a/c, disable: yes}
)",
     "6:46: captures.a/b.bindings[0].disable: expected true or false"},
    {"negative backfill", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - {resource: {}, target: a/c, backfill: -1}
)",
     "6:47: captures.a/b.bindings[0].backfill: expected an integer from 0 to 4294967295"},
    {"interval without unit", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    interval: 30
)",
     R"(5:15: captures.a/b.interval: invalid duration "30": expected a positive duration such )"
     R"(as 30s, 5m or 1h30m)"},
    {"negative interval", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    interval: -5s
)",
     R"(5:15: captures.a/b.interval: invalid duration "-5s": expected a positive duration such )"
     R"(as 30s, 5m or 1h30m)"},
    {"unknown duration unit", R"(
captures:
  a/b:
    endpoint: {grpc: {address: x, config: {}}}
    interval: 2d
)",
     R"(5:15: captures.a/b.interval: invalid duration "2d": expected a positive duration such )"
     R"(as 30s, 5m or 1h30m)"},
    {"key is not a pointer", "collections:\n  a/c: {key: [id], schema: {}}\n",
     R"(2:15: collections.a/c.key[0]: "id" is not a JSON pointer: it must start with '/' (e.g. )"
     R"("/id"))"},
    {"key with a bad escape", "collections:\n  a/c: {key: [/a~2], schema: {}}\n",
     R"(2:15: collections.a/c.key[0]: "/a~2" is not a JSON pointer: JSON pointer "/a~2": bad escape )"
     R"(at offset 2 ('~' must be followed by '0' or '1'))"},
    {"empty key", "collections:\n  a/c: {key: [], schema: {}}\n",
     "2:14: collections.a/c.key: expected a sequence of JSON pointers such as [/id]"},
    {"missing schema", "collections:\n  a/c: {key: [/id]}\n",
     R"(2:8: collections.a/c: missing required key "schema" (or writeSchema and readSchema))"},
    {"schema and writeSchema",
     "collections:\n  a/c: {key: [/id], schema: {}, writeSchema: {}, readSchema: {}}\n",
     "2:29: collections.a/c.schema: use either schema, or writeSchema and readSchema, not both"},
    {"writeSchema alone", "collections:\n  a/c: {key: [/id], writeSchema: {}}\n",
     "2:8: collections.a/c: writeSchema and readSchema go together; give both or use schema"},
    {"duplicate collection",
     "collections:\n  a/c: {key: [/id], schema: {}}\n  a/c: {key: [/id], schema: {}}\n",
     R"(3:3: collections: duplicate key "a/c" (first at line 2))"},
    {"bad name", "collections:\n  a c: {key: [/id], schema: {}}\n",
     R"(2:3: collections: "a c": names must not contain spaces or controls)"},
    {"source not declared", R"(
materializations:
  a/m:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - {source: a/x, resource: {}}
)",
     R"(6:18: materializations.a/m.bindings[0].source: collection "a/x" is not declared under )"
     R"(collections)"},
    {"include is not a mapping", R"(
materializations:
  a/m:
    endpoint: {grpc: {address: x, config: {}}}
    bindings:
      - source: a/c
        resource: {}
        fields: {include: {f: true}}
)",
     "8:31: materializations.a/m.bindings[0].fields.include.f: expected a mapping of field "
     "options (use {} for none), found a scalar"},
    {"infinity in config",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: {limit: .inf}}\n",
     "4:42: captures.a/b.endpoint.grpc.config.limit: .inf has no JSON form (JSON numbers are "
     "finite)"},
    {"integer beyond 64 bits",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: {n: "
     "18446744073709551616}}\n",
     "4:38: captures.a/b.endpoint.grpc.config.n: integer 18446744073709551616 does not fit in 64 "
     "bits"},
    {"custom tag",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: {n: !env X}}\n",
     R"(4:38: captures.a/b.endpoint.grpc.config.n: unsupported tag "!env" (only !!str, !!int, )"
     R"(!!float, !!bool, !!null, !!map and !!seq))"},
    {"recursive alias",
     "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: &c {c: [*c]}}\n",
     "4:41: captures.a/b.endpoint.grpc.config.c[0].c[0].c[0]"},
};

TEST(LoadCatalogTest, ErrorsNameFileLineColumnAndKeyPath) {
  const fs::path dir = ScratchDir("errors");
  const std::string path = (dir / "flow.yaml").string();
  for (const ErrorCase& c : kErrorCases) {
    SCOPED_TRACE(c.name);
    std::string yaml(c.yaml);
    // Cases that bind to a/c get it declared after their own lines, so line numbers stay put.
    if (yaml.find("a/c") != std::string::npos && !yaml.starts_with("collections:")) {
      yaml += kCollection;
    }
    WriteFile(path, yaml);
    absl::StatusOr<Catalog> catalog = LoadCatalog(path);
    ASSERT_FALSE(catalog.ok()) << "accepted:\n" << yaml;
    EXPECT_EQ(catalog.status().code(), absl::StatusCode::kInvalidArgument);
    std::string expected = path + ":" + std::string(c.message);
    if (size_t at = expected.find("$DIR"); at != std::string::npos) {
      expected.replace(at, 4, dir.string());
    }
    if (std::string_view(c.name) == "recursive alias") {
      // The path goes on for hundreds of levels; its start and the reason are what matter.
      EXPECT_TRUE(Message(catalog.status()).starts_with(expected)) << catalog.status();
      EXPECT_NE(Message(catalog.status()).find("...c[0].c[0].c[0]"), std::string::npos)
          << catalog.status();
      EXPECT_NE(Message(catalog.status()).find(": nested deeper than 512 levels"),
                std::string::npos);
      EXPECT_LT(Message(catalog.status()).size(), path.size() + 300);
    } else {
      EXPECT_EQ(Message(catalog.status()), expected);
    }
  }
}

TEST(LoadCatalogTest, ErrorsInsideReferencedFilesNameThatFile) {
  const fs::path dir = ScratchDir("referenced");
  const std::string path = (dir / "flow.yaml").string();
  WriteFile(path, "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: c.yaml}\n");

  WriteFile(dir / "c.yaml", "user: me\nport: .nan\n");
  EXPECT_EQ(Message(LoadCatalog(path).status()),
            (dir / "c.yaml").string() +
                ":2:7: port: .nan has no JSON form (JSON numbers are "
                "finite)");

  WriteFile(dir / "c.yaml", "user: me\n  port: 1\n");
  EXPECT_EQ(Message(LoadCatalog(path).status()),
            (dir / "c.yaml").string() + ":2:7: illegal map value");

  WriteFile(dir / "c.yaml", "- a\n");
  EXPECT_EQ(Message(LoadCatalog(path).status()),
            path + ":4:34: captures.a/b.endpoint.grpc.config: " + (dir / "c.yaml").string() +
                ": expected a mapping, found a sequence");

  WriteFile(path, "captures:\n  a/b:\n    endpoint:\n      grpc: {address: x, config: c.json}\n");
  WriteFile(dir / "c.json", "{\"a\": 1,}");
  EXPECT_EQ(Message(LoadCatalog(path).status()),
            path + ":4:34: captures.a/b.endpoint.grpc.config: " + (dir / "c.json").string() +
                ": invalid JSON (9-byte document): The JSON document has an improper structure: "
                "missing or superfluous commas, braces, missing keys, etc.");
}

// ---------------------------------------------------------------------------------------------
// YAML scalars become JSON by YAML 1.2 core schema rules.

struct TypingCase {
  std::string_view yaml;
  std::string_view json;
};

const TypingCase kTypingCases[] = {
    {"a: 123", R"({"a":123})"},
    {"a: '123'", R"({"a":"123"})"},
    {"a: \"123\"", R"({"a":"123"})"},
    {"a: +12", R"({"a":12})"},
    {"a: 007", R"({"a":7})"},
    {"a: -0", R"({"a":0})"},
    {"a: 0x1F", R"({"a":31})"},
    {"a: 0o17", R"({"a":15})"},
    {"a: 9223372036854775807", R"({"a":9223372036854775807})"},
    {"a: 18446744073709551615", R"({"a":18446744073709551615})"},
    {"a: -9223372036854775808", R"({"a":-9223372036854775808})"},
    {"a: 1e3", R"({"a":1000.0})"},
    {"a: -0.5", R"({"a":-0.5})"},
    {"a: .5", R"({"a":0.5})"},
    {"a: 2.", R"({"a":2.0})"},
    {"a: 6.02E+23", R"({"a":6.02e23})"},
    {"a: 1_000", R"({"a":"1_000"})"},
    {"a: 0b101", R"({"a":"0b101"})"},
    {"a: 12:30", R"({"a":"12:30"})"},
    {"a: 2024-01-01", R"({"a":"2024-01-01"})"},
    {"a: true", R"({"a":true})"},
    {"a: FALSE", R"({"a":false})"},
    {"a: True", R"({"a":true})"},
    {"a: tRUE", R"({"a":"tRUE"})"},
    {"[yes, no, on, off, y, n]", R"(["yes","no","on","off","y","n"])"},
    {"[null, Null, NULL, ~, '~', \"null\"]", R"([null,null,null,null,"~","null"])"},
    {"a:", R"({"a":null})"},
    {"a: ''", R"({"a":""})"},
    {"a: !!str 12", R"({"a":"12"})"},
    {"a: !!float 1", R"({"a":1.0})"},
    {"a: !!int '12'", R"({"a":12})"},
    {"a: !!bool true", R"({"a":true})"},
    {"a: !!null ~", R"({"a":null})"},
    {"a: !!map {b: 1}", R"({"a":{"b":1}})"},
    {"a: .infinity", R"({"a":".infinity"})"},
    {"a: |\n  line one\n  line two\n", R"({"a":"line one\nline two\n"})"},
    {"a: |-\n  kept\n    indented\n", R"({"a":"kept\n  indented"})"},
    {"a: >\n  folded\n  text\n\n  para\n", R"({"a":"folded text\npara\n"})"},
    {"a: \"tab\\there\\nnew\"", R"({"a":"tab\there\nnew"})"},
    {"a: 'it''s'", R"({"a":"it's"})"},
    {"a: plain\n  continued", R"({"a":"plain continued"})"},
    {"a: héllo ✓ 😀", R"({"a":"héllo ✓ 😀"})"},
    {"a: \"\\u00e9\\U0001F600\"", R"({"a":"é😀"})"},
    {"名前: 値", R"({"名前":"値"})"},
    {"b: 1\na: 2\nc: 3", R"({"b":1,"a":2,"c":3})"},
    {"a: &x {k: v}\nb: *x", R"({"a":{"k":"v"},"b":{"k":"v"}})"},
    {"{a: [1, {b: [c]}], d: {}}", R"({"a":[1,{"b":["c"]}],"d":{}})"},
    {"- 1\n-\n- x", R"([1,null,"x"])"},
    {"1: one\ntrue: t", R"({"1":"one","true":"t"})"},
    {"", "null"},
    {"# only a comment\n", "null"},
    {"42", "42"},
};

TEST(YamlTextToJsonTest, TypesScalarsByTheCoreSchema) {
  for (const TypingCase& c : kTypingCases) {
    absl::StatusOr<std::string> json = YamlTextToJson(c.yaml);
    ASSERT_TRUE(json.ok()) << c.yaml << ": " << json.status();
    EXPECT_EQ(*json, c.json) << c.yaml;
  }
}

TEST(YamlTextToJsonTest, RejectsValuesWithoutJsonForm) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"a: .inf", "1:4: a: .inf has no JSON form (JSON numbers are finite)"},
      {"a: [-.Inf]", "1:5: a[0]: -.Inf has no JSON form (JSON numbers are finite)"},
      {"a: .NaN", "1:4: a: .NaN has no JSON form (JSON numbers are finite)"},
      {"a: 1e400", "1:4: a: number 1e400 is out of range"},
      {"a: -9223372036854775809", "1:4: a: integer -9223372036854775809 does not fit in 64 bits"},
      {"a: !!int x", R"(1:4: a: "x" is not a valid !!int)"},
      {"a: !!bool yes", R"(1:4: a: "yes" is not a valid !!bool)"},
      {"{a: 1, a: 2}", R"(1:8: duplicate key "a" (first at line 1))"},
      {"? [a]\n: 1", "1:3: mapping keys must be strings, found a sequence"},
      {"a: \"\\N\"", "1:4: a: string is not valid UTF-8"},
      {"a: [", "1:1: end of sequence flow not found"},
  };
  for (const auto& [yaml, message] : cases) {
    absl::StatusOr<std::string> json = YamlTextToJson(yaml);
    ASSERT_FALSE(json.ok()) << yaml << " gave " << *json;
    EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Message(json.status()), message) << yaml;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON to YAML.

TEST(JsonToYamlTextTest, WritesReadableBlockYaml) {
  const std::string json =
      R"({"name":"x","n":1,"f":1.5,"t":true,"z":null,"s":"123","y":"yes","e":{},"a":[],)"
      R"("list":[1,{"k":"v","k2":[1,2]},[3,4]],"multi":"line1\nline2\n","strip":"a\nb",)"
      R"("nested":{"deep":{"flag":"--flag","colon":"a: b","url":"http://x/y?q=1"}},)"
      R"("ctl":"bell\u0007","empty":"","dur":"30s","utf":"héllo ✓"})";
  EXPECT_EQ(JsonToYamlText(json), R"(name: x
"n": 1
f: 1.5
t: true
z: null
s: "123"
"y": "yes"
e: {}
a: []
list:
  - 1
  - k: v
    k2:
      - 1
      - 2
  - - 3
    - 4
multi: |
  line1
  line2
strip: |-
  a
  b
nested:
  deep:
    flag: --flag
    colon: "a: b"
    url: http://x/y?q=1
ctl: "bell\x07"
empty: ""
dur: 30s
utf: héllo ✓
)");
  EXPECT_EQ(JsonToYamlText("\"top\""), "top\n");
  EXPECT_EQ(JsonToYamlText("[]"), "[]\n");
  EXPECT_EQ(JsonToYamlText("{\"a\":"), "");
}

// Strings that a careless emitter would change: every one must come back as itself, as a
// value, as a key, inside sequences and nested mappings.
const char* const kTrickyStrings[] = {
    "",
    " ",
    "a ",
    " a",
    "-",
    "- a",
    "-a",
    "--flag",
    "---",
    "--- a",
    "...",
    "?",
    "? a",
    ":",
    "a:",
    "a: b",
    "a:b",
    "::1",
    "#",
    "a #b",
    "a#b",
    "&a",
    "*a",
    "!a",
    "|",
    ">",
    "'",
    "\"",
    "%",
    "@",
    "`",
    "[",
    "]",
    "{",
    "}",
    ",",
    "a,b",
    "a[0]",
    "true",
    "True",
    "TRUE",
    "false",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "null",
    "Null",
    "~",
    "123",
    "-1",
    "+1",
    "1.5",
    "1e3",
    "1E3",
    ".5",
    "5.",
    ".inf",
    "-.inf",
    ".NaN",
    "0x1F",
    "0o17",
    "1_000",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "12:30",
    "=",
    "<<",
    "line\nbreak",
    "trailing\n",
    "two trailing\n\n",
    "\nleading",
    " indented\nx",
    "x\n  indented",
    "x\n \ny",
    "x\n\ny",
    "trailing space \nx",
    "tab\tin",
    "\ttab",
    "cr\r\nlf",
    "x\n#not a comment",
    "x\n- y",
    "x\n---\ny",
    "bell\x07",
    "\x7f",
    "\xc2\x85",
    "\xe2\x80\xa8",
    "\xef\xbb\xbf"
    "bom",
    "é",
    "😀",
    "\\",
    "back\\slash",
    "quote\"s",
    "a'b",
    "30s",
    "127.0.0.1:9000",
    "localhost:5432",
    "http://x/y",
    "C:\\path",
    "a  b",
    "#comment",
    "  ",
    "\n",
    "\n\n",
    "a\tb\nc",
    "end with colon:",
    "%YAML",
    "!!str",
    "@at",
    "x: |\n  y",
    "{a: 1}",
    "[1, 2]",
};

std::string StringsDocument(std::string_view s) {
  std::string out;
  json::Writer writer(&out);
  writer.BeginObject().Key("value").String(s).Key(s).BeginArray().String(s);
  writer.BeginObject().Key(s).String(s).Key("k").BeginArray().String(s).EndArray().EndObject();
  writer.BeginArray().String(s).String(s).EndArray();
  writer.EndArray().EndObject();
  return out;
}

TEST(JsonToYamlTextTest, TrickyStringsRoundTrip) {
  for (const char* s : kTrickyStrings) {
    const std::string json = StringsDocument(s);
    const std::string yaml = JsonToYamlText(json);
    absl::StatusOr<std::string> back = YamlTextToJson(yaml);
    ASSERT_TRUE(back.ok()) << json << "\n" << yaml << "\n" << back.status();
    EXPECT_EQ(*back, json) << yaml;
    // A top-level string is its own document.
    std::string top;
    json::AppendQuoted(s, &top);
    EXPECT_EQ(YamlTextToJson(JsonToYamlText(top)).value_or("?"), top) << JsonToYamlText(top);
  }
}

TEST(JsonToYamlTextTest, NumbersRoundTrip) {
  const std::string json =
      R"({"a":1.0,"b":1e16,"c":-0.0,"d":1e-7,"e":123456789012345678,"f":18446744073709551615,)"
      R"("g":-9223372036854775808,"h":0.1,"i":1.5e300})";
  EXPECT_EQ(YamlTextToJson(JsonToYamlText(json)).value_or("?"), json) << JsonToYamlText(json);
}

// ---------------------------------------------------------------------------------------------
// Writing the catalog back.

TEST(ToYamlTest, WritesEditableYaml) {
  Catalog catalog;
  Capture& capture = catalog.captures["acmeCo/hello"];
  capture.name = "acmeCo/hello";
  capture.endpoint.command = {"bin/source-hello-world", "--flag"};
  capture.endpoint.env = {{"LOG_LEVEL", "debug"}};
  capture.endpoint.config_json = R"({"greeting":"Hi","rate":1.5})";
  capture.interval = absl::Minutes(90);
  capture.bindings.push_back({.resource_json = R"({"name":"greetings"})",
                              .target = "acmeCo/greetings",
                              .disable = true,
                              .backfill = 2});
  Collection& collection = catalog.collections["acmeCo/greetings"];
  collection.name = "acmeCo/greetings";
  collection.key = {"/id"};
  collection.write_schema_path = "greetings.schema.yaml";
  collection.write_schema_json = R"({"type":"object"})";
  Materialization& materialization = catalog.materializations["acmeCo/out"];
  materialization.name = "acmeCo/out";
  materialization.endpoint.kind = Endpoint::Kind::kImage;
  materialization.endpoint.image = "localhost/materialize-postgres:dev";
  materialization.endpoint.config_path = "out.config.yaml";
  materialization.bindings.push_back(
      {.source = "acmeCo/greetings",
       .resource_json = R"({"table":"greetings"})",
       .fields = {.recommended = false, .include = {{"extra", "{}"}}, .exclude = {"other"}}});
  EXPECT_EQ(ToYaml(catalog), R"(captures:
  acmeCo/hello:
    endpoint:
      local:
        command:
          - bin/source-hello-world
          - --flag
        env:
          LOG_LEVEL: debug
        config:
          greeting: Hi
          rate: 1.5
    interval: 1h30m
    bindings:
      - resource:
          name: greetings
        target: acmeCo/greetings
        disable: true
        backfill: 2

collections:
  acmeCo/greetings:
    key:
      - /id
    schema: greetings.schema.yaml

materializations:
  acmeCo/out:
    endpoint:
      connector:
        image: localhost/materialize-postgres:dev
        config: out.config.yaml
    bindings:
      - source: acmeCo/greetings
        resource:
          table: greetings
        fields:
          recommended: false
          include:
            extra: {}
          exclude:
            - other
)");
}

TEST(ToYamlTest, FullExampleRoundTrips) {
  const fs::path dir = CopyOfTestData("roundtrip");
  absl::StatusOr<Catalog> original = LoadCatalog((dir / "flow.yaml").string());
  ASSERT_TRUE(original.ok()) << original.status();
  const std::string written = (dir / "written.yaml").string();
  WriteFile(written, ToYaml(*original));
  absl::StatusOr<Catalog> reloaded = LoadCatalog(written);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << "\n" << ToYaml(*original);
  EXPECT_EQ(reloaded->path, written);
  reloaded->path = original->path;
  EXPECT_TRUE(*reloaded == *original) << ToYaml(*original) << "\n---\n" << ToYaml(*reloaded);
  // Tasks are separated by blank lines.
  EXPECT_NE(ToYaml(*original).find("target: acmeCo/greetings\n\n  acmeCo/postgres:\n"),
            std::string::npos);
  // Referenced files stay referenced.
  EXPECT_NE(ToYaml(*original).find("config: postgres.config.yaml\n"), std::string::npos);
  EXPECT_NE(ToYaml(*original).find("writeSchema: users.schema.json\n"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Merging discovered bindings.

DiscoveredBinding Discovered(std::string name, std::string resource, std::string schema,
                             std::vector<std::string> key, bool disable = false) {
  return {std::move(name), std::move(resource), std::move(schema), std::move(key), disable};
}

TEST(MergeDiscoveredTest, AddsAndUpdatesBindingsAndCollections) {
  const fs::path dir = CopyOfTestData("merge");
  absl::StatusOr<Catalog> loaded = LoadCatalog((dir / "flow.yaml").string());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Catalog catalog = *loaded;
  const std::vector<DiscoveredBinding> discovered = {
      // Same resource as the existing binding; its collection's schema changed.
      Discovered("users", R"({ "namespace": "public", "stream": "users" })",
                 R"({"type": "object", "required": ["id"]})", {"/id"}),
      // The existing binding's resource gains a field.
      Discovered("orders", R"({"namespace":"public","stream":"orders","cursor":"updated"})",
                 R"({"type":"object"})", {"/id"}),
      // New, and proposed disabled.
      Discovered("public/invoices", R"({"namespace":"public","stream":"invoices"})",
                 R"({"type":"object","properties":{"no":{"type":"integer"}}})", {"/no"}, true),
  };
  ASSERT_TRUE(MergeDiscovered(catalog, "acmeCo/postgres", discovered, "acmeCo").ok());

  const Capture& capture = catalog.captures.at("acmeCo/postgres");
  ASSERT_EQ(capture.bindings.size(), 3u);
  // Unchanged resource: still read from its file; the user's backfill stays.
  EXPECT_EQ(capture.bindings[0], loaded->captures.at("acmeCo/postgres").bindings[0]);
  EXPECT_EQ(capture.bindings[1].resource_json,
            R"({"namespace":"public","stream":"orders","cursor":"updated"})");
  EXPECT_TRUE(capture.bindings[1].disable);  // The user's choice stays.
  EXPECT_EQ(capture.bindings[2],
            (CaptureBinding{.resource_json = R"({"namespace":"public","stream":"invoices"})",
                            .target = "acmeCo/public/invoices",
                            .disable = true}));

  const Collection& users = catalog.collections.at("acmeCo/users");
  EXPECT_EQ(users.key, std::vector<std::string>{"/id"});
  EXPECT_EQ(users.write_schema_json, R"({"type":"object","required":["id"]})");
  EXPECT_EQ(users.write_schema_path, "");  // Changed, so now inline.
  EXPECT_EQ(users.read_schema_json, loaded->collections.at("acmeCo/users").read_schema_json);
  EXPECT_EQ(catalog.collections.at("acmeCo/orders").write_schema_json, R"({"type":"object"})");
  EXPECT_EQ(catalog.collections.at("acmeCo/public/invoices"),
            (Collection{.name = "acmeCo/public/invoices",
                        .key = {"/no"},
                        .write_schema_json =
                            R"({"type":"object","properties":{"no":{"type":"integer"}}})"}));

  // Unrelated tasks and collections are untouched.
  EXPECT_EQ(catalog.captures.at("acmeCo/hello"), loaded->captures.at("acmeCo/hello"));
  EXPECT_EQ(catalog.collections.at("acmeCo/greetings"), loaded->collections.at("acmeCo/greetings"));
  EXPECT_EQ(catalog.materializations, loaded->materializations);

  // Discovering the same again changes nothing.
  Catalog again = catalog;
  ASSERT_TRUE(MergeDiscovered(again, "acmeCo/postgres", discovered, "acmeCo/").ok());
  EXPECT_TRUE(again == catalog);

  // And the merged catalog is written out and read back as it is.
  const std::string written = (dir / "merged.yaml").string();
  WriteFile(written, ToYaml(catalog));
  absl::StatusOr<Catalog> reloaded = LoadCatalog(written);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << "\n" << ToYaml(catalog);
  reloaded->path = catalog.path;
  EXPECT_TRUE(*reloaded == catalog) << ToYaml(catalog);
}

TEST(MergeDiscoveredTest, FillsACaptureWithoutBindings) {
  Catalog catalog;
  catalog.captures["acmeCo/new"].name = "acmeCo/new";
  ASSERT_TRUE(MergeDiscovered(catalog, "acmeCo/new",
                              {Discovered("greetings", R"({"name":"greetings"})",
                                          R"({"type":"object"})", {"/ts", "/id"})},
                              "acmeCo/hello/")
                  .ok());
  ASSERT_EQ(catalog.captures["acmeCo/new"].bindings.size(), 1u);
  EXPECT_EQ(catalog.captures["acmeCo/new"].bindings[0].target, "acmeCo/hello/greetings");
  EXPECT_EQ(catalog.collections.at("acmeCo/hello/greetings").key,
            (std::vector<std::string>{"/ts", "/id"}));
}

TEST(MergeDiscoveredTest, RejectsBadInputWithoutChangingAnything) {
  Catalog catalog;
  catalog.captures["acmeCo/new"].name = "acmeCo/new";
  const Catalog before = catalog;
  const DiscoveredBinding good = Discovered("a", "{}", "{}", {"/id"});
  struct Case {
    std::string capture;
    std::vector<DiscoveredBinding> discovered;
    std::string prefix;
    absl::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {"acmeCo/none",
       {good},
       "acmeCo",
       absl::StatusCode::kNotFound,
       R"(capture "acmeCo/none" is not in the catalog)"},
      {"acmeCo/new",
       {good},
       "/",
       absl::StatusCode::kInvalidArgument,
       R"(collection prefix "": names must not be empty)"},
      {"acmeCo/new",
       {good, Discovered("b", "{", "{}", {"/id"})},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 1 ("b"): resource: invalid JSON (1-byte document): The JSON )"
       R"(document has an improper structure: missing or superfluous commas, braces, missing )"
       R"(keys, etc.)"},
      {"acmeCo/new",
       {good, Discovered("b", "{}", "[]", {"/id"})},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 1 ("b"): document schema: expected a JSON object)"},
      {"acmeCo/new",
       {Discovered("b", "{}", "{}", {"id"})},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 0 ("b"): key: "id" is not a JSON pointer: it must start with '/' )"
       R"((e.g. "/id"))"},
      {"acmeCo/new",
       {Discovered("b", "{}", "{}", {})},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 0 ("b"): empty key)"},
      {"acmeCo/new",
       {good, good},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 1: two bindings are named "a")"},
      {"acmeCo/new",
       {Discovered("/a", "{}", "{}", {"/id"})},
       "acmeCo",
       absl::StatusCode::kInvalidArgument,
       R"(discovered binding 0 ("/a"): names are paths like acmeCo/name, without empty )"
       R"(components)"},
  };
  for (const Case& c : cases) {
    absl::Status status = MergeDiscovered(catalog, c.capture, c.discovered, c.prefix);
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_EQ(Message(status), c.message);
    EXPECT_TRUE(catalog == before);
  }
}

}  // namespace
}  // namespace connectors::local
