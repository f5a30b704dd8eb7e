#include "tests/runtime/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"

namespace connectors::local {
namespace {

using std::string_literals::operator""s;
using std::string_view_literals::operator""sv;

// A fresh directory under $TEST_TMPDIR, unique to the running test.
std::string FreshDir(std::string_view name = "store") {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string dir =
      StrCat(root != nullptr ? root : "/tmp", "/",
             testing::UnitTest::GetInstance()->current_test_info()->name(), "/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<Store> MustOpen(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::string JournalPath(const std::string& dir, std::string_view collection) {
  return StrCat(dir, "/collections/", JournalFileName(collection));
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

void AppendToFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Every committed document of `collection`, read page by page.
std::vector<std::string> ReadAll(const Store& store, std::string_view collection,
                                 size_t max_bytes = 1 << 16) {
  std::vector<std::string> docs;
  uint64_t offset = 0;
  for (;;) {
    absl::StatusOr<std::vector<JournalEntry>> page =
        store.ReadJournal(collection, offset, max_bytes);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok() || page->empty()) break;
    for (JournalEntry& entry : *page) {
      EXPECT_EQ(entry.end_offset, offset + entry.doc.size() + 1);
      offset = entry.end_offset;
      docs.push_back(std::move(entry.doc));
    }
  }
  EXPECT_EQ(offset, store.CommittedLength(collection));
  return docs;
}

std::optional<std::string> MustCurrent(const Store& store, std::string_view collection,
                                       std::string_view key) {
  absl::StatusOr<std::optional<std::string>> doc = store.Current(collection, key);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *doc : std::nullopt;
}

std::string MustTaskState(const Store& store, std::string_view task) {
  absl::StatusOr<std::string> state = store.TaskState(task);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : "";
}

uint64_t MustCount(const Store& store, std::string_view collection) {
  absl::StatusOr<uint64_t> count = store.CountCurrent(collection);
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : 0;
}

std::vector<std::pair<std::string, std::string>> ScanAll(const Store& store,
                                                         std::string_view collection) {
  std::vector<std::pair<std::string, std::string>> rows;
  absl::Status status =
      store.ScanCurrent(collection, [&](std::string_view key, std::string_view doc) {
        rows.emplace_back(key, doc);
        return absl::OkStatus();
      });
  EXPECT_TRUE(status.ok()) << status;
  return rows;
}

// Documents of the sequence tests look like {"seq":N,...}; returns N.
uint64_t SeqOf(std::string_view doc) {
  constexpr std::string_view kPrefix = R"({"seq":)";
  uint64_t seq = UINT64_MAX;
  if (doc.starts_with(kPrefix)) {
    std::from_chars(doc.data() + kPrefix.size(), doc.data() + doc.size(), seq);
  }
  return seq;
}

std::string SeqDoc(uint64_t seq, size_t pad = 0) {
  return StrCat(R"({"seq":)", seq, R"(,"pad":")", std::string(pad, 'x'), R"("})");
}

// Task states of the sequence tests look like {"count":N}; returns N (0 if never set).
uint64_t CountOf(std::string_view state) {
  constexpr std::string_view kPrefix = R"({"count":)";
  uint64_t count = 0;
  if (state.starts_with(kPrefix)) {
    std::from_chars(state.data() + kPrefix.size(), state.data() + state.size(), count);
  }
  return count;
}

std::string CountState(uint64_t count) { return StrCat(R"({"count":)", count, "}"); }

TEST(StoreTest, NothingIsVisibleBeforeCommit) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  Store::Transaction txn = store->Begin();
  txn.Append("acme/orders", "k1", R"({"id":1})", false);
  txn.SetTaskState("capture", R"({"cursor":1})");

  EXPECT_EQ(store->CommittedLength("acme/orders"), 0u);
  EXPECT_TRUE(ReadAll(*store, "acme/orders").empty());
  EXPECT_EQ(MustCurrent(*store, "acme/orders", "k1"), std::nullopt);
  EXPECT_EQ(MustTaskState(*store, "capture"), "");
  EXPECT_EQ(MustCount(*store, "acme/orders"), 0u);

  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_TRUE(txn.empty());
  EXPECT_EQ(store->CommittedLength("acme/orders"), 9u);
  EXPECT_EQ(ReadAll(*store, "acme/orders"), std::vector<std::string>{R"({"id":1})"});
  EXPECT_EQ(MustCurrent(*store, "acme/orders", "k1"), R"({"id":1})");
  EXPECT_EQ(MustTaskState(*store, "capture"), R"({"cursor":1})");

  // The transaction is reusable, and an empty commit changes nothing.
  txn.Append("acme/orders", "k2", R"({"id":2})", false);
  ASSERT_TRUE(txn.Commit().ok());
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(ReadAll(*store, "acme/orders"),
            (std::vector<std::string>{R"({"id":1})", R"({"id":2})"}));
}

TEST(StoreTest, AbandonedTransactionLeavesNothing) {
  std::string dir = FreshDir();
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  {
    Store::Transaction txn = store->Begin();
    txn.Append("acme/orders", "k1", R"({"id":1})", false);
    txn.SetTaskState("capture", "{}");
  }
  EXPECT_EQ(store->CommittedLength("acme/orders"), 0u);
  EXPECT_EQ(MustTaskState(*store, "capture"), "");
  EXPECT_EQ(FileSize(JournalPath(dir, "acme/orders")), 0u);
}

TEST(StoreTest, LastWriteWinsAndDeletes) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  Store::Transaction txn = store->Begin();
  txn.Append("c", "a", R"({"v":1})", false);
  txn.Append("c", "a", R"({"v":2})", false);
  txn.Append("c", "b", R"({"v":1})", false);
  txn.Append("c", "d", R"({"v":1})", false);
  txn.Append("c", "d", R"({"v":1,"_meta":{"op":"d"}})", true);
  txn.Append("other", "a", R"({"other":true})", false);
  ASSERT_TRUE(txn.Commit().ok());

