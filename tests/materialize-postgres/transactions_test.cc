// Driver-level transactions against a real PostgreSQL: inserts, loads, updates, hard deletes
// and delta appends committed with the checkpoint; recovery of the checkpoint on Open; a
// zombie instance fenced off; and bad input (a value that doesn't fit, a column altered by a
// user, a dropped connection) failing with a clear error and leaving nothing partial.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "libs/materialize-sql/fence.h"
#include "materialize-postgres/driver.h"
#include "materialize-postgres/pg_client.h"
#include "tests/harness/postgres.h"
#include "tests/harness/sshd.h"
#include "tests/materialize-postgres/fixtures.h"

namespace connectors::postgres {
namespace {

using namespace testing;  // NOLINT
using tuple::Element;

using Loads = VectorIterator<materialize::Request::Load>;
using Stores = VectorIterator<materialize::Request::Store>;

class TransactionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = harness::Postgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_.emplace(std::move(*pg));
    const std::string config =
        StrCat(R"({"address":"127.0.0.1:)", pg_->port(), R"(","user":"postgres","password":")",
               pg_->password(), R"(","hardDelete":true})");
    auto request = ValidateRequest(
        config, {{R"({"table":"things"})",
                  Collection("acmeCo/things", {{"id", "/id", {"integer"}, true, true},
                                               {"name", "/name", {"string"}, true},
                                               {"count", "/count", {"integer", "null"}, false},
                                               {"flow_document", "", {"object"}, true}})},
                 {R"({"table":"events","delta_updates":true})",
                  Collection("acmeCo/events", {{"id", "/id", {"string"}, true, true},
                                               {"n", "/n", {"integer"}, true}})}});
    auto validated = driver_.Validate(request, TestLog());
    ASSERT_TRUE(validated.ok()) << validated.status();
    spec_ = SpecOf("acmeCo/materialize", request, *validated);
    materialize::Request::Apply apply;
    *apply.mutable_materialization() = spec_;
    auto applied = driver_.Apply(apply, TestLog());
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  runtime::OpenedTransactor Open() {
    materialize::Request::Open open;
    *open.mutable_materialization() = spec_;
    open.mutable_range()->set_key_begin(0);
    open.mutable_range()->set_key_end(0xffffffff);
    auto opened = driver_.Open(open, TestLog());
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? std::move(*opened) : runtime::OpenedTransactor{};
  }

  // Runs one transaction; returns the loaded documents ("binding:doc" lines) or the error.
  absl::StatusOr<std::string> Transaction(runtime::Transactor& t,
                                          std::vector<materialize::Request::Load> loads,
                                          std::vector<materialize::Request::Store> stores,
                                          int64_t offset) {
    if (auto ack = t.Acknowledge(); !ack.ok()) return ack.status();
    std::string loaded;
    Loads l(std::move(loads));
    auto s = t.Load(l, [&](uint32_t binding, std::string_view doc) {
      StrAppend(&loaded, binding, ":", doc, "\n");
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    Stores st(std::move(stores));
    if (s = t.Store(st); !s.ok()) return s;
    auto committed = t.StartCommit(CheckpointAt(offset));
    if (!committed.ok()) return committed.status();
    return loaded;
  }

  std::string Rows(std::string_view sql) {
    auto rows = pg_->Exec(sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::string out;
    if (!rows.ok()) return out;
    for (const auto& r : *rows) {
      for (size_t i = 0; i < r.size(); ++i) StrAppend(&out, i ? "|" : "", r[i]);
      out += "\n";
    }
    return out;
  }

  int64_t StoredOffset() {
    auto opened = Open();
    const auto& sources = opened.opened.runtime_checkpoint().sources();
    auto it = sources.find("acmeCo/things/pivot=00");
    return it == sources.end() ? -1 : it->second.read_through();
  }

  static std::string Doc(int64_t id, std::string_view name) {
    std::string doc = StrCat(R"({"id":)", id, R"(,"name":)");
    json::AppendQuoted(name, &doc);
    return doc + "}";
  }

  static materialize::Request::Store Thing(int64_t id, std::string name, Element count,
                                           bool exists = false, bool is_delete = false) {
    return Store(0, {Element::Int(id)}, {count, Element::String(name)}, Doc(id, name), exists,
                 is_delete);
  }

  std::optional<harness::Postgres> pg_;
  PostgresDriver driver_;
  flow::MaterializationSpec spec_;
};

TEST_F(TransactionsTest, StoresLoadsUpdatesDeletesAndRecovers) {
  auto opened = Open();
  ASSERT_TRUE(opened.transactor);
  EXPECT_TRUE(opened.opened.has_runtime_checkpoint());
  EXPECT_TRUE(opened.opened.runtime_checkpoint().sources().empty()) << "a new range starts fresh";
  auto& t = *opened.transactor;

  auto loaded =
      Transaction(t, {Load(0, {Element::Int(1)}), Load(0, {Element::Int(2)})},
                  {Thing(1, "one", Element::Int(10)), Thing(2, "two\ttab", Element::Nil()),
                   Thing(3, "three", Element::Int(30)),
                   Store(1, {Element::String("e1")}, {Element::Int(1)}, ""),
                   Store(1, {Element::String("e1")}, {Element::Int(2)}, "")},
                  100);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, "");
  EXPECT_EQ(Rows("SELECT id, name, count, flow_document FROM things ORDER BY id"),
            "1|one|10|{\"id\": 1, \"name\": \"one\"}\n"
            "2|two\ttab|\\N|{\"id\": 2, \"name\": \"two\\ttab\"}\n"
            "3|three|30|{\"id\": 3, \"name\": \"three\"}\n");

  loaded = Transaction(
      t, {Load(0, {Element::Int(1)}), Load(0, {Element::Int(2)}), Load(0, {Element::Int(4)})},
      {Thing(1, "uno", Element::Int(11), true), Thing(2, "", Element::Nil(), true, true),
       Thing(4, "", Element::Nil(), false, true),
       Store(1, {Element::String("e2")}, {Element::Int(3)}, "")},
      200);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, "0:{\"id\": 1, \"name\": \"one\"}\n0:{\"id\": 2, \"name\": \"two\\ttab\"}\n");
  EXPECT_EQ(Rows("SELECT id, name, count FROM things ORDER BY id"), "1|uno|11\n3|three|30\n");
  EXPECT_EQ(Rows("SELECT id, n FROM events ORDER BY n"), "e1|1\ne1|2\ne2|3\n");
  EXPECT_EQ(StoredOffset(), 200);
}

