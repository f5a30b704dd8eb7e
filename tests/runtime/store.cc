#include "tests/runtime/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

#include "libs/base/strings.h"
#include "libs/base/unique_fd.h"

namespace connectors::local {
namespace {

constexpr std::string_view kJournalSuffix = ".jsonl";
// Leaves room under NAME_MAX (255) on every common filesystem.
constexpr size_t kMaxJournalFileName = 240;
constexpr int kBusyTimeoutMs = 10000;

// ---- File descriptors -------------------------------------------------------------------------

using Fd = UniqueFd;

absl::Status ErrnoError(std::string_view what, std::string_view path) {
  int error = errno;
  return absl::ErrnoToStatus(error, StrCat(what, " ", path));
}

absl::StatusOr<Fd> OpenFile(const std::string& path, int flags) {
  Fd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoError("open", path);
  return fd;
}

// Makes a directory entry (a created file or subdirectory) durable.
absl::Status SyncDir(const std::string& path) {
  absl::StatusOr<Fd> fd = OpenFile(path, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoError("fsync", path);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view bytes, uint64_t offset, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write", path);
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* out, size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read", "journal");
    // Committed bytes were fsync'ed and the file is never truncated below them.
    if (n == 0) return absl::DataLossError("journal ends before its committed length");
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// Opens a journal recorded as `committed` bytes long and cuts anything past that: a torn write
// or the appends of a transaction whose SQLite commit never happened.
absl::StatusOr<Fd> OpenCommittedJournal(const std::string& path, uint64_t committed) {
  absl::StatusOr<Fd> fd = OpenFile(path, O_RDWR | O_CREAT);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return ErrnoError("stat", path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < committed) {
    return absl::DataLossError(
        StrCat("journal ", path, " has ", size, " bytes but ", committed, " were committed"));
  }
  if (size > committed) {
    if (::ftruncate(fd->get(), static_cast<off_t>(committed)) != 0) {
      return ErrnoError("truncate", path);
    }
    if (::fdatasync(fd->get()) != 0) return ErrnoError("fdatasync", path);
  }
  return fd;
}

// Creates the directories, syncing the entries of new ones.
absl::Status CreateDirs(const std::string& dir, const std::string& collections_dir) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(dir, ec);
  if (ec) return absl::InternalError(StrCat("resolve ", dir, ": ", ec.message()));
  bool created = std::filesystem::create_directories(absolute, ec);
  if (ec) return absl::InternalError(StrCat("create ", dir, ": ", ec.message()));
  if (created) {
    absl::Status status = SyncDir(absolute.parent_path().string());
    if (!status.ok()) return status;
  }
  if (std::filesystem::create_directory(collections_dir, ec)) {
    absl::Status status = SyncDir(dir);
    if (!status.ok()) return status;
  }
  if (ec) return absl::InternalError(StrCat("create ", collections_dir, ": ", ec.message()));
  return absl::OkStatus();
}

// Holds an exclusive flock on `<dir>/LOCK`: two Stores writing one directory would truncate each
// other's uncommitted appends. The kernel drops the lock when the process dies.
absl::StatusOr<int> LockDir(const std::string& dir) {
  std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(StrCat("store ", dir, " is already open"));
    }
    return absl::ErrnoToStatus(error, StrCat("lock ", path));
  }
  return fd;
}

// ---- SQLite ----------------------------------------------------------------------------------

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = absl::StatusCode::kDataLoss;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = absl::StatusCode::kUnavailable;
      break;
  }
  std::string message = StrCat("sqlite: ", what, ": ", sqlite3_errstr(rc));
  if (db != nullptr) StrAppend(&message, " (", sqlite3_errmsg(db), ")");
  return absl::Status(code, message);
}

absl::StatusOr<Db> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // Owns the handle even when opening failed.
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, StrCat("open ", path));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

absl::Status Exec(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, StrCat("prepare ", sql));
  return stmt;
}