  EXPECT_EQ(MustCurrent(*store, "c", "a"), R"({"v":2})");
  EXPECT_EQ(MustCurrent(*store, "c", "b"), R"({"v":1})");
  EXPECT_EQ(MustCurrent(*store, "c", "d"), std::nullopt);
  EXPECT_EQ(MustCurrent(*store, "other", "a"), R"({"other":true})");
  EXPECT_EQ(MustCount(*store, "c"), 2u);
  // Deletions are journaled like any other document.
  EXPECT_EQ(ReadAll(*store, "c").size(), 5u);

  txn.Append("c", "b", R"({"v":2,"_meta":{"op":"d"}})", true);
  txn.Append("c", "d", R"({"v":3})", false);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(MustCurrent(*store, "c", "b"), std::nullopt);
  EXPECT_EQ(MustCurrent(*store, "c", "d"), R"({"v":3})");
  EXPECT_EQ(MustCount(*store, "c"), 2u);
}

TEST(StoreTest, ScanCurrentIsInBytewiseKeyOrder) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  const std::string keys[] = {"\xff"s, "a"s, ""s, "\x00\x01"s, "\x00"s, "ab"s};
  Store::Transaction txn = store->Begin();
  for (const std::string& key : keys) {
    txn.Append("c", key, StrCat(R"({"len":)", key.size(), "}"), false);
  }
  ASSERT_TRUE(txn.Commit().ok());

  std::vector<std::pair<std::string, std::string>> rows = ScanAll(*store, "c");
  std::vector<std::string> scanned;
  for (const auto& [key, doc] : rows) scanned.push_back(key);
  EXPECT_EQ(scanned, (std::vector<std::string>{""s, "\x00"s, "\x00\x01"s, "a"s, "ab"s, "\xff"s}));
  EXPECT_EQ(MustCurrent(*store, "c", ""), R"({"len":0})");
  EXPECT_EQ(MustCurrent(*store, "c", "\x00\x01"sv), R"({"len":2})");
  EXPECT_TRUE(ScanAll(*store, "missing").empty());
}