TEST_F(TransactionsTest, AZombieCommitsNothing) {
  auto zombie = Open();
  auto current = Open();  // Bumps the fence.
  auto failed = Transaction(*zombie.transactor, {}, {Thing(1, "zombie", Element::Nil())}, 50);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(std::string(failed.status().message()).find("fenced off"), std::string::npos)
      << failed.status();
  EXPECT_EQ(Rows("SELECT count(*) FROM things"), "0\n");
  auto ok = Transaction(*current.transactor, {}, {Thing(1, "current", Element::Nil())}, 60);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(Rows("SELECT name FROM things"), "current\n");
  EXPECT_EQ(StoredOffset(), 60);
}

TEST_F(TransactionsTest, AValueThatDoesNotFitRollsBackEverything) {
  auto opened = Open();
  ASSERT_TRUE(Transaction(*opened.transactor, {}, {Thing(1, "one", Element::Int(1))}, 10).ok());
  auto failed = Transaction(
      *opened.transactor, {},
      {Thing(2, "two", Element::Int(2)), Thing(3, "three", Element::Uint(18446744073709551615u))},
      20);
  ASSERT_FALSE(failed.ok());
  const std::string message(failed.status().message());
  EXPECT_NE(message.find("out of range for type bigint"), std::string::npos) << message;
  EXPECT_NE(message.find("things"), std::string::npos) << "names the table: " << message;
  EXPECT_EQ(Rows("SELECT id FROM things ORDER BY id"), "1\n");
  EXPECT_EQ(StoredOffset(), 10);
}

TEST_F(TransactionsTest, AColumnAlteredByAUserFailsClearly) {
  auto opened = Open();
  ASSERT_TRUE(
      pg_->Exec("ALTER TABLE things ALTER COLUMN name TYPE integer USING length(name)").ok());
  auto failed = Transaction(*opened.transactor, {}, {Thing(1, "one", Element::Nil())}, 10);
  ASSERT_FALSE(failed.ok());
  // New rows are copied straight into the table, so PostgreSQL names the column and the value
  // it could not convert; the connector adds what to check.
  const std::string message(failed.status().message());
  EXPECT_NE(message.find("invalid input syntax for type integer: \"one\""), std::string::npos)
      << message;
  EXPECT_NE(message.find("column name"), std::string::npos) << message;
  EXPECT_NE(message.find("does not fit its column's type"), std::string::npos) << message;
  EXPECT_EQ(Rows("SELECT count(*) FROM things"), "0\n");
}

