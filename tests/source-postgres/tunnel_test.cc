// source-postgres through an SSH bastion (networkTunnel.sshForwarding): Validate, backfill and
// replication all reach the database only through the harness's sshd.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "source-postgres/driver.h"
#include "tests/harness/postgres.h"
#include "tests/harness/sshd.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

TEST(TunnelTest, CapturesThroughSshBastion) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto sshd = harness::Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  ASSERT_TRUE(pg->Exec("CREATE PUBLICATION flow_publication;"
                       "CREATE TABLE public.t (id int PRIMARY KEY, v text);"
                       "INSERT INTO public.t VALUES (1, 'backfilled');")
                  .ok());
  std::string tunnel;
  json::Writer w(&tunnel);
  w.BeginObject().Key("sshForwarding").BeginObject();
  w.Key("sshEndpoint").String(StrCat("ssh://", sshd->user(), "@", sshd->host(), ":", sshd->port()));
  w.Key("privateKey").String(sshd->private_key_pem());
  w.EndObject().EndObject();
  const std::string config = ConfigJson(*pg, StrCat(R"("networkTunnel":)", tunnel));

  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  ::capture::Request::Validate validate;
  validate.set_config_json(config);
  validate.add_bindings()->set_resource_config_json(R"({"namespace":"public","stream":"t"})");
  auto validated = driver.Validate(validate, log);
  ASSERT_TRUE(validated.ok()) << validated.status();

  CaptureRun run(config, {{"public", "t"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 1; }));
  ASSERT_TRUE(pg->Exec("INSERT INTO public.t VALUES (2, 'replicated')").ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 2; }));
  ASSERT_TRUE(run.Stop().ok());
  const auto current = Reduce(run.docs(), 0, {"/id"});
  EXPECT_EQ(current.at("1"), R"({"id":1,"v":"backfilled"})");
  EXPECT_EQ(current.at("2"), R"({"id":2,"v":"replicated"})");
  // With sshd gone the tunnel cannot start, and the error says so.
  ASSERT_TRUE(sshd->Stop().ok());
  auto failed = driver.Validate(validate, log);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(MessageOf(failed.status()).find("ssh"), std::string::npos) << failed.status();
}

}  // namespace
}  // namespace connectors::pgtest
