// source-postgres end to end in process: backfill interleaved with replication, key changes,
// TRUNCATE, TOAST, keyless tables and resumption from a checkpoint, each compared row by row
// with the source table.
#include <gtest/gtest.h>

#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "tests/harness/postgres.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

class CaptureTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Quick keepalives, so the quiet-database test need not wait 30 s for one.
    harness::PostgresOptions options;
    options.config = {"wal_sender_timeout = 2s"};
    auto pg = harness::Postgres::Start(options);
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = new harness::Postgres(std::move(*pg));
    ASSERT_TRUE(pg_->Exec("CREATE PUBLICATION flow_publication").ok());
  }
  // The server has 10 slots: free this test's once its capture has stopped.
  void TearDown() override {
    auto dropped = pg_->Exec(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active");
    EXPECT_TRUE(dropped.ok()) << dropped.status();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  // Each test uses its own slot so captures never share one.
  std::string Config(int chunk = 3) {
    const std::string slot =
        StrCat("slot_", testing::UnitTest::GetInstance()->current_test_info()->name());
    std::string lower;
    for (char c : slot) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ConfigJson(*pg_, StrCat(R"("advanced":{"backfill_chunk_size":)", chunk,
                                   R"(,"slotName":")", lower, R"("})"));
  }

  void Sql(std::string_view sql) {
    auto r = pg_->Exec(sql);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << sql;
  }

  // Source rows of (id int, val text) as current documents keyed like Reduce.
  std::map<std::string, std::string> Source(std::string_view table) {
    auto rows = pg_->Exec(
        StrCat("SELECT id, coalesce(to_json(val)::text, 'null') FROM ", table, " ORDER BY id"));
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::string> out;
    for (const auto& r : *rows) {
      out[r[0]] = StrCat(R"({"id":)", r[0], R"(,"val":)", r[1], "}");
    }
    return out;
  }

  static bool HasDoc(const std::vector<Doc>& docs, std::string_view needle) {
    for (const Doc& d : docs) {
      if (d.json.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  static harness::Postgres* pg_;
};

harness::Postgres* CaptureTest::pg_ = nullptr;

TEST_F(CaptureTest, BackfillThenReplicationMatchesSource) {
  Sql("CREATE TABLE public.basic (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.basic SELECT g, 'row ' || g FROM generate_series(1, 20) g");
  CaptureRun run(Config(3), {{"public", "basic"}}, "");
  ASSERT_TRUE(run.Start().ok());
  // Changes while the backfill runs: before and after its cursor.
  Sql("UPDATE public.basic SET val = 'early update' WHERE id = 2");
  Sql("UPDATE public.basic SET val = 'late update' WHERE id = 19");
  Sql("DELETE FROM public.basic WHERE id IN (3, 18)");
  Sql("INSERT INTO public.basic VALUES (21, 'inserted'), (0, NULL)");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"inserted\""); }));
  Sql("BEGIN; UPDATE public.basic SET val = 'in txn' WHERE id BETWEEN 5 AND 7; "
      "DELETE FROM public.basic WHERE id = 8; INSERT INTO public.basic VALUES (100, 'last'); "
      "COMMIT");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"last\""); }));
  ASSERT_TRUE(run.Stop().ok());

  const auto docs = run.docs();
  EXPECT_EQ(Reduce(docs, 0, {"/id"}), Source("public.basic"));
  // Backfill documents are creates marked as snapshot rows; changes carry LSN locations.
  EXPECT_TRUE(HasDoc(docs, R"("snapshot":true)"));
  EXPECT_TRUE(HasDoc(docs, R"({"_meta":{"op":"d")"));
  EXPECT_TRUE(HasDoc(docs, R"({"_meta":{"op":"u")"));
  const std::string state = run.state();
  EXPECT_NE(state.find(R"("mode":"Active")"), std::string::npos) << state;
  EXPECT_NE(state.find(R"("cursor":")"), std::string::npos) << state;
}

TEST_F(CaptureTest, PrimaryKeyUpdateDeletesOldKey) {
  Sql("CREATE TABLE public.pkupd (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.pkupd VALUES (1, 'one'), (2, 'two')");
  CaptureRun run(Config(), {{"public", "pkupd"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 2; }));
  Sql("UPDATE public.pkupd SET id = 10, val = 'ten' WHERE id = 1");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"ten\""); }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_NE(docs[2].json.find(R"("op":"d")"), std::string::npos) << docs[2].json;
  EXPECT_NE(docs[2].json.find(R"("id":1)"), std::string::npos) << docs[2].json;
  EXPECT_NE(docs[3].json.find(R"("op":"c")"), std::string::npos) << docs[3].json;
  EXPECT_NE(docs[3].json.find(R"("before":{"id":1})"), std::string::npos) << docs[3].json;
  EXPECT_EQ(Reduce(docs, 0, {"/id"}), Source("public.pkupd"));
}

