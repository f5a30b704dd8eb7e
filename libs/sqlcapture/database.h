// The narrow interface through which a SQL database plugs into the sqlcapture engine
// (capture.h). The engine owns the interleaving of backfills with replication, per-binding
// state, checkpoints and restarts; a database only lists what to scan, scans one chunk of a
// table, streams committed changes from a position, reports its current position and writes a
// watermark. Row values reach the engine already rendered as JSON object members, so the
// engine never knows a database type.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::sqlcapture {

// How a binding is backfilled (its resource's `mode`).
enum class BackfillMode {
  kAutomatic,    // Precise when the table's key order is bytewise, else Normal.
  kPrecise,      // Keyed scan; changes to rows not yet scanned are dropped (the scan reads them).
  kNormal,       // Keyed scan; every change is emitted (still correct after reduction).
  kKeyless,      // Scan in physical order (no key); every change is emitted.
  kOnlyChanges,  // No backfill at all.
};

// A table as the engine sees it.
struct TableSpec {
  std::string schema;
  std::string table;
  bool keyed = false;  // Has a key the backfill can be ordered by.
  // Packed keys (see Row::key) sort bytewise exactly as the scan orders rows, which makes
  // precise backfills possible.
  bool bytewise_key_order = false;
};

// One row of a backfill chunk or change event.
struct Row {
  // The row's key as a FoundationDB tuple (libs/tuple), or empty for keyless tables.
  std::string key;
  // The row's columns as JSON object members without braces: `"id":1,"name":"x"`. May be
  // empty (a key-less delete under a replica identity that carries nothing).
  std::string fields;
};

// A committed change from the replication stream, or a transaction's commit.
struct ChangeEvent {
  enum class Kind { kInsert, kUpdate, kDelete, kCommit };
  Kind kind = Kind::kCommit;
  int table = -1;  // Index into the tables given to StartReplication; -1 = not captured.
  Row row;         // New row for inserts and updates; old row for deletes.
  // Old row of an update, when the database sent one. When its key differs from row.key the
  // engine emits a delete of the old key and a create of the new one.
  std::optional<Row> before;
  // Source metadata.
  uint64_t lsn = 0;           // Position of this change.
  uint64_t commit_lsn = 0;    // Position of the transaction's commit.
  uint64_t previous_end = 0;  // End position of the previous commit.
  uint64_t txid = 0;
  int64_t ts_ms = 0;  // Commit time, milliseconds since the Unix epoch.
  // For kCommit: the position to resume from after this transaction.
  uint64_t end_lsn = 0;
};

// Committed changes in commit order.
class ReplicationStream {
 public:
  virtual ~ReplicationStream() = default;
  // The position replication started from (the first checkpoint's cursor for a new capture).
  virtual uint64_t start_position() const = 0;
  // The next event, waiting up to `timeout`; nullopt when none arrived in time. Keeps the
  // server informed (standby status) while it waits.
  virtual absl::StatusOr<std::optional<ChangeEvent>> Next(absl::Duration timeout) = 0;
  // Everything up to `position` is durably committed downstream: the server may discard it.
  virtual void Acknowledge(uint64_t position) = 0;
};

// A database the engine captures from. Used from one thread.
class Database {
 public:
  virtual ~Database() = default;

  // The position of the latest commit on the server (the fence a chunk is streamed to).
  virtual absl::StatusOr<uint64_t> CurrentPosition() = 0;
  // Commits a small write to a captured table so that a commit past CurrentPosition() is sure
  // to appear in the stream.
  virtual absl::Status WriteWatermark() = 0;
  // Starts streaming from `position`; nullopt starts a new capture from the current position
  // (creating or re-creating what the database needs, e.g. a replication slot).
  virtual absl::StatusOr<std::unique_ptr<ReplicationStream>> StartReplication(
      std::optional<uint64_t> position) = 0;

  struct ScanResult {
    bool done = false;      // The table holds nothing past this chunk.
    std::string resume_at;  // Cursor of the next chunk (last key, or a physical position).
  };
  // Scans up to `limit` rows of `table` strictly after `resume_at` (empty: from the start),
  // calling `emit` for each in order. Keyed scans order rows by key.
  virtual absl::StatusOr<ScanResult> ScanChunk(int table, BackfillMode mode,
                                               std::string_view resume_at, int64_t limit,
                                               const std::function<absl::Status(Row&)>& emit) = 0;

  // Position <-> checkpoint text (e.g. PostgreSQL's "16/B374D848").
  virtual std::string FormatPosition(uint64_t position) const = 0;
  virtual absl::StatusOr<uint64_t> ParsePosition(std::string_view text) const = 0;
};

}  // namespace connectors::sqlcapture