TEST_F(TransactionsTest, ADroppedConnectionLeavesNothingPartialAndRestartResumes) {
  auto opened = Open();
  ASSERT_TRUE(Transaction(*opened.transactor, {}, {Thing(1, "one", Element::Nil())}, 10).ok());
  auto& t = *opened.transactor;
  ASSERT_TRUE(t.Acknowledge().ok());
  Stores stores(std::vector<materialize::Request::Store>{Thing(2, "two", Element::Nil())});
  // A tiny batch would have sent the rows already; here they sit in the open transaction.
  ASSERT_TRUE(t.Store(stores).ok());
  ASSERT_TRUE(pg_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'materialize-postgres'")
                  .ok());
  auto committed = t.StartCommit(CheckpointAt(20));
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(Rows("SELECT id FROM things"), "1\n");
  EXPECT_EQ(StoredOffset(), 10) << "a restart resumes after the last commit";
}

TEST(PostgresTunnel, MaterializesThroughAnSshBastion) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto sshd = harness::Sshd::Start();
  ASSERT_TRUE(sshd.ok()) << sshd.status();
  std::string config =
      StrCat(R"({"address":"127.0.0.1:)", pg->port(), R"(","user":"postgres","password":")",
             pg->password(), R"(","networkTunnel":{"sshForwarding":{"sshEndpoint":"ssh://)",
             sshd->user(), "@", sshd->host(), ":", sshd->port(), R"(","privateKey":)");
  json::AppendQuoted(sshd->private_key_pem(), &config);
  config += "}}}";
  PostgresDriver driver;
  auto request = ValidateRequest(
      config, {{R"({"table":"tunneled"})",
                Collection("acmeCo/t", {{"id", "/id", {"integer"}, true, true},
                                        {"flow_document", "", {"object"}, true}})}});
  auto validated = driver.Validate(request, TestLog());
  ASSERT_TRUE(validated.ok()) << validated.status();
  materialize::Request::Open open;
  *open.mutable_materialization() = SpecOf("acmeCo/m", request, *validated);
  materialize::Request::Apply apply;
  *apply.mutable_materialization() = open.materialization();
  ASSERT_TRUE(driver.Apply(apply, TestLog()).ok());
  open.mutable_range()->set_key_end(0xffffffff);
  auto opened = driver.Open(open, TestLog());
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto& t = *opened->transactor;
  ASSERT_TRUE(t.Acknowledge().ok());
  Stores stores(
      std::vector<materialize::Request::Store>{Store(0, {Element::Int(7)}, {}, R"({"id":7})")});
  ASSERT_TRUE(t.Store(stores).ok());
  auto committed = t.StartCommit(CheckpointAt(1));
  ASSERT_TRUE(committed.ok()) << committed.status();
  auto rows = pg->Exec("SELECT id, flow_document FROM tunneled");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, (harness::Postgres::Rows{{"7", "{\"id\": 7}"}}));

  // The tunnel really is in the path: with the bastion gone, nothing connects.
  opened->transactor.reset();
  ASSERT_TRUE(sshd->Stop().ok());
  auto failed = driver.Validate(request, TestLog());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(std::string(failed.status().message()).find("BEGIN"), std::string::npos);
  EXPECT_EQ(std::string(failed.status().message()).find("PRIVATE KEY"), std::string::npos)
      << "the key never appears in errors";
}

// The overlapping-range cases of the fencing protocol (materializations.md section 2.2).
TEST_F(TransactionsTest, FencesOverlappingRanges) {
  auto client = PgClient::Connect({"127.0.0.1", pg_->port(), "postgres", pg_->password(), "", ""});
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string table = "public.flow_checkpoints_v1";
  ASSERT_TRUE(pg_->Exec(StrCat("INSERT INTO ", table,
                               " VALUES "
                               "('m', 0, 499, 5, ''), ('m', 500, 799, 5, ''), "
                               "('m', 800, 1000, 5, ''), ('m', 0, 1000, 5, ''), "
                               "('other', 0, 1000, 99, '')"))
                  .ok());
  auto fence = sql::InstallFence(**client, table, "m", 500, 599);
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_EQ(fence->fence, 6);
  EXPECT_EQ(Rows(StrCat("SELECT materialization, key_begin, key_end, fence FROM ", table,
                        " ORDER BY 1, 2, 3")),
            "m|0|499|5\nm|0|1000|6\nm|500|599|6\nm|500|799|6\nm|800|1000|5\nother|0|1000|99\n");
  // A straddling range takes the parent's fence and checkpoint.
  fence = sql::InstallFence(**client, table, "m", 400, 599);
  ASSERT_TRUE(fence.ok()) << fence.status();
  EXPECT_EQ(fence->fence, 7);
}

}  // namespace
}  // namespace connectors::postgres
