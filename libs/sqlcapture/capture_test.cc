// The engine against an in-memory database: chunk fencing, precise filtering of changes beyond
// the scan cursor, key changes as delete + create, the checkpoint format, resumption from it,
// and positions acknowledged to the stream only after the runtime acknowledges them.
#include "libs/sqlcapture/capture.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "libs/base/strings.h"
#include "libs/tuple/tuple.h"

namespace connectors::sqlcapture {
namespace {

std::string Key(int64_t id) {
  std::string k;
  tuple::AppendInt(id, &k);
  return k;
}

Row MakeRow(int64_t id, std::string_view v) {
  return Row{Key(id), StrCat(R"("id":)", id, R"(,"v":")", v, "\"")};
}

struct World {
  std::map<int64_t, std::string> rows;  // The table.
  std::deque<ChangeEvent> wal;          // Committed changes not yet streamed.
  uint64_t lsn = 100;
  std::vector<uint64_t> acknowledged;  // Positions the stream was told about.
  // Hook run after each scan (to commit changes "during" a chunk).
  std::function<void()> after_scan;

  void Commit(std::vector<ChangeEvent> changes) {
    for (ChangeEvent& c : changes) {
      c.lsn = ++lsn;
      wal.push_back(std::move(c));
    }
    ChangeEvent commit;
    commit.end_lsn = ++lsn;
    wal.push_back(commit);
  }
};

class FakeStream final : public ReplicationStream {
 public:
  FakeStream(World* w, uint64_t start) : w_(w), start_(start) {}
  uint64_t start_position() const override { return start_; }
  absl::StatusOr<std::optional<ChangeEvent>> Next(absl::Duration) override {
    if (w_->wal.empty()) return std::nullopt;
    ChangeEvent e = std::move(w_->wal.front());
    w_->wal.pop_front();
    return e;
  }
  void Acknowledge(uint64_t position) override { w_->acknowledged.push_back(position); }

 private:
  World* w_;
  uint64_t start_;
};

class FakeDb final : public Database {
 public:
  explicit FakeDb(World* w) : w_(w) {}
  absl::StatusOr<uint64_t> CurrentPosition() override { return w_->lsn; }
  absl::Status WriteWatermark() override {
    w_->Commit({});
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<ReplicationStream>> StartReplication(
      std::optional<uint64_t> position) override {
    return std::make_unique<FakeStream>(w_, position.value_or(w_->lsn));
  }
  absl::StatusOr<ScanResult> ScanChunk(int, BackfillMode, std::string_view resume_at, int64_t limit,
                                       const std::function<absl::Status(Row&)>& emit) override {
    int64_t n = 0;
    ScanResult result;
    result.resume_at = std::string(resume_at);
    for (const auto& [id, v] : w_->rows) {
      if (!resume_at.empty() && Key(id) <= resume_at) continue;
      if (n == limit) break;
      Row row = MakeRow(id, v);
      if (auto s = emit(row); !s.ok()) return s;
      result.resume_at = row.key;
      ++n;
    }
    result.done = n < limit;
    if (w_->after_scan) w_->after_scan();
    return result;
  }
  std::string FormatPosition(uint64_t p) const override { return StrCat(p); }
  absl::StatusOr<uint64_t> ParsePosition(std::string_view t) const override {
    return std::stoull(std::string(t));
  }

 private:
  World* w_;
};

class Session final : public runtime::CaptureSession, public runtime::CaptureOutput {
 public:
  runtime::CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override {
    return stop_after_ >= 0 && int(checkpoints.size()) >= stop_after_;
  }
  bool WaitForStop(absl::Duration) override { return stopping(); }
  uint64_t acknowledged() const override { return acked; }
  bool WaitForAcknowledged(uint64_t n, absl::Duration) override { return acked >= n; }
  absl::Status Document(uint32_t, std::string_view doc) override {
    docs.emplace_back(doc);
    return absl::OkStatus();
  }
  absl::Status SourcedSchema(uint32_t, std::string_view) override { return absl::OkStatus(); }
  absl::Status Checkpoint(std::string_view state, bool merge) override {
    checkpoints.push_back(StrCat(merge ? "patch " : "full ", state));
    if (auto_ack) acked = checkpoints.size();
    return absl::OkStatus();
  }

