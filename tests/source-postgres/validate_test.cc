// Validate and bad inputs: every failed prerequisite is listed in one error with the SQL that
// fixes it; unreachable hosts, wrong passwords, unknown databases and missing publications give
// errors that say what to change, and never the password.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "source-postgres/driver.h"
#include "tests/harness/postgres.h"
#include "tests/harness/temp_dir.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

::capture::Request::Validate Request(
    std::string config, const std::vector<std::pair<std::string, std::string>>& tables) {
  ::capture::Request::Validate v;
  v.set_name("acmeCo/source-postgres");
  v.set_config_json(std::move(config));
  for (const auto& [schema, table] : tables) {
    v.add_bindings()->set_resource_config_json(
        StrCat(R"({"namespace":")", schema, R"(","stream":")", table, R"("})"));
  }
  return v;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ValidateTest, ListsEveryFailedCheckWithItsFix) {
  harness::PostgresOptions options;
  options.config = {"wal_level = replica"};
  auto pg = harness::Postgres::Start(options);
  ASSERT_TRUE(pg.ok()) << pg.status();
  ASSERT_TRUE(pg->Exec("CREATE ROLE limited LOGIN PASSWORD 'limited-secret';"
                       "CREATE TABLE public.hidden (id int PRIMARY KEY);"
                       "CREATE TABLE public.keyless (id int, v text);"
                       "GRANT SELECT ON public.keyless TO limited;")
                  .ok());
  std::string config = ConfigJson(*pg);
  config = Replace(config, StrCat(R"("user":")", pg->user()), R"("user":"limited)");
  config = Replace(config, pg->password(), "limited-secret");

  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  auto validated = driver.Validate(
      Request(config, {{"public", "hidden"}, {"public", "keyless"}, {"public", "nope"}}), log);
  ASSERT_FALSE(validated.ok());
  const std::string msg(MessageOf(validated.status()));
  EXPECT_EQ(msg.rfind("the capture cannot run due to the following error(s):", 0), 0u) << msg;
  const std::vector<std::string> expected = {
      R"(wal_level is "replica" (fix: ALTER SYSTEM SET wal_level = logical;)",
      R"(user "limited" must have the REPLICATION attribute (fix: ALTER ROLE "limited" WITH REPLICATION;)",
      R"(publication "flow_publication" does not exist (fix: CREATE PUBLICATION "flow_publication";)",
      R"(cannot write to the watermarks table "public.flow_watermarks")",
      R"(CREATE TABLE IF NOT EXISTS "public"."flow_watermarks" (slot TEXT PRIMARY KEY, watermark TEXT);)",
      R"(table "public.nope" does not exist)",
      R"(cannot read from table "public.hidden" (fix: GRANT SELECT ON "public"."hidden" TO "limited";))",
      R"(table "public.keyless" has no primary key and the default replica identity)",
      R"(ALTER TABLE "public"."keyless" REPLICA IDENTITY FULL;)",
  };
  for (const std::string& e : expected) {
    EXPECT_NE(msg.find(e), std::string::npos) << "missing: " << e << "\nin:\n" << msg;
  }
  size_t lines = 0;
  for (size_t at = 0; (at = msg.find("\n - ", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 7u) << msg;
  EXPECT_EQ(msg.find("limited-secret"), std::string::npos);
}

TEST(ValidateTest, PassesAndPreparesTheDatabase) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  ASSERT_TRUE(pg->Exec("CREATE PUBLICATION flow_publication;"
                       "CREATE TABLE public.users (id int PRIMARY KEY, name text);")
                  .ok());
  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  auto validated = driver.Validate(Request(ConfigJson(*pg), {{"public", "users"}}), log);
  ASSERT_TRUE(validated.ok()) << validated.status();
  ASSERT_EQ(validated->bindings_size(), 1);
  EXPECT_EQ(validated->bindings(0).resource_path(0), "public");
  EXPECT_EQ(validated->bindings(0).resource_path(1), "users");
  // The watermarks table was created and both tables were added to the publication.
  auto published = pg->Exec(
      "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) "
      "FROM pg_publication_tables WHERE pubname = 'flow_publication'");
  ASSERT_TRUE(published.ok());
  EXPECT_EQ((*published)[0][0], "public.flow_watermarks,public.users");
}

TEST(ValidateTest, BadInputsGiveClearErrors) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  const std::string good = ConfigJson(*pg);

  // Nothing listens on a fresh free port.
  auto free_port = harness::FreePort();
  ASSERT_TRUE(free_port.ok());
  const int port = *free_port;
  auto unreachable = driver.Validate(
      Request(Replace(good, StrCat(":", pg->port(), "\""), StrCat(":", port, "\"")), {}), log);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(
      MessageOf(unreachable.status())
          .find(StrCat("could not connect to PostgreSQL at 127.0.0.1:", port, " (check `address`")),
      std::string::npos)
      << unreachable.status();

  auto wrong_password =
      driver.Validate(Request(Replace(good, pg->password(), "not-the-password"), {}), log);
  ASSERT_FALSE(wrong_password.ok());
  const std::string wp(MessageOf(wrong_password.status()));
  EXPECT_NE(wp.find("incorrect username or password"), std::string::npos) << wp;
  EXPECT_EQ(wp.find("not-the-password"), std::string::npos) << wp;

  auto no_database = driver.Validate(
      Request(Replace(good, R"("database":"postgres")", R"("database":"nodb")"), {}), log);
  ASSERT_FALSE(no_database.ok());
  EXPECT_NE(MessageOf(no_database.status()).find(R"(database "nodb" does not exist)"),
            std::string::npos)
      << no_database.status();

  auto no_publication = driver.Validate(
      Request(ConfigJson(*pg, R"("advanced":{"publicationName":"nopub"})"), {}), log);
  ASSERT_FALSE(no_publication.ok());
  EXPECT_NE(MessageOf(no_publication.status())
                .find(R"(publication "nopub" does not exist (fix: CREATE PUBLICATION "nopub";)"),
            std::string::npos)
      << no_publication.status();

  auto bad_address = driver.Validate(
      Request(Replace(good, StrCat(":", pg->port(), "\""), ":notaport\""), {}), log);
  ASSERT_FALSE(bad_address.ok());
  EXPECT_NE(MessageOf(bad_address.status()).find("invalid `address`"), std::string::npos)
      << bad_address.status();
}

}  // namespace
}  // namespace connectors::pgtest
