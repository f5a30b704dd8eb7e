// Validate and Apply against a real PostgreSQL: a new table, an added field, type changes
// (migrated, and incompatible ones reported as INCOMPATIBLE), a removed field, a backfill
// (truncate, or re-create when the key changes), hostile field names, and the errors for wrong
// credentials and missing privileges. Constraints, DDL and resulting columns are snapshotted.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "materialize-postgres/driver.h"
#include "tests/harness/postgres.h"
#include "tests/materialize-postgres/fixtures.h"
#include "tests/snapshot/snapshot.h"

namespace connectors::postgres {
namespace {

using namespace testing;  // NOLINT
using C = materialize::Response::Validated::Constraint;

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = harness::Postgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_.emplace(std::move(*pg));
    config_ = StrCat(R"({"address":"127.0.0.1:)", pg_->port(), R"(","user":"postgres",)",
                     R"("password":")", pg_->password(), R"(","database":"postgres"})");
  }

  // Validates, records constraints, applies with `last` and records the DDL. Returns the spec.
  flow::MaterializationSpec Round(std::string_view title, materialize::Request::Validate request,
                                  const flow::MaterializationSpec* last = nullptr) {
    StrAppend(&log_, "## ", title, "\n");
    if (last != nullptr) *request.mutable_last_materialization() = *last;
    auto validated = driver_.Validate(request, TestLog());
    EXPECT_TRUE(validated.ok()) << validated.status();
    if (!validated.ok()) return {};
    for (const auto& b : validated->bindings()) {
      StrAppend(&log_, "resource path: ", b.resource_path(0), ".", b.resource_path(1),
                b.delta_updates() ? " (delta)" : "", "\n");
      EXPECT_EQ(b.constraints_size(), b.projection_constraints_size());
      for (const auto& pc : b.projection_constraints()) {
        StrAppend(&log_, "  ", pc.field(), ": ", C::Type_Name(pc.constraint().type()), " (",
                  static_cast<int>(pc.constraint().type()), ") ", pc.constraint().reason(), "\n");
      }
    }
    flow::MaterializationSpec spec = SpecOf("acmeCo/materialize", request, *validated);
    materialize::Request::Apply apply;
    *apply.mutable_materialization() = spec;
    if (last != nullptr) *apply.mutable_last_materialization() = *last;
    auto applied = driver_.Apply(apply, TestLog());
    EXPECT_TRUE(applied.ok()) << applied.status();
    if (applied.ok()) StrAppend(&log_, "applied:\n", applied->action_description(), "\n");
    return spec;
  }

  void DumpColumns(std::string_view schema, std::string_view table) {
    auto rows =
        pg_->Exec(StrCat("SELECT column_name, data_type, is_nullable FROM "
                         "information_schema.columns WHERE table_schema = '",
                         schema, "' AND table_name = '", table, "' ORDER BY ordinal_position"));
    ASSERT_TRUE(rows.ok()) << rows.status();
    StrAppend(&log_, "columns of ", schema, ".", table, ":\n");
    for (const auto& r : *rows) StrAppend(&log_, "  ", r[0], " ", r[1], " nullable=", r[2], "\n");
  }

  std::optional<harness::Postgres> pg_;
  std::string config_;
  PostgresDriver driver_;
  std::string log_;
};

std::vector<Field> Things() {
  return {{"id", "/id", {"integer"}, true, true},
          {"name", "/name", {"string"}, true},
          {"score", "/score", {"number", "null"}, false},
          {"flow_document", "", {"object"}, true}};
}

TEST_F(ApplyTest, EvolvesATableThroughSchemaChanges) {
  auto things = [](std::vector<Field> fields) { return Collection("acmeCo/things", fields); };
  const std::string resource = R"({"table":"things","schema":"app"})";
  auto v1 = Round("new table", ValidateRequest(config_, {{resource, things(Things())}}));
  DumpColumns("app", "things");
  ASSERT_TRUE(pg_->Exec("INSERT INTO app.things VALUES (1, 'a', 1.5, '{}')").ok());

  auto fields = Things();
  fields.push_back({"added", "/added", {"boolean"}, false});
  auto v2 = Round("added field", ValidateRequest(config_, {{resource, things(fields)}}), &v1);
  DumpColumns("app", "things");

  // name: string -> integer is not convertible; score: number -> string is migrated.
  fields = Things();
  fields[1].types = {"integer"};
  fields[2].types = {"string", "null"};
  fields.push_back({"added", "/added", {"boolean"}, false});
  auto v3 = Round("type changes", ValidateRequest(config_, {{resource, things(fields)}}), &v2);
  DumpColumns("app", "things");
  auto rows = pg_->Exec("SELECT score FROM app.things");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][0], "1.5") << "migrated values keep their meaning";

  // Removing the required `name` relaxes its NOT NULL.
  fields = {Things()[0], Things()[3]};
  auto v4 = Round("removed field", ValidateRequest(config_, {{resource, things(fields)}}), &v3);
  DumpColumns("app", "things");

  // A user changed a column's type behind our back: reported as incompatible (6).
  ASSERT_TRUE(pg_->Exec("ALTER TABLE app.things ALTER COLUMN added TYPE TEXT").ok());
  fields = Things();
  fields.push_back({"added", "/added", {"boolean"}, false});
  auto request = ValidateRequest(config_, {{resource, things(fields)}});
  *request.mutable_last_materialization() = v4;
  auto validated = driver_.Validate(request, TestLog());
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_EQ(validated->bindings(0).constraints().at("added").type(), 6);
  StrAppend(&log_, "## user altered column\n  added: ",
            validated->bindings(0).constraints().at("added").reason(), "\n");

  // Backfill: the same shape truncates; a changed key re-creates the table.
  fields = Things();
  fields[2].types = {"string", "null"};  // As the column now is.
  auto backfill = ValidateRequest(config_, {{resource, things(fields)}});
  backfill.mutable_bindings(0)->set_backfill(1);
  auto v5 = Round("backfill", backfill, &v4);
  rows = pg_->Exec("SELECT count(*) FROM app.things");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][0], "0");
  fields = Things();
  fields[0].key = false;
  fields[1].key = true;
  auto rekeyed = ValidateRequest(config_, {{resource, things(fields)}});
  rekeyed.mutable_bindings(0)->set_backfill(2);
  Round("backfill with a new key", rekeyed, &v5);
  DumpColumns("app", "things");

  // Re-applying an unchanged spec runs nothing.
  materialize::Request::Apply again;
  *again.mutable_materialization() =
      SpecOf("acmeCo/materialize", rekeyed, *driver_.Validate(rekeyed, TestLog()));
  auto applied = driver_.Apply(again, TestLog());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->action_description(), "");

  snapshot::ExpectMatches("tests/materialize-postgres/snapshots/apply.snap", log_);
}