TEST(StoreTest, ScanCurrentStopsOnErrorAndAllowsNestedReads) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  Store::Transaction txn = store->Begin();
  for (int i = 0; i < 5; ++i) txn.Append("c", StrCat("k", i), StrCat(R"({"i":)", i, "}"), false);
  ASSERT_TRUE(txn.Commit().ok());

  int calls = 0;
  absl::Status status = store->ScanCurrent("c", [&](std::string_view key, std::string_view doc) {
    ++calls;
    // A nested read uses another connection while the scan's statement is open.
    absl::StatusOr<std::optional<std::string>> again = store->Current("c", key);
    if (!again.ok()) return again.status();
    EXPECT_EQ(again->value_or(""), doc);
    return calls == 3 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 3);
}

TEST(StoreTest, TaskStateIsCommittedWithAppends) {
  std::string dir = FreshDir();
  {
    std::unique_ptr<Store> store = MustOpen(dir);
    ASSERT_NE(store, nullptr);
    Store::Transaction txn = store->Begin();
    txn.Append("c", "k", R"({"n":1})", false);
    txn.SetTaskState("capture", R"({"n":1})");
    txn.SetTaskState("materialize", R"({"offset":0})");
    ASSERT_TRUE(txn.Commit().ok());

    // The last SetTaskState of a transaction wins; untouched tasks keep their state.
    txn.SetTaskState("capture", R"({"n":2})");
    txn.SetTaskState("capture", R"({"n":3})");
    ASSERT_TRUE(txn.Commit().ok());
    EXPECT_EQ(MustTaskState(*store, "capture"), R"({"n":3})");
    EXPECT_EQ(MustTaskState(*store, "materialize"), R"({"offset":0})");
  }
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(MustTaskState(*store, "capture"), R"({"n":3})");
  EXPECT_EQ(MustTaskState(*store, "materialize"), R"({"offset":0})");
  EXPECT_EQ(ReadAll(*store, "c"), std::vector<std::string>{R"({"n":1})"});
  EXPECT_EQ(MustCurrent(*store, "c", "k"), R"({"n":1})");
}

TEST(StoreTest, InvalidAppendFailsTheWholeCommit) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  const std::string long_name(300, 'a');
  const std::pair<std::string, std::string> invalid[] = {
      {"c", "{\"a\":\n1}"}, {"c", ""}, {"", "{}"}, {long_name, "{}"}};
  for (const auto& [collection, doc] : invalid) {
    Store::Transaction txn = store->Begin();
    txn.Append("c", "k", R"({"ok":true})", false);
    txn.Append(collection, "k", doc, false);
    txn.SetTaskState("capture", "{}");
    EXPECT_EQ(txn.Commit().code(), absl::StatusCode::kInvalidArgument) << collection;
  }
  EXPECT_EQ(store->CommittedLength("c"), 0u);
  EXPECT_EQ(MustTaskState(*store, "capture"), "");
  EXPECT_EQ(MustCount(*store, "c"), 0u);

  // A rejected transaction does not break the store.
  Store::Transaction txn = store->Begin();
  txn.Append("c", "k", R"({"ok":true})", false);
  EXPECT_TRUE(txn.Commit().ok());
}