// One execution of a prepared statement: binds parameters in order, steps, and resets the
// statement on destruction, so a reused statement never keeps a read transaction open (which
// would pin an old snapshot and hold back WAL checkpoints).
class Query {
 public:
  explicit Query(const Stmt& stmt) : stmt_(stmt.get()) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // A null pointer would bind SQL NULL rather than an empty value.
  Query& Text(std::string_view value) {
    return Bind(sqlite3_bind_text64(stmt_, next_++, value.empty() ? "" : value.data(), value.size(),
                                    SQLITE_STATIC, SQLITE_UTF8));
  }
  Query& Blob(std::string_view value) {
    return Bind(sqlite3_bind_blob64(stmt_, next_++, value.empty() ? "" : value.data(), value.size(),
                                    SQLITE_STATIC));
  }
  Query& Int(int64_t value) { return Bind(sqlite3_bind_int64(stmt_, next_++, value)); }

  // True when a row is available.
  absl::StatusOr<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return Error(bind_rc_);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error(rc);
  }

  // Runs a statement that returns no rows.
  absl::Status Run() {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    return absl::OkStatus();
  }

  std::string_view Column(int i) const {
    const void* data = sqlite3_column_blob(stmt_, i);
    if (data == nullptr) return {};
    return {static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, i))};
  }
  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  Query& Bind(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  absl::Status Error(int rc) const {
    return SqliteError(sqlite3_db_handle(stmt_), rc, sqlite3_sql(stmt_));
  }

  sqlite3_stmt* stmt_;
  int next_ = 1;
  int bind_rc_ = SQLITE_OK;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS journals (
  collection TEXT PRIMARY KEY NOT NULL,
  length INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS current_documents (
  collection TEXT NOT NULL,
  key BLOB NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_states (
  task TEXT PRIMARY KEY NOT NULL,
  state TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// WAL lets readers run beside the single writer; it is a property of the database file.
absl::Status EnableWal(sqlite3* db) {
  absl::StatusOr<Stmt> stmt = Prepare(db, "PRAGMA journal_mode=WAL");
  if (!stmt.ok()) return stmt.status();
  Query query(*stmt);
  absl::StatusOr<bool> row = query.Step();
  if (!row.ok()) return row.status();
  if (!*row || query.Column(0) != "wal") {
    return absl::FailedPreconditionError("sqlite: WAL journal mode is unavailable");
  }
  return absl::OkStatus();
}

bool IsFileNameSafe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

std::string JournalFileName(std::string_view collection) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string name;
  for (unsigned char c : collection) {
    if (IsFileNameSafe(c)) {
      name.push_back(static_cast<char>(c));
    } else {
      StrAppend(&name, '%', kHex[c >> 4], kHex[c & 0xf]);
    }
  }
  StrAppend(&name, kJournalSuffix);
  return name;
}

// ---- Private types ---------------------------------------------------------------------------

struct Store::Journal {
  std::string file_name;
  Fd fd;
  // Bytes readers may see. Written under both write_mu_ and mu_; read under either.
  uint64_t committed = 0;
};

// The single write connection, with every statement a commit needs.
class Store::Writer {
 public:
  static absl::StatusOr<std::unique_ptr<Writer>> Open(const std::string& path) {
    auto writer = std::make_unique<Writer>();
    absl::StatusOr<Db> db = OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!db.ok()) return db.status();
    writer->db = *std::move(db);
    sqlite3* raw = writer->db.get();
    absl::Status status = EnableWal(raw);
    // FULL syncs the WAL on every commit, so a returned Commit survives power loss.
    if (status.ok()) status = Exec(raw, "PRAGMA synchronous=FULL");
    if (status.ok()) status = Exec(raw, kSchema);
    if (status.ok()) status = writer->PrepareAll();
    if (!status.ok()) return status;
    return writer;
  }

  Db db;
  Stmt begin, commit, rollback, put_length, put_doc, delete_doc, put_state;

 private:
  absl::Status PrepareAll() {
    std::pair<Stmt*, std::string_view> statements[] = {
        {&begin, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&put_length,
         "INSERT INTO journals (collection, length) VALUES (?1, ?2) "
         "ON CONFLICT (collection) DO UPDATE SET length = excluded.length"},
        {&put_doc,
         "INSERT INTO current_documents (collection, key, doc) VALUES (?1, ?2, ?3) "
         "ON CONFLICT (collection, key) DO UPDATE SET doc = excluded.doc"},
        {&delete_doc, "DELETE FROM current_documents WHERE collection = ?1 AND key = ?2"},
        {&put_state,
         "INSERT INTO task_states (task, state) VALUES (?1, ?2) "
         "ON CONFLICT (task) DO UPDATE SET state = excluded.state"},
    };
    for (auto& [stmt, sql] : statements) {
      absl::StatusOr<Stmt> prepared = Prepare(db.get(), sql);
      if (!prepared.ok()) return prepared.status();
      *stmt = *std::move(prepared);
    }
    return absl::OkStatus();
  }
};

// A read-only connection with the statements readers reuse.
class Store::Reader {
 public:
  static absl::StatusOr<std::unique_ptr<Reader>> Open(const std::string& path) {
    auto reader = std::make_unique<Reader>();
    absl::StatusOr<Db> db = OpenDb(path, SQLITE_OPEN_READWRITE);
    if (!db.ok()) return db.status();
    reader->db = *std::move(db);
    absl::Status status = Exec(reader->db.get(), "PRAGMA query_only=1");
    if (status.ok()) status = reader->PrepareAll();
    if (!status.ok()) return status;
    return reader;
  }

  Db db;
  Stmt task_state, current, scan, count;

 private:
  absl::Status PrepareAll() {
    std::pair<Stmt*, std::string_view> statements[] = {
        {&task_state, "SELECT state FROM task_states WHERE task = ?1"},
        {&current, "SELECT doc FROM current_documents WHERE collection = ?1 AND key = ?2"},
        {&scan, "SELECT key, doc FROM current_documents WHERE collection = ?1 ORDER BY key"},
        {&count, "SELECT COUNT(*) FROM current_documents WHERE collection = ?1"},
    };
    for (auto& [stmt, sql] : statements) {
      absl::StatusOr<Stmt> prepared = Prepare(db.get(), sql);
      if (!prepared.ok()) return prepared.status();
      *stmt = *std::move(prepared);
    }
    return absl::OkStatus();
  }
};

// Borrows an idle Reader for the duration of one read call.
class Store::ReaderLease {
 public:
  static absl::StatusOr<ReaderLease> Acquire(const Store* store) {
    absl::StatusOr<std::unique_ptr<Reader>> reader = store->AcquireReader();
    if (!reader.ok()) return reader.status();
    return ReaderLease(store, *std::move(reader));
  }
  ReaderLease(ReaderLease&&) = default;
  ~ReaderLease() {
    if (reader_ != nullptr) store_->ReleaseReader(std::move(reader_));
  }

  Reader* operator->() const { return reader_.get(); }

 private:
  ReaderLease(const Store* store, std::unique_ptr<Reader> reader)
      : store_(store), reader_(std::move(reader)) {}

  const Store* store_;
  std::unique_ptr<Reader> reader_;
};

// ---- Opening and closing ---------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir) {
  absl::Status status = CreateDirs(dir, dir + "/collections");
  if (!status.ok()) return status;
  absl::StatusOr<int> lock_fd = LockDir(dir);
  if (!lock_fd.ok()) return lock_fd.status();
  std::unique_ptr<Store> store(new Store(dir, *lock_fd));
  status = store->Load();
  if (!status.ok()) return status;
  return store;
}

Store::Store(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}

Store::~Store() {
  Close();
  {
    absl::MutexLock write_lock(&write_mu_);
    writer_.reset();
  }
  {
    absl::MutexLock lock(&readers_mu_);
    idle_readers_.clear();
  }
  {
    absl::MutexLock lock(&mu_);
    journals_.clear();
  }
  // Last, so that a next opener never races our connections or file descriptors.
  ::close(lock_fd_);
}

// Opens the write connection and every recorded journal, truncated to its committed length.
absl::Status Store::Load() {
  absl::MutexLock write_lock(&write_mu_);
  absl::StatusOr<std::unique_ptr<Writer>> writer = Writer::Open(dir_ + "/store.sqlite");
  if (!writer.ok()) return writer.status();
  writer_ = *std::move(writer);

  absl::StatusOr<Stmt> list = Prepare(writer_->db.get(), "SELECT collection, length FROM journals");
  if (!list.ok()) return list.status();
  Query query(*list);
  for (;;) {
    absl::StatusOr<bool> row = query.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto journal = std::make_unique<Journal>();
    journal->file_name = JournalFileName(query.Column(0));
    journal->committed = static_cast<uint64_t>(query.ColumnInt(1));
    absl::StatusOr<Fd> fd =
        OpenCommittedJournal(dir_ + "/collections/" + journal->file_name, journal->committed);
    if (!fd.ok()) return fd.status();
    journal->fd = *std::move(fd);
    absl::MutexLock lock(&mu_);
    journals_.emplace(std::string(query.Column(0)), std::move(journal));
  }
  return TruncateUnknownJournals();
}

// A journal file without a recorded length belongs to a collection whose first transaction
// never committed: all of its bytes are uncommitted.
absl::Status Store::TruncateUnknownJournals() {
  std::set<std::string, std::less<>> known;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, journal] : journals_) known.insert(journal->file_name);
  }
  std::string collections_dir = dir_ + "/collections";
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(collections_dir.c_str()), &::closedir);
  if (listing == nullptr) return ErrnoError("list", collections_dir);
  while (const dirent* entry = ::readdir(listing.get())) {
    std::string_view name = entry->d_name;
    if (!name.ends_with(kJournalSuffix) || known.contains(name)) continue;
    absl::StatusOr<Fd> fd = OpenCommittedJournal(StrCat(collections_dir, "/", name), 0);
    if (!fd.ok()) return fd.status();
  }
  return absl::OkStatus();
}