TEST_F(ApplyTest, HostileAndLongFieldNames) {
  const std::string long_name(80, 'x');
  std::vector<Field> fields = {
      {"id", "/id", {"string"}, true, true},
      {"select", "/select", {"string"}, false},
      {"a\"; DROP TABLE victim; --", "/a\"; DROP TABLE victim; --", {"string"}, false},
      {"Mixed Case", "/Mixed Case", {"integer"}, false},
      {"it's", "/it's", {"boolean"}, false},
      {long_name, "/" + long_name, {"integer"}, false},
      {long_name + "2", "/" + long_name + "2", {"integer"}, false},
      {"flow_document", "", {"object"}, true}};
  ASSERT_TRUE(pg_->Exec("CREATE TABLE victim (x int)").ok());
  Round("hostile names", ValidateRequest(config_, {{R"({"table":"Weird \"Table\"; --"})",
                                                    Collection("acmeCo/weird", fields)}}));
  DumpColumns("public", "Weird \"Table\"; --");
  EXPECT_TRUE(pg_->Exec("SELECT * FROM victim").ok()) << "nothing was injected";
  snapshot::ExpectMatches("tests/materialize-postgres/snapshots/hostile_names.snap", log_);
}

TEST_F(ApplyTest, RequiresKeysAndTheDocument) {
  auto no_doc = ValidateRequest(
      config_, {{R"({"table":"t"})", Collection("acmeCo/t", {Things()[0], Things()[1]})}});
  auto v = driver_.Validate(no_doc, TestLog());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("no projection of the root document"),
            std::string::npos)
      << v.status();
  // Delta updates don't need it.
  no_doc.mutable_bindings(0)->set_resource_config_json(R"({"table":"t","delta_updates":true})");
  EXPECT_TRUE(driver_.Validate(no_doc, TestLog()).ok());

  auto fields = Things();
  fields[0].must = false;
  v = driver_.Validate(
      ValidateRequest(config_, {{R"({"table":"t"})", Collection("acmeCo/t", fields)}}), TestLog());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.status().message()).find("key field \"id\" may be null"),
            std::string::npos)
      << v.status();
}

TEST_F(ApplyTest, WrongCredentialsAndMissingPrivileges) {
  auto bad = ValidateRequest(StrCat(R"({"address":"127.0.0.1:)", pg_->port(),
                                    R"(","user":"postgres","password":"not-the-password"})"),
                             {{R"({"table":"t"})", Collection("acmeCo/t", Things())}});
  auto v = driver_.Validate(bad, TestLog());
  ASSERT_FALSE(v.ok());
  const std::string message(v.status().message());
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find("check the endpoint config's user and password"), std::string::npos);
  EXPECT_EQ(message.find("not-the-password"), std::string::npos) << "secrets never leak";

  ASSERT_TRUE(pg_->Exec("CREATE ROLE weak LOGIN PASSWORD 'weakpw'; "
                        "CREATE SCHEMA locked; REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                  .ok());
  auto weak = ValidateRequest(
      StrCat(R"({"address":"127.0.0.1:)", pg_->port(),
             R"(","user":"weak","password":"weakpw","database":"postgres"})"),
      {{R"({"table":"t","schema":"locked"})", Collection("acmeCo/t", Things())},
       {R"({"table":"u","schema":"brand_new"})", Collection("acmeCo/u", Things())}});
  v = driver_.Validate(weak, TestLog());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kPermissionDenied);
  snapshot::ExpectMatches("tests/materialize-postgres/snapshots/privileges.snap",
                          std::string(v.status().message()));
}

}  // namespace
}  // namespace connectors::postgres
