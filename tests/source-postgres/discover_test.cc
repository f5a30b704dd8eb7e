// Discovery of keys and table kinds: primary keys (in index order) win over unique indexes; a
// unique index over NOT NULL columns is a fallback key; nullable or non-unique indexes and
// expression indexes are not keys; keyless tables get the loc key and the keyless mode;
// partitioned tables appear once as their root; views, system schemas, the watermarks table
// and generated columns are left out.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "source-postgres/driver.h"
#include "tests/harness/postgres.h"
#include "tests/snapshot/snapshot.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

TEST(DiscoverTest, KeysAndTableKinds) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto setup = pg->Exec(R"(
    CREATE SCHEMA app;
    CREATE TABLE app.pk_order (b text, a int, c int, PRIMARY KEY (a, b),
                               UNIQUE (c));
    CREATE TABLE app.unique_nn (x int NOT NULL, y int NOT NULL, z int);
    CREATE UNIQUE INDEX z_idx ON app.unique_nn (z);
    CREATE UNIQUE INDEX b_idx ON app.unique_nn (y, x);
    CREATE UNIQUE INDEX a_idx ON app.unique_nn ((x + 1));
    CREATE TABLE app.nullable_unique (x int UNIQUE, y int);
    CREATE INDEX ON app.nullable_unique (y);
    CREATE TABLE app.gen (id int PRIMARY KEY, v int, doubled int GENERATED ALWAYS AS (v * 2) STORED);
    CREATE TABLE app."Mixed Case/Name" ("Weird ~/Key" int PRIMARY KEY);
    CREATE TABLE app.parts (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE app.parts_2024 PARTITION OF app.parts FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE VIEW app.a_view AS SELECT 1 AS one;
    CREATE MATERIALIZED VIEW app.a_matview AS SELECT 1 AS one;
    CREATE TABLE public.flow_watermarks (slot text PRIMARY KEY, watermark text);
    CREATE UNLOGGED TABLE app.unlogged (id int PRIMARY KEY);
  )");
  ASSERT_TRUE(setup.ok()) << setup.status();

  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  ::capture::Request::Discover discover;
  discover.set_config_json(ConfigJson(*pg));
  auto discovered = driver.Discover(discover, log);
  ASSERT_TRUE(discovered.ok()) << discovered.status();

  std::map<std::string, std::string> summary;  // recommended name -> key, mode
  std::map<std::string, std::string> schemas;
  for (const auto& b : discovered->bindings()) {
    std::string key;
    for (const auto& k : b.key()) StrAppend(&key, key.empty() ? "" : ",", k);
    summary[b.recommended_name()] = StrCat(key, " ", b.resource_config_json());
    schemas[b.recommended_name()] = b.document_schema_json();
  }
  const std::map<std::string, std::string> expected = {
      {"app/gen", R"(/id {"namespace":"app","stream":"gen"})"},
      {"app/mixed_case_name", R"(/Weird ~0~1Key {"namespace":"app","stream":"Mixed Case/Name"})"},
      {"app/nullable_unique",
       "/_meta/source/loc/0,/_meta/source/loc/1,/_meta/source/loc/2 "
       R"({"namespace":"app","stream":"nullable_unique","mode":"Without Primary Key"})"},
      {"app/parts", R"(/id,/at {"namespace":"app","stream":"parts"})"},
      {"app/pk_order", R"(/a,/b {"namespace":"app","stream":"pk_order"})"},
      {"app/unique_nn", R"(/y,/x {"namespace":"app","stream":"unique_nn"})"},
  };
  EXPECT_EQ(summary, expected);
  // Generated columns are not captured.
  EXPECT_EQ(schemas["app/gen"].find("doubled"), std::string::npos);
  EXPECT_NE(schemas["app/gen"].find(R"("v":)"), std::string::npos);
  // Key columns are required; others are not.
  json::Parser parser;
  auto pk = parser.Parse(schemas["app/pk_order"]);
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(json::ToJson((*pk)["required"]), R"(["_meta","a","b"])");
}

TEST(DiscoverTest, SpecSnapshot) {
  postgres::PostgresDriver driver;
  const auto spec = driver.Spec();
  json::Parser parser;
  auto config = parser.Parse(spec.config_schema_json());
  ASSERT_TRUE(config.ok());
  std::string text = StrCat("config: ", json::ToJson(*config, true), "\n");
  auto resource = parser.Parse(spec.resource_config_schema_json());
  ASSERT_TRUE(resource.ok());
  StrAppend(&text, "resource: ", json::ToJson(*resource, true), "\n");
  StrAppend(&text, "documentation: ", spec.documentation_url(),
            "\npointers: ", spec.resource_path_pointers(0), " ", spec.resource_path_pointers(1),
            "\n");
  snapshot::ExpectMatches("tests/source-postgres/snapshots/spec.snap", text, {});
}

}  // namespace
}  // namespace connectors::pgtest