TEST(StoreTest, JournalFileNamesAreSafeAndDistinct) {
  EXPECT_EQ(JournalFileName("acme/orders"), "acme%2Forders.jsonl");
  EXPECT_EQ(JournalFileName("acme%2Forders"), "acme%252Forders.jsonl");
  EXPECT_EQ(JournalFileName("a-b_c.d"), "a-b_c.d.jsonl");
  EXPECT_EQ(JournalFileName(".."), "...jsonl");
  EXPECT_EQ(JournalFileName("caf\xc3\xa9 x"), "caf%C3%A9%20x.jsonl");

  std::string dir = FreshDir();
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  Store::Transaction txn = store->Begin();
  txn.Append("acme/orders", "k", R"({"a":1})", false);
  txn.Append("acme%2Forders", "k", R"({"b":2})", false);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(ReadAll(*store, "acme/orders"), std::vector<std::string>{R"({"a":1})"});
  EXPECT_EQ(ReadAll(*store, "acme%2Forders"), std::vector<std::string>{R"({"b":2})"});
  EXPECT_TRUE(std::filesystem::is_regular_file(dir + "/collections/acme%2Forders.jsonl"));
}

TEST(StoreTest, OneStorePerDirectoryAndClosedStoreRefusesCommits) {
  std::string dir = FreshDir();
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Store::Open(dir).status().code(), absl::StatusCode::kFailedPrecondition);

  Store::Transaction txn = store->Begin();
  txn.Append("c", "k", R"({"a":1})", false);
  ASSERT_TRUE(txn.Commit().ok());
  store->Close();
  txn.Append("c", "k", R"({"a":2})", false);
  EXPECT_EQ(txn.Commit().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAll(*store, "c"), std::vector<std::string>{R"({"a":1})"});

  store.reset();
  EXPECT_NE(MustOpen(dir), nullptr);
}

TEST(StoreTest, ReopenTruncatesTornTailAndUncommittedLines) {
  std::string dir = FreshDir("nested/data");  // Open creates missing parents.
  uint64_t committed = 0;
  {
    std::unique_ptr<Store> store = MustOpen(dir);
    ASSERT_NE(store, nullptr);
    Store::Transaction txn = store->Begin();
    for (int i = 0; i < 3; ++i) txn.Append("acme/orders", StrCat(i), SeqDoc(i), false);
    txn.SetTaskState("capture", CountState(3));
    ASSERT_TRUE(txn.Commit().ok());
    committed = store->CommittedLength("acme/orders");
  }
  // What a crash between the journal writes and the SQLite commit leaves behind: whole lines
  // of a transaction that never committed and a torn last line; and a journal whose first
  // transaction never committed at all.
  const std::string orders = JournalPath(dir, "acme/orders");
  const std::string never = JournalPath(dir, "acme/never");
  AppendToFile(orders, SeqDoc(3) + "\n" + SeqDoc(4) + "\n" + R"({"seq":5,"pa)");
  AppendToFile(never, SeqDoc(0) + "\n" + R"({"se)");
  ASSERT_GT(FileSize(orders), committed);

  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CommittedLength("acme/orders"), committed);
  EXPECT_EQ(FileSize(orders), committed);
  EXPECT_EQ(FileSize(never), 0u);
  EXPECT_EQ(ReadAll(*store, "acme/orders"),
            (std::vector<std::string>{SeqDoc(0), SeqDoc(1), SeqDoc(2)}));
  EXPECT_TRUE(ReadAll(*store, "acme/never").empty());
  EXPECT_EQ(CountOf(MustTaskState(*store, "capture")), 3u);

  // New commits continue right after the committed bytes.
  Store::Transaction txn = store->Begin();
  txn.Append("acme/orders", "3", SeqDoc(3), false);
  txn.Append("acme/never", "0", SeqDoc(7), false);
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(ReadAll(*store, "acme/orders"),
            (std::vector<std::string>{SeqDoc(0), SeqDoc(1), SeqDoc(2), SeqDoc(3)}));
  EXPECT_EQ(ReadAll(*store, "acme/never"), std::vector<std::string>{SeqDoc(7)});
}