TEST_F(CaptureTest, TruncateIsSkippedAndLaterChangesFlow) {
  Sql("CREATE TABLE public.trunc (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.trunc VALUES (1, 'a'), (2, 'b')");
  CaptureRun run(Config(), {{"public", "trunc"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 2; }));
  Sql("TRUNCATE public.trunc");
  Sql("INSERT INTO public.trunc VALUES (3, 'after truncate')");
  ASSERT_TRUE(
      run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"after truncate\""); }));
  ASSERT_TRUE(run.Stop().ok());
  // Documented behavior: TRUNCATE emits nothing; rows 1 and 2 stay in the collection.
  const auto docs = run.docs();
  EXPECT_EQ(docs.size(), 3u);
  auto current = Reduce(docs, 0, {"/id"});
  EXPECT_EQ(current.size(), 3u);
  EXPECT_EQ(current["3"], R"({"id":3,"val":"after truncate"})");
}

TEST_F(CaptureTest, ToastedValueSurvivesUnrelatedUpdate) {
  Sql("CREATE TABLE public.toasty (id int PRIMARY KEY, val text, big text)");
  Sql("ALTER TABLE public.toasty ALTER COLUMN big SET STORAGE EXTERNAL");
  Sql("INSERT INTO public.toasty VALUES (1, 'a', repeat('x', 10000))");
  CaptureRun run(Config(), {{"public", "toasty"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 1; }));
  Sql("UPDATE public.toasty SET val = 'changed' WHERE id = 1");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"changed\""); }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  ASSERT_EQ(docs.size(), 2u);
  // The update leaves out the unchanged TOAST column; reduction keeps the backfilled value.
  EXPECT_EQ(docs[1].json.find("\"big\""), std::string::npos) << docs[1].json;
  auto current = Reduce(docs, 0, {"/id"});
  EXPECT_EQ(current["1"],
            StrCat(R"({"big":")", std::string(10000, 'x'), R"(","id":1,"val":"changed"})"));
}

TEST_F(CaptureTest, KeylessTableWithFullIdentity) {
  Sql("CREATE TABLE public.nokey (id int, val text)");
  Sql("ALTER TABLE public.nokey REPLICA IDENTITY FULL");
  Sql("INSERT INTO public.nokey SELECT g, 'v' || g FROM generate_series(1, 500) g");
  CaptureRun run(Config(100), {{"public", "nokey"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 500; }));
  Sql("UPDATE public.nokey SET val = 'updated' WHERE id = 1");
  Sql("DELETE FROM public.nokey WHERE id = 2");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 502; }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  ASSERT_EQ(docs.size(), 502u);
  EXPECT_NE(docs[500].json.find(R"("before":{"id":1,"val":"v1"})"), std::string::npos)
      << docs[500].json;
  EXPECT_NE(docs[501].json.find(R"("op":"d")"), std::string::npos) << docs[501].json;
  EXPECT_NE(docs[501].json.find(R"("id":2,"val":"v2")"), std::string::npos) << docs[501].json;
}

TEST_F(CaptureTest, ResumesFromCheckpointMidBackfill) {
  Sql("CREATE TABLE public.resume (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.resume SELECT g, 'r' || g FROM generate_series(1, 30) g");
  std::string state;
  std::vector<Doc> all;
  {
    CaptureRun run(Config(2), {{"public", "resume"}}, "");
    ASSERT_TRUE(run.Start().ok());
    ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 6; }));
    ASSERT_TRUE(run.Stop().ok());
    state = run.state();
    all = run.docs();
  }
  ASSERT_NE(state.find(R"("mode":"Backfill")"), std::string::npos) << state;
  // Changes while the capture is down, on both sides of the cursor.
  Sql("UPDATE public.resume SET val = 'down 1' WHERE id = 1");
  Sql("UPDATE public.resume SET val = 'down 29' WHERE id = 29");
  Sql("DELETE FROM public.resume WHERE id = 2");
  Sql("INSERT INTO public.resume VALUES (31, 'down insert')");
  {
    CaptureRun run(Config(2), {{"public", "resume"}}, state);
    ASSERT_TRUE(run.Start().ok());
    ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) {
      return HasDoc(d, "\"down insert\"") && HasDoc(d, "\"down 29\"") && HasDoc(d, "\"down 1\"");
    }));
    Sql("INSERT INTO public.resume VALUES (32, 'after resume')");
    ASSERT_TRUE(
        run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"after resume\""); }));
    ASSERT_TRUE(run.Stop().ok());
    for (const Doc& d : run.docs()) all.push_back(d);
    EXPECT_NE(run.state().find(R"("mode":"Active")"), std::string::npos);
  }
  EXPECT_EQ(Reduce(all, 0, {"/id"}), Source("public.resume"));
}