void Store::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  grown_.SignalAll();
}

// ---- Transactions ----------------------------------------------------------------------------

void Store::Transaction::Append(std::string_view collection, std::string_view key_packed,
                                std::string_view doc_json, bool is_delete) {
  if (!status_.ok()) return;
  if (collection.empty() || JournalFileName(collection).size() > kMaxJournalFileName) {
    status_ = absl::InvalidArgumentError(StrCat("invalid collection name \"", collection, "\""));
    return;
  }
  // One document per line is what lets the journal be read and truncated without parsing.
  if (doc_json.empty() || doc_json.find('\n') != std::string_view::npos) {
    status_ = absl::InvalidArgumentError(
        StrCat("document for ", collection, " must be non-empty and free of newlines"));
    return;
  }
  auto journal = journals_.find(collection);
  if (journal == journals_.end()) journal = journals_.emplace(collection, std::string()).first;
  std::string& bytes = journal->second;
  key_updates_.push_back(KeyUpdate{.journal = journal,
                                   .key_packed = std::string(key_packed),
                                   .doc_begin = bytes.size(),
                                   .doc_size = doc_json.size(),
                                   .is_delete = is_delete});
  StrAppend(&bytes, doc_json, '\n');
}

void Store::Transaction::SetTaskState(std::string_view task, std::string_view state_json) {
  task_states_.insert_or_assign(std::string(task), std::string(state_json));
}