TEST(StoreTest, ReadersNeverSeeBytesPastTheCommittedLength) {
  std::string dir = FreshDir();
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  Store::Transaction txn = store->Begin();
  txn.Append("c", "0", SeqDoc(0), false);
  ASSERT_TRUE(txn.Commit().ok());
  const uint64_t committed = store->CommittedLength("c");

  // Bytes of an in-flight commit, as a concurrent reader could find them in the file.
  AppendToFile(JournalPath(dir, "c"), SeqDoc(1) + "\n" + R"({"seq":2)");
  EXPECT_EQ(ReadAll(*store, "c", 1), std::vector<std::string>{SeqDoc(0)});
  EXPECT_FALSE(store->WaitForGrowth("c", committed, absl::Milliseconds(10)));
  EXPECT_EQ(store->ReadJournal("c", committed + 1, 100).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(StoreTest, LostCommittedBytesAreDataLoss) {
  std::string dir = FreshDir();
  {
    std::unique_ptr<Store> store = MustOpen(dir);
    ASSERT_NE(store, nullptr);
    Store::Transaction txn = store->Begin();
    txn.Append("c", "0", SeqDoc(0), false);
    ASSERT_TRUE(txn.Commit().ok());
  }
  std::filesystem::resize_file(JournalPath(dir, "c"), 3);
  EXPECT_EQ(Store::Open(dir).status().code(), absl::StatusCode::kDataLoss);
}

TEST(StoreTest, ReadJournalPagesByMaxBytes) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  const size_t pads[] = {0, 5, 30, 2, 200, 1, 1, 1, 50, 0};
  std::vector<std::string> docs;
  Store::Transaction txn = store->Begin();
  for (size_t i = 0; i < std::size(pads); ++i) {
    docs.push_back(SeqDoc(i, pads[i]));
    txn.Append("c", StrCat(i), docs.back(), false);
  }
  ASSERT_TRUE(txn.Commit().ok());

  for (size_t max_bytes : {0, 1, 30, 64, 100, 250, 10000}) {
    std::vector<std::string> read;
    uint64_t offset = 0;
    for (;;) {
      absl::StatusOr<std::vector<JournalEntry>> page = store->ReadJournal("c", offset, max_bytes);
      ASSERT_TRUE(page.ok()) << page.status();
      if (page->empty()) break;
      uint64_t page_bytes = page->back().end_offset - offset;
      // Within budget unless a single oversized document, and never stopping early.
      EXPECT_TRUE(page_bytes <= max_bytes || page->size() == 1) << max_bytes;
      size_t next = read.size() + page->size();
      if (next < docs.size()) {
        EXPECT_GT(page_bytes + docs[next].size() + 1, max_bytes);
      }
      for (const JournalEntry& entry : *page) read.push_back(entry.doc);
      offset = page->back().end_offset;
    }
    EXPECT_EQ(read, docs) << max_bytes;
  }

  const uint64_t end = store->CommittedLength("c");
  EXPECT_EQ(store->ReadJournal("c", 3, 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ReadJournal("c", end + 1, 100).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(store->ReadJournal("c", end, 100)->empty());
  EXPECT_TRUE(store->ReadJournal("missing", 0, 100)->empty());
  EXPECT_EQ(store->ReadJournal("missing", 1, 100).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(StoreTest, WaitForGrowthWakesAcrossThreads) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);

  absl::Time start = absl::Now();
  EXPECT_FALSE(store->WaitForGrowth("c", 0, absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));

  std::atomic<bool> grew = false;
  std::thread waiter([&] { grew = store->WaitForGrowth("c", 0, absl::Seconds(30)); });
  absl::SleepFor(absl::Milliseconds(50));
  start = absl::Now();
  Store::Transaction txn = store->Begin();
  txn.Append("c", "k", R"({"a":1})", false);
  ASSERT_TRUE(txn.Commit().ok());
  waiter.join();
  EXPECT_TRUE(grew);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));

  // Already past the offset: no wait at all.
  EXPECT_TRUE(store->WaitForGrowth("c", 0, absl::ZeroDuration()));

  // Close wakes a waiter that would otherwise wait for its whole timeout.
  const uint64_t end = store->CommittedLength("c");
  std::thread closed_waiter([&] { grew = store->WaitForGrowth("c", end, absl::Seconds(30)); });
  absl::SleepFor(absl::Milliseconds(50));
  start = absl::Now();
  store->Close();
  closed_waiter.join();
  EXPECT_FALSE(grew);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// A capture thread commits documents with its state, a materialization thread tails the
// journal and commits its own checkpoints, and a third thread reads current documents.
TEST(StoreTest, ConcurrentWritersAndReaders) {
  std::unique_ptr<Store> store = MustOpen(FreshDir());
  ASSERT_NE(store, nullptr);
  constexpr uint64_t kDocs = 1500;
  constexpr uint64_t kKeys = 13;
  std::atomic<bool> capture_done = false;

  std::thread capture([&] {
    std::mt19937 rng(7);
    Store::Transaction txn = store->Begin();
    for (uint64_t seq = 0; seq < kDocs;) {
      for (uint64_t n = 1 + rng() % 8; n > 0 && seq < kDocs; --n, ++seq) {
        txn.Append("events", StrCat(seq), SeqDoc(seq, rng() % 40), false);
        txn.Append("latest", StrCat(seq % kKeys), SeqDoc(seq), false);
      }
      txn.SetTaskState("capture", CountState(seq));
      ASSERT_TRUE(txn.Commit().ok());
    }
    capture_done = true;
  });

  std::thread materialize([&] {
    Store::Transaction txn = store->Begin();
    uint64_t offset = 0;
    uint64_t next_seq = 0;
    while (next_seq < kDocs) {
      if (!store->WaitForGrowth("events", offset, absl::Seconds(30))) break;
      absl::StatusOr<std::vector<JournalEntry>> page = store->ReadJournal("events", offset, 256);
      ASSERT_TRUE(page.ok()) << page.status();
      for (const JournalEntry& entry : *page) {
        ASSERT_EQ(SeqOf(entry.doc), next_seq++);
        offset = entry.end_offset;
      }
      txn.SetTaskState("materialize", CountState(next_seq));
      ASSERT_TRUE(txn.Commit().ok());
    }
    EXPECT_EQ(next_seq, kDocs);
  });

  std::thread reader([&] {
    uint64_t last_count = 0;
    while (!capture_done) {
      uint64_t count = CountOf(MustTaskState(*store, "capture"));
      EXPECT_GE(count, last_count);
      last_count = count;
      std::vector<std::pair<std::string, std::string>> rows = ScanAll(*store, "latest");
      EXPECT_LE(rows.size(), kKeys);
      for (size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1].first, rows[i].first);
      for (const auto& [key, doc] : rows) EXPECT_EQ(StrCat(SeqOf(doc) % kKeys), key);
      EXPECT_LE(MustCount(*store, "latest"), kKeys);
    }
  });

  capture.join();
  materialize.join();
  reader.join();
  EXPECT_EQ(CountOf(MustTaskState(*store, "capture")), kDocs);
  EXPECT_EQ(CountOf(MustTaskState(*store, "materialize")), kDocs);
  EXPECT_EQ(MustCount(*store, "latest"), kKeys);
  for (uint64_t key = 0; key < kKeys; ++key) {
    uint64_t last = (kDocs - 1) - ((kDocs - 1 - key) % kKeys);
    EXPECT_EQ(MustCurrent(*store, "latest", StrCat(key)), SeqDoc(last));
  }
}

// ---- Real crashes ----------------------------------------------------------------------------

constexpr std::string_view kEvents = "acme/events";
constexpr std::string_view kLatest = "acme/latest";
constexpr uint64_t kLatestKeys = 17;

// In "latest", document `seq` writes key seq % kLatestKeys, deleting it when seq % 5 == 0.
bool IsDelete(uint64_t seq) { return seq % 5 == 0; }

// Runs in a forked child until killed: continues the sequence its task state has counted so
// far, committing transactions of random sizes. Exits only on a failure.
[[noreturn]] void CommitForever(const std::string& dir, uint32_t seed) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir);
  if (!store.ok()) ::_exit(2);
  absl::StatusOr<std::string> state = (*store)->TaskState("capture");
  if (!state.ok()) ::_exit(3);
  uint64_t seq = CountOf(*state);
  std::mt19937 rng(seed);
  Store::Transaction txn = (*store)->Begin();
  for (;;) {
    for (uint32_t n = 1 + rng() % 40; n > 0; --n, ++seq) {
      std::string doc = SeqDoc(seq, rng() % 3000);
      txn.Append(kEvents, StrCat(seq), doc, false);
      txn.Append(kLatest, StrCat(seq % kLatestKeys), doc, IsDelete(seq));
    }
    txn.SetTaskState("capture", CountState(seq));
    if (!txn.Commit().ok()) ::_exit(4);
  }
}

