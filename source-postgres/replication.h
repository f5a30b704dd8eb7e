// Logical replication from a PostgreSQL slot: a walsender connection (replication=database)
// running START_REPLICATION ... LOGICAL with pgoutput protocol version 1, decoded here into
// sqlcapture change events. Standby status updates report only acknowledged positions (every
// 10 s, and whenever the server asks); on a quiet database, keepalives let the confirmed
// position follow the server once everything delivered has been acknowledged, so an idle slot
// does not pin WAL.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/connector/logging.h"
#include "libs/sqlcapture/database.h"
#include "source-postgres/config.h"
#include "source-postgres/discovery.h"
#include "source-postgres/pg.h"

namespace connectors::postgres {

class PgReplicationStream final : public sqlcapture::ReplicationStream {
 public:
  // Starts streaming `config.slot` from `start` for the captured `tables` (engine table index =
  // position in the vector). The vector must outlive the stream.
  static absl::StatusOr<std::unique_ptr<PgReplicationStream>> Start(
      const Config& config, const ConnectParams& params, uint64_t start,
      const std::vector<Table>* tables, const Logger* log,
      absl::Duration status_interval = absl::Seconds(10));

  ~PgReplicationStream() override;

  uint64_t start_position() const override { return start_; }
  absl::StatusOr<std::optional<sqlcapture::ChangeEvent>> Next(absl::Duration timeout) override;
  void Acknowledge(uint64_t position) override;

 private:
  struct RelColumn {
    std::string name;
    ColumnType type;
  };
  struct Relation {
    int table = -1;  // Engine table index, -1 when not captured.
    std::vector<RelColumn> columns;
    std::vector<int> key;  // Relation column index of each key column.
  };
  struct TupleCol {
    char kind = 'n';  // n null, u unchanged TOAST, t text
    std::string_view text;
  };

  PgReplicationStream(Conn conn, uint64_t start, const std::vector<Table>* tables,
                      const Logger* log)
      : conn_(std::move(conn)), start_(start), acked_(start), tables_(tables), log_(log) {}

  // Requires mu_.
  absl::Status SendStatus(bool reply_requested);
  // Sends a status update every 10 s even while the engine is busy elsewhere (a long backfill
  // query, a slow runtime), so the server never times the connection out.
  void HeartbeatLoop();
  // Decodes one XLogData payload; sets *event when it yields one.
  absl::Status Decode(uint64_t wal_start, std::string_view msg,
                      std::optional<sqlcapture::ChangeEvent>* event);
  absl::Status DecodeRelation(std::string_view& msg);
  absl::Status ReadTuple(std::string_view& msg, std::vector<TupleCol>* out);
  // Renders a tuple (with `old` supplying unchanged TOAST values) into a row.
  void BuildRow(const Relation& rel, const std::vector<TupleCol>& tuple,
                const std::vector<TupleCol>* old, bool key_only, sqlcapture::Row* row);

  // Guards the connection and the positions: the heartbeat thread shares them with Next().
  std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;
  absl::Status heartbeat_error_;
  std::thread heartbeat_;

  Conn conn_;
  uint64_t start_;
  uint64_t acked_;              // Highest acknowledged commit end.
  uint64_t confirmed_ = 0;      // Highest position reported to the server.
  uint64_t delivered_end_ = 0;  // End of the last commit handed to the engine.
  const std::vector<Table>* tables_;
  const Logger* log_;
  absl::Time last_status_ = absl::InfinitePast();
  absl::Duration status_interval_ = absl::Seconds(10);
  std::map<uint32_t, Relation> relations_;
  // Transaction in progress.
  bool in_txn_ = false;
  uint64_t final_lsn_ = 0;
  uint64_t previous_end_ = 0;
  uint32_t xid_ = 0;
  int64_t ts_ms_ = 0;
  std::vector<TupleCol> tuple_, old_;
};

}  // namespace connectors::postgres