absl::Status Store::Transaction::Commit() {
  absl::Status status = store_->CommitTransaction(*this);
  Clear();
  return status;
}

void Store::Transaction::Clear() {
  status_ = absl::OkStatus();
  key_updates_.clear();
  journals_.clear();
  task_states_.clear();
}

// Journal bytes first, then the SQLite transaction that makes them committed: until that
// commit is durable, every appended byte lies past a recorded length and is dropped on Open.
absl::Status Store::CommitTransaction(Transaction& txn) {
  if (!txn.status_.ok()) return txn.status_;
  absl::MutexLock write_lock(&write_mu_);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (closed_) return absl::FailedPreconditionError("store is closed");
  }
  if (!broken_.ok()) return broken_;
  if (txn.empty()) return absl::OkStatus();

  std::vector<Journal*> journals;
  for (const auto& [collection, bytes] : txn.journals_) {
    absl::StatusOr<Journal*> journal = JournalForWrite(collection);
    if (!journal.ok()) return journal.status();
    journals.push_back(*journal);
  }
  absl::Status status = WriteJournals(txn, journals);
  if (status.ok()) status = RecordCommit(txn, journals);
  if (!status.ok()) {
    // A failed fsync or COMMIT leaves the on-disk outcome unknown; only Open can tell.
    broken_ =
        absl::Status(status.code(), StrCat("commit failed, reopen the store: ", MessageOf(status)));
    return broken_;
  }

  absl::MutexLock lock(&mu_);
  size_t i = 0;
  for (const auto& [collection, bytes] : txn.journals_) journals[i++]->committed += bytes.size();
  grown_.SignalAll();
  return absl::OkStatus();
}