// After any crash, both journals hold exactly the documents the task state counts, in order,
// and the current documents are those of the last committed writes.
void ExpectConsistent(const std::string& dir, uint64_t* count) {
  std::unique_ptr<Store> store = MustOpen(dir);
  ASSERT_NE(store, nullptr);
  *count = CountOf(MustTaskState(*store, "capture"));
  for (std::string_view collection : {kEvents, kLatest}) {
    std::vector<std::string> docs = ReadAll(*store, collection, 8192);
    ASSERT_EQ(docs.size(), *count) << collection;
    for (uint64_t seq = 0; seq < docs.size(); ++seq) ASSERT_EQ(SeqOf(docs[seq]), seq);
    EXPECT_EQ(FileSize(JournalPath(dir, collection)), store->CommittedLength(collection));
  }
  uint64_t present = 0;
  for (uint64_t key = 0; key < kLatestKeys && key < *count; ++key) {
    uint64_t last = (*count - 1) - ((*count - 1 - key) % kLatestKeys);
    std::optional<std::string> doc = MustCurrent(*store, kLatest, StrCat(key));
    if (IsDelete(last)) {
      EXPECT_EQ(doc, std::nullopt) << key;
    } else {
      ++present;
      EXPECT_EQ(SeqOf(doc.value_or("")), last) << key;
    }
  }
  EXPECT_EQ(MustCount(*store, kLatest), present);
}