TEST_F(CaptureTest, TextKeysBackfillInBytewiseOrder) {
  Sql("CREATE TABLE public.textkey (id text PRIMARY KEY, val text)");
  Sql("INSERT INTO public.textkey (id, val) VALUES ('b', '1'), ('B', '2'), ('a', '3'), "
      "('ä', '4'), ('', '5'), (' ', '6'), ('aa', '7')");
  CaptureRun run(Config(2), {{"public", "textkey", "Precise"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 7; }));
  Sql("UPDATE public.textkey SET val = 'changed' WHERE id = 'ä'");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"changed\""); }));
  ASSERT_TRUE(run.Stop().ok());
  std::vector<std::string> order;
  json::Parser parser;
  for (const Doc& d : run.docs()) {
    auto root = parser.Parse(d.json);
    std::string_view id;
    ASSERT_EQ((*root)["id"].get(id), simdjson::SUCCESS);
    order.emplace_back(id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"", " ", "B", "a", "aa", "b", "ä", "ä"}));
}

// The slot's confirmed position, as the server sees it.
uint64_t ConfirmedFlush(harness::Postgres& pg, const std::string& slot) {
  auto rows = pg.Exec(StrCat(
      "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = '",
      slot, "'"));
  if (!rows.ok() || rows->empty()) return 0;
  return std::stoull((*rows)[0][0]);
}

uint64_t CurrentLsn(harness::Postgres& pg) {
  auto rows = pg.Exec("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
  return rows.ok() ? std::stoull((*rows)[0][0]) : 0;
}

TEST_F(CaptureTest, ConfirmsOnlyAcknowledgedPositions) {
  Sql("CREATE TABLE public.acks (id int PRIMARY KEY, val text)");
  CaptureRun run(Config(), {{"public", "acks"}}, "");
  run.HoldAcknowledgements(true);
  ASSERT_TRUE(run.Start().ok());
  const uint64_t start = ConfirmedFlush(*pg_, "slot_confirmsonlyacknowledgedpositions");
  ASSERT_GT(start, 0u);
  Sql("INSERT INTO public.acks VALUES (1, 'one')");
  Sql("INSERT INTO public.acks VALUES (2, 'two')");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 2; }));
  const uint64_t written = CurrentLsn(*pg_);
  absl::SleepFor(absl::Seconds(3));  // Several status updates and keepalives go by.
  EXPECT_EQ(ConfirmedFlush(*pg_, "slot_confirmsonlyacknowledgedpositions"), start)
      << "the slot advanced past checkpoints the runtime has not acknowledged";
  run.HoldAcknowledgements(false);
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (ConfirmedFlush(*pg_, "slot_confirmsonlyacknowledgedpositions") < written &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GE(ConfirmedFlush(*pg_, "slot_confirmsonlyacknowledgedpositions"), written);
  ASSERT_TRUE(run.Stop().ok());
}