absl::StatusOr<Store::Journal*> Store::JournalForWrite(std::string_view collection) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = journals_.find(collection);
    if (it != journals_.end()) return it->second.get();
  }
  auto journal = std::make_unique<Journal>();
  journal->file_name = JournalFileName(collection);
  std::string collections_dir = dir_ + "/collections";
  absl::StatusOr<Fd> fd = OpenFile(collections_dir + "/" + journal->file_name, O_RDWR | O_CREAT);
  if (!fd.ok()) return fd.status();
  journal->fd = *std::move(fd);
  // The new file's directory entry must be durable before its length is recorded.
  absl::Status status = SyncDir(collections_dir);
  if (!status.ok()) return status;
  Journal* raw = journal.get();
  absl::MutexLock lock(&mu_);
  journals_.emplace(std::string(collection), std::move(journal));
  return raw;
}

// Writes at the committed length rather than the file's end, so bytes left by an earlier
// failed attempt can never end up in front of committed ones.
absl::Status Store::WriteJournals(const Transaction& txn, const std::vector<Journal*>& journals) {
  size_t i = 0;
  for (const auto& [collection, bytes] : txn.journals_) {
    const Journal& journal = *journals[i++];
    absl::Status status = WriteAll(journal.fd.get(), bytes, journal.committed, journal.file_name);
    if (!status.ok()) return status;
  }
  // Sync after all writes, so the kernel can flush the journals together.
  for (const Journal* journal : journals) {
    if (::fdatasync(journal->fd.get()) != 0) return ErrnoError("fdatasync", journal->file_name);
  }
  return absl::OkStatus();
}

// One SQLite transaction: new journal lengths, current documents and task states.
absl::Status Store::RecordCommit(const Transaction& txn, const std::vector<Journal*>& journals) {
  Writer& w = *writer_;
  absl::Status status = Query(w.begin).Run();
  size_t i = 0;
  for (const auto& [collection, bytes] : txn.journals_) {
    if (!status.ok()) break;
    uint64_t length = journals[i++]->committed + bytes.size();
    status = Query(w.put_length).Text(collection).Int(static_cast<int64_t>(length)).Run();
  }
  for (const Transaction::KeyUpdate& update : txn.key_updates_) {
    if (!status.ok()) break;
    const auto& [collection, bytes] = *update.journal;
    if (update.is_delete) {
      status = Query(w.delete_doc).Text(collection).Blob(update.key_packed).Run();
    } else {
      std::string_view doc = std::string_view(bytes).substr(update.doc_begin, update.doc_size);
      status = Query(w.put_doc).Text(collection).Blob(update.key_packed).Text(doc).Run();
    }
  }
  for (const auto& [task, state] : txn.task_states_) {
    if (!status.ok()) break;
    status = Query(w.put_state).Text(task).Text(state).Run();
  }
  if (status.ok()) status = Query(w.commit).Run();
  // Harmless if SQLite already rolled back; the status reported is the first failure.
  if (!status.ok()) Query(w.rollback).Run().IgnoreError();
  return status;
}

// ---- Readers ---------------------------------------------------------------------------------

const Store::Journal* Store::FindJournal(std::string_view collection) const {
  auto it = journals_.find(collection);
  return it == journals_.end() ? nullptr : it->second.get();
}

uint64_t Store::LengthLocked(std::string_view collection) const {
  const Journal* journal = FindJournal(collection);
  return journal == nullptr ? 0 : journal->committed;
}