TEST(StoreTest, SurvivesSigkillDuringCommits) {
  const std::string dir = FreshDir();
  std::mt19937 rng(testing::UnitTest::GetInstance()->random_seed());
  uint64_t count = 0;
  int torn_rounds = 0;
  for (int round = 0; round < 8; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) CommitForever(dir, static_cast<uint32_t>(rng()));
    absl::SleepFor(absl::Milliseconds(50 + rng() % 250));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int wait_status = 0;
    ASSERT_EQ(::waitpid(pid, &wait_status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wait_status))
        << "child failed with exit code " << WEXITSTATUS(wait_status);

    uint64_t size_before = FileSize(JournalPath(dir, kEvents));
    uint64_t previous = count;
    ExpectConsistent(dir, &count);
    if (testing::Test::HasFatalFailure()) return;
    EXPECT_GE(count, previous);
    if (size_before > FileSize(JournalPath(dir, kEvents))) ++torn_rounds;
  }
  EXPECT_GT(count, 0u);
  // How often a kill landed between journal writes and their SQLite commit; informational,
  // since where the kills land is up to the scheduler.
  testing::Test::RecordProperty("truncated_rounds", torn_rounds);
  testing::Test::RecordProperty("committed_documents", static_cast<int>(count));
}

}  // namespace
}  // namespace connectors::local