TEST_F(CaptureTest, QuietDatabaseSlotFollowsServerWal) {
  Sql("CREATE TABLE public.quiet (id int PRIMARY KEY)");
  CaptureRun run(Config(), {{"public", "quiet"}}, "");
  ASSERT_TRUE(run.Start().ok());
  for (int i = 0; i < 100 && run.checkpoints() < 2; ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_GE(run.checkpoints(), 2u);
  // WAL moves for reasons the capture never sees: another database's writes.
  ASSERT_TRUE(pg_->CreateDatabase("elsewhere").ok());
  ASSERT_TRUE(
      pg_->Exec("CREATE TABLE busy AS SELECT g FROM generate_series(1, 10000) g", "elsewhere")
          .ok());
  const uint64_t moved = CurrentLsn(*pg_);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (ConfirmedFlush(*pg_, "slot_quietdatabaseslotfollowsserverwal") < moved &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_GE(ConfirmedFlush(*pg_, "slot_quietdatabaseslotfollowsserverwal"), moved)
      << "an idle slot must not pin the server's WAL";
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_TRUE(run.docs().empty());
}

TEST_F(CaptureTest, BlockedBackfillKeepsReplicationAlive) {
  Sql("CREATE TABLE public.blocked (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.blocked SELECT g, 'b' || g FROM generate_series(1, 300000) g");
  CaptureRun run(Config(5000), {{"public", "blocked"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return !d.empty(); }));
  // Hold the watermark row: the next fence waits far longer than wal_sender_timeout (2 s).
  std::thread locker([&] {
    auto r = pg_->Exec(
        "BEGIN; SELECT * FROM public.flow_watermarks FOR UPDATE; SELECT pg_sleep(5); COMMIT");
    EXPECT_TRUE(r.ok()) << r.status();
  });
  absl::SleepFor(absl::Seconds(1));
  const size_t during = run.docs().size();
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(run.docs().size(), during) << "the capture was not blocked";
  EXPECT_LT(during, 300000u);
  locker.join();
  Sql("INSERT INTO public.blocked VALUES (0, 'after the block')");
  const bool caught_up = run.WaitFor(
      [](const std::vector<Doc>& d) {
        return d.size() >= 300001 && HasDoc(d, "\"after the block\"");
      },
      absl::Seconds(60));
  ASSERT_TRUE(caught_up) << run.Stop();
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.docs().size(), 300001u);
}

TEST_F(CaptureTest, CompositeKeyCursorRoundTrips) {
  Sql("CREATE TABLE public.composite (grp varchar(10), id int, val text, PRIMARY KEY (grp, id))");
  Sql("INSERT INTO public.composite VALUES ('', -5, 'a'), ('', 3, 'b'), (' ', 0, 'c'), "
      "('B', -2147483648, 'd'), ('a', 7, 'e'), ('a''q', 1, 'f'), ('ä', 2, 'g'), ('a', 8, 'h')");
  // One row per chunk: every cursor goes through the state and back into a query.
  CaptureRun run(Config(1), {{"public", "composite"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 8; }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  ASSERT_EQ(docs.size(), 8u);
  auto rows = pg_->Exec(
      "SELECT to_json(grp)::text, id, to_json(val)::text FROM public.composite "
      "ORDER BY grp COLLATE \"C\", id");
  ASSERT_TRUE(rows.ok());
  for (size_t i = 0; i < docs.size(); ++i) {
    EXPECT_NE(docs[i].json.find(StrCat(R"("grp":)", (*rows)[i][0], R"(,"id":)", (*rows)[i][1],
                                       R"(,"val":)", (*rows)[i][2])),
              std::string::npos)
        << i << ": " << docs[i].json;
  }
}

TEST_F(CaptureTest, LostSlotIsAClearError) {
  Sql("CREATE TABLE public.lost (id int PRIMARY KEY)");
  std::string state;
  {
    CaptureRun run(Config(), {{"public", "lost"}}, "");
    ASSERT_TRUE(run.Start().ok());
    for (int i = 0; i < 100 && run.checkpoints() < 2; ++i) absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(run.Stop().ok());
    state = run.state();
  }
  Sql("SELECT pg_drop_replication_slot('slot_lostslotisaclearerror')");
  CaptureRun run(Config(), {{"public", "lost"}}, state);
  ASSERT_TRUE(run.Start().ok());
  run.WaitFor([](const std::vector<Doc>&) { return false; }, absl::Seconds(10));
  const absl::Status status = run.Stop();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(
      MessageOf(status).find(
          R"(replication slot "slot_lostslotisaclearerror" does not exist, so changes since)"),
      std::string::npos)
      << status;
  EXPECT_NE(MessageOf(status).find("re-backfill every binding"), std::string::npos) << status;
}

TEST_F(CaptureTest, BindingAddedLaterIsBackfilledWhileOthersStream) {
  Sql("CREATE TABLE public.first (id int PRIMARY KEY, val text)");
  Sql("CREATE TABLE public.second (id int PRIMARY KEY, val text)");
  Sql("INSERT INTO public.first VALUES (1, 'f1')");
  Sql("INSERT INTO public.second VALUES (1, 's1'), (2, 's2')");
  std::string state;
  {
    CaptureRun run(Config(), {{"public", "first"}}, "");
    ASSERT_TRUE(run.Start().ok());
    ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 1; }));
    ASSERT_TRUE(run.Stop().ok());
    state = run.state();
  }
  Sql("INSERT INTO public.first VALUES (2, 'f2 while down')");
  Sql("INSERT INTO public.second VALUES (3, 's3 while down')");
  CaptureRun run(Config(), {{"public", "first"}, {"public", "second"}}, state);
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor(
      [](const std::vector<Doc>& d) { return CountFor(d, 0) >= 1 && CountFor(d, 1) >= 3; }));
  Sql("INSERT INTO public.second VALUES (4, 's4')");
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return HasDoc(d, "\"s4\""); }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  // The first binding resumed its stream (no second backfill); the second was backfilled.
  EXPECT_EQ(CountFor(docs, 0), 1u);
  EXPECT_EQ(Reduce(docs, 1, {"/id"}), Source("public.second"));
  EXPECT_EQ(run.state().find(R"("backfilled":0)"), std::string::npos) << run.state();
}

}  // namespace
}  // namespace connectors::pgtest
