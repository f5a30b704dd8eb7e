// Durable store of the local runtime, kept in one data directory: an append-only JSON-lines
// journal per collection, plus an SQLite database holding each journal's committed length, the
// current document of every collection key, and the persisted state of every task.
//
// Contract:
//  - Writes go through a Transaction and become visible (and durable) all at once on Commit; a
//    crash at any moment leaves either all of a transaction or none of it (see STORE.md).
//  - Readers only ever see committed bytes and rows. Open() truncates every journal to its
//    committed length, dropping torn tails and appends of transactions that never committed.
//  - Memory is bounded by the size of a transaction (and of a ReadJournal page), never by the
//    size of a collection.
//  - All methods are thread-safe; commits are serialised, reads run concurrently with them.
//  - One Store per directory: a second Open of the same directory, from any process, fails
//    with FailedPrecondition until the first is destroyed (or its process dies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace connectors::local {

// One committed document of a journal, with the byte offset just past it (and its newline):
// the offset to resume reading from.
struct JournalEntry {
  std::string doc;
  uint64_t end_offset = 0;
};

// File name of `collection`'s journal inside `<dir>/collections/`: bytes other than
// [A-Za-z0-9._-] are written as %XX, so distinct names map to distinct files and '/' never
// creates subdirectories. Names whose file name would exceed 240 bytes are rejected on Commit.
std::string JournalFileName(std::string_view collection);

class Store {
 public:
  // Creates `dir` (and its parents) if needed, or opens an existing store, truncating every
  // journal to its committed length. A journal shorter than its committed length means
  // committed data was lost outside the store: DataLoss.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir);

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // No Transaction or reader call may be in flight or follow.
  ~Store();

  // Buffers writes in memory until Commit. Not thread-safe itself: one thread per
  // transaction; several transactions (e.g. a capture's and a materialization's) may be built
  // and committed concurrently, their commits are serialised.
  class Transaction {
   public:
    Transaction(Transaction&&) = default;
    Transaction& operator=(Transaction&&) = default;

    // Appends `doc_json` (one JSON document without newlines) to `collection`'s journal, and
    // makes it the current document of `key_packed`, or removes that key if `is_delete` (the
    // document is journaled either way). Within and across transactions the last write wins.
    // An empty document, one containing a newline, or an empty or over-long collection name
    // makes Commit fail with InvalidArgument without writing anything. JSON is not parsed.
    void Append(std::string_view collection, std::string_view key_packed, std::string_view doc_json,
                bool is_delete);

    // Replaces the persisted state of `task`, atomically with the appends.
    void SetTaskState(std::string_view task, std::string_view state_json);

    // Makes everything durable and visible at once, then leaves the transaction empty for
    // reuse (on failure too). After an I/O failure the outcome on disk may be unknown, so the
    // Store refuses further commits (reads keep working) until it is reopened.
    absl::Status Commit();

    bool empty() const { return journals_.empty() && task_states_.empty(); }

   private:
    friend class Store;
    using PendingJournals = std::map<std::string, std::string, std::less<>>;
    // A current-document update; its document lives in the collection's pending bytes.
    struct KeyUpdate {
      PendingJournals::iterator journal;
      std::string key_packed;
      size_t doc_begin = 0;
      size_t doc_size = 0;
      bool is_delete = false;
    };

    explicit Transaction(Store* store) : store_(store) {}
    void Clear();

    Store* store_;
    absl::Status status_;                 // First invalid Append.
    PendingJournals journals_;            // Collection -> newline-terminated documents to append.
    std::vector<KeyUpdate> key_updates_;  // In Append order, so the last write wins.
    std::map<std::string, std::string, std::less<>> task_states_;
  };

  Transaction Begin() { return Transaction(this); }

  // The last committed state of `task`, or "" if it was never set.
  absl::StatusOr<std::string> TaskState(std::string_view task) const;

  // Committed bytes of `collection`'s journal; 0 for a collection never written.
  uint64_t CommittedLength(std::string_view collection) const;

  // Committed documents from byte `offset` (0, or an end_offset previously returned), as many
  // whole documents as fit in `max_bytes` counting their newlines, but always at least one so
  // that a document larger than `max_bytes` is still returned (alone). Empty at the committed
  // end. An offset past the committed end is OutOfRange; one not at a document boundary is
  // InvalidArgument.
  absl::StatusOr<std::vector<JournalEntry>> ReadJournal(std::string_view collection,
                                                        uint64_t offset, size_t max_bytes) const;

  // Blocks until `collection`'s committed length exceeds `offset`, `timeout` passes, or
  // Close() is called; returns whether the length exceeds `offset`.
  bool WaitForGrowth(std::string_view collection, uint64_t offset, absl::Duration timeout) const;

  // The current document of `key_packed` in `collection`, or nullopt if absent or deleted.
  absl::StatusOr<std::optional<std::string>> Current(std::string_view collection,
                                                     std::string_view key_packed) const;

  // Calls `fn` for every current document of `collection` in bytewise key order, streaming
  // from disk over one consistent snapshot. The views are valid during the call only. A
  // non-OK status from `fn` stops the scan and is returned. `fn` may call the other read
  // methods (each uses its own connection).
  absl::Status ScanCurrent(
      std::string_view collection,
      absl::FunctionRef<absl::Status(std::string_view key_packed, std::string_view doc)> fn) const;

  absl::StatusOr<uint64_t> CountCurrent(std::string_view collection) const;

  // Wakes every WaitForGrowth and makes later commits fail with FailedPrecondition. Reads keep
  // working until the Store is destroyed.
  void Close();

 private:
  struct Journal;
  class Writer;
  class Reader;
  class ReaderLease;

  Store(std::string dir, int lock_fd);
  absl::Status Load();
  absl::Status TruncateUnknownJournals();
  absl::Status CommitTransaction(Transaction& txn);
  absl::StatusOr<Journal*> JournalForWrite(std::string_view collection)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status WriteJournals(const Transaction& txn, const std::vector<Journal*>& journals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status RecordCommit(const Transaction& txn, const std::vector<Journal*>& journals)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  const Journal* FindJournal(std::string_view collection) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  uint64_t LengthLocked(std::string_view collection) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::unique_ptr<Reader>> AcquireReader() const;
  void ReleaseReader(std::unique_ptr<Reader> reader) const;

  const std::string dir_;
  const int lock_fd_;

  // Serialises commits, and owns the write connection and its statements.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<Writer> writer_ ABSL_GUARDED_BY(write_mu_);
  absl::Status broken_ ABSL_GUARDED_BY(write_mu_);  // Sticky I/O failure of a commit.

  // Guards the journals map and committed lengths seen by readers; `grown_` signals commits.
  mutable absl::Mutex mu_;
  mutable absl::CondVar grown_;
  std::map<std::string, std::unique_ptr<Journal>, std::less<>> journals_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Idle read connections. Each concurrent (or nested, from ScanCurrent's callback) read holds
  // its own, so readers never wait on each other or on a commit.
  mutable absl::Mutex readers_mu_;
  mutable std::vector<std::unique_ptr<Reader>> idle_readers_ ABSL_GUARDED_BY(readers_mu_);
};

}  // namespace connectors::local