  Logger log_{2, LogLevel::kWarn};
  int stop_after_ = -1;
  bool auto_ack = true;
  uint64_t acked = 0;
  std::vector<std::string> docs;
  std::vector<std::string> checkpoints;
};

ChangeEvent Change(ChangeEvent::Kind kind, int64_t id, std::string_view v) {
  ChangeEvent e;
  e.kind = kind;
  e.table = 0;
  e.row = MakeRow(id, v);
  return e;
}

std::unique_ptr<Engine> MakeEngine(World* w, std::string_view state, BackfillMode mode,
                                   int64_t chunk) {
  TableSpec t{"s", "t", true, true};
  BindingSpec b;
  b.state_key = "s%2Ft";
  b.mode = mode;
  EngineOptions options;
  options.chunk_size = chunk;
  auto engine = Engine::Create(std::make_unique<FakeDb>(w), {t}, {b}, state, options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return std::move(*engine);
}

TEST(EngineTest, PreciseBackfillDropsChangesBeyondTheCursor) {
  World w;
  for (int i = 1; i <= 4; ++i) w.rows[i] = StrCat("r", i);
  // While the first chunk (ids 1, 2) is read, ids 1 and 4 change.
  bool once = false;
  w.after_scan = [&] {
    if (once) return;
    once = true;
    w.rows[1] = "r1 changed";
    w.rows[4] = "r4 changed";
    w.Commit({Change(ChangeEvent::Kind::kUpdate, 1, "r1 changed"),
              Change(ChangeEvent::Kind::kUpdate, 4, "r4 changed")});
  };
  Session session;
  session.stop_after_ = 4;  // initial + two chunks + the empty one that finds the end
  auto engine = MakeEngine(&w, "", BackfillMode::kPrecise, 2);
  ASSERT_TRUE(engine->Run(session).ok());
  ASSERT_EQ(session.docs.size(), 5u);
  EXPECT_NE(session.docs[0].find(R"("snapshot":true)"), std::string::npos);
  EXPECT_NE(session.docs[2].find(R"("op":"u")"), std::string::npos) << session.docs[2];
  EXPECT_NE(session.docs[2].find("r1 changed"), std::string::npos);
  // The change to id 4 was dropped: the scan read its new value.
  EXPECT_NE(session.docs[4].find(R"("v":"r4 changed")"), std::string::npos) << session.docs[4];
  EXPECT_NE(session.docs[4].find(R"("snapshot":true)"), std::string::npos);
  EXPECT_EQ(session.checkpoints[0].rfind("full {\"cursor\":\"100\"", 0), 0u)
      << session.checkpoints[0];
  EXPECT_NE(session.checkpoints.back().find(R"("mode":"Active","scanned":null,"backfilled":4)"),
            std::string::npos)
      << session.checkpoints.back();
}

TEST(EngineTest, KeyChangeIsDeleteThenCreate) {
  World w;
  Session session;
  session.stop_after_ = 2;
  auto engine = MakeEngine(&w, "", BackfillMode::kOnlyChanges, 10);
  ChangeEvent e = Change(ChangeEvent::Kind::kUpdate, 2, "moved");
  e.before = Row{Key(1), R"("id":1)"};
  w.Commit({e});
  ASSERT_TRUE(engine->Run(session).ok());
  ASSERT_EQ(session.docs.size(), 2u);
  EXPECT_EQ(session.docs[0].find(R"({"_meta":{"op":"d")"), 0u) << session.docs[0];
  EXPECT_NE(session.docs[0].find(R"(},"id":1})"), std::string::npos) << session.docs[0];
  EXPECT_NE(session.docs[1].find(R"("op":"c")"), std::string::npos) << session.docs[1];
  EXPECT_NE(session.docs[1].find(R"("before":{"id":1})"), std::string::npos) << session.docs[1];
}

TEST(EngineTest, ResumesFromStateAndAcknowledgesOnlyAckedCheckpoints) {
  World w;
  for (int i = 1; i <= 6; ++i) w.rows[i] = StrCat("r", i);
  std::string state = R"({"cursor":"100","bindingStateV1":{"s%2Ft":{"mode":"Backfill",)"
                      R"("scanned":")" +
                      Base64Encode(Key(4)) + R"(","backfilled":4}}})";
  Session session;
  session.auto_ack = false;
  session.stop_after_ = 2;
  auto engine = MakeEngine(&w, state, BackfillMode::kPrecise, 10);
  ASSERT_TRUE(engine->Run(session).ok());
  ASSERT_EQ(session.docs.size(), 2u);  // Only ids 5 and 6 are left.
  EXPECT_NE(session.docs[0].find(R"("id":5)"), std::string::npos);
  EXPECT_NE(session.docs[0].find(R"("loc":[-1,4,0])"), std::string::npos) << session.docs[0];
  EXPECT_TRUE(w.acknowledged.empty()) << "nothing was acknowledged by the runtime";
}

TEST(EngineTest, RejectsMalformedState) {
  World w;
  TableSpec t{"s", "t", true, true};
  BindingSpec b;
  b.state_key = "k";
  auto engine = Engine::Create(std::make_unique<FakeDb>(&w), {t}, {b},
                               R"({"cursor":"1","bindingStateV1":{"k":{"mode":"Sideways"}}})",
                               EngineOptions());
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(MessageOf(engine.status()).find("unknown binding mode \"Sideways\""),
            std::string::npos);
}

}  // namespace
}  // namespace connectors::sqlcapture