absl::StatusOr<std::unique_ptr<Store::Reader>> Store::AcquireReader() const {
  {
    absl::MutexLock lock(&readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Reader> reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  return Reader::Open(dir_ + "/store.sqlite");
}

void Store::ReleaseReader(std::unique_ptr<Reader> reader) const {
  absl::MutexLock lock(&readers_mu_);
  idle_readers_.push_back(std::move(reader));
}

uint64_t Store::CommittedLength(std::string_view collection) const {
  absl::ReaderMutexLock lock(&mu_);
  return LengthLocked(collection);
}

bool Store::WaitForGrowth(std::string_view collection, uint64_t offset,
                          absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  while (!closed_ && LengthLocked(collection) <= offset) {
    if (grown_.WaitWithDeadline(&mu_, deadline)) break;  // Timed out.
  }
  return LengthLocked(collection) > offset;
}

namespace {

// Splits `buf` (journal bytes starting at `offset`) into whole documents, keeping those that end
// within `max_bytes` and always the first.
std::vector<JournalEntry> SplitDocuments(std::string_view buf, uint64_t offset, size_t max_bytes) {
  std::vector<JournalEntry> entries;
  size_t begin = 0;
  for (size_t newline; (newline = buf.find('\n', begin)) != std::string_view::npos;) {
    if (!entries.empty() && newline + 1 > max_bytes) break;
    entries.push_back({.doc = std::string(buf.substr(begin, newline - begin)),
                       .end_offset = offset + newline + 1});
    begin = newline + 1;
  }
  return entries;
}

// Reads whole documents from `offset` in a journal whose committed bytes end at `end`.
absl::StatusOr<std::vector<JournalEntry>> ReadDocuments(int fd, uint64_t offset, uint64_t end,
                                                        size_t max_bytes) {
  uint64_t available = end - offset;
  std::string buf;
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(max_bytes, 1), available));
  // Grow past max_bytes only for a first document larger than it. The committed bytes end with
  // a newline, so this stops at `end` at the latest.
  for (;;) {
    size_t have = buf.size();
    buf.resize(want);
    absl::Status status = ReadAll(fd, buf.data() + have, want - have, offset + have);
    if (!status.ok()) return status;
    if (buf.find('\n', have) != std::string::npos) break;
    if (want == available) return absl::DataLossError("committed journal bytes lack a newline");
    want = static_cast<size_t>(std::min<uint64_t>(uint64_t{want} * 2, available));
  }
  return SplitDocuments(buf, offset, max_bytes);
}

}  // namespace

absl::StatusOr<std::vector<JournalEntry>> Store::ReadJournal(std::string_view collection,
                                                             uint64_t offset,
                                                             size_t max_bytes) const {
  int fd = -1;
  uint64_t end = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (const Journal* journal = FindJournal(collection)) {
      fd = journal->fd.get();
      end = journal->committed;
    }
  }
  if (offset > end) {
    return absl::OutOfRangeError(
        StrCat("offset ", offset, " is past the committed length ", end, " of ", collection));
  }
  if (offset == end) return std::vector<JournalEntry>();
  if (offset > 0) {
    char previous = 0;
    absl::Status status = ReadAll(fd, &previous, 1, offset - 1);
    if (!status.ok()) return status;
    if (previous != '\n') {
      return absl::InvalidArgumentError(
          StrCat("offset ", offset, " of ", collection, " is not at a document boundary"));
    }
  }
  return ReadDocuments(fd, offset, end, max_bytes);
}

absl::StatusOr<std::string> Store::TaskState(std::string_view task) const {
  absl::StatusOr<ReaderLease> reader = ReaderLease::Acquire(this);
  if (!reader.ok()) return reader.status();
  Query query((*reader)->task_state);
  query.Text(task);
  absl::StatusOr<bool> row = query.Step();
  if (!row.ok()) return row.status();
  return *row ? std::string(query.Column(0)) : std::string();
}

absl::StatusOr<std::optional<std::string>> Store::Current(std::string_view collection,
                                                          std::string_view key_packed) const {
  absl::StatusOr<ReaderLease> reader = ReaderLease::Acquire(this);
  if (!reader.ok()) return reader.status();
  Query query((*reader)->current);
  query.Text(collection).Blob(key_packed);
  absl::StatusOr<bool> row = query.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(query.Column(0)));
}

absl::Status Store::ScanCurrent(
    std::string_view collection,
    absl::FunctionRef<absl::Status(std::string_view key_packed, std::string_view doc)> fn) const {
  absl::StatusOr<ReaderLease> reader = ReaderLease::Acquire(this);
  if (!reader.ok()) return reader.status();
  Query query((*reader)->scan);
  query.Text(collection);
  for (;;) {
    absl::StatusOr<bool> row = query.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    absl::Status status = fn(query.Column(0), query.Column(1));
    if (!status.ok()) return status;
  }
}

absl::StatusOr<uint64_t> Store::CountCurrent(std::string_view collection) const {
  absl::StatusOr<ReaderLease> reader = ReaderLease::Acquire(this);
  if (!reader.ok()) return reader.status();
  Query query((*reader)->count);
  query.Text(collection);
  absl::StatusOr<bool> row = query.Step();
  if (!row.ok()) return row.status();
  return *row ? static_cast<uint64_t>(query.ColumnInt(0)) : 0;
}

}  // namespace connectors::local
