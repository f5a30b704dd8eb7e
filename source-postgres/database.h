// PostgreSQL as a sqlcapture::Database: chunked keyed scans (text keys ordered with
// COLLATE "C"), physical (CTID range) scans for keyless tables, the current WAL flush LSN as
// the fence, watermark upserts, and replication from the configured slot.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "libs/connector/logging.h"
#include "libs/network-tunnel/tunnel.h"
#include "libs/sqlcapture/database.h"
#include "source-postgres/config.h"
#include "source-postgres/discovery.h"
#include "source-postgres/pg.h"

namespace connectors::postgres {

class PgDatabase final : public sqlcapture::Database {
 public:
  // `tables` are the captured tables; engine table index = position.
  // `tunnel`, when set, carries every connection (the params already point at it).
  PgDatabase(Config config, ConnectParams params, Conn conn, std::vector<Table> tables,
             const Logger* log, std::unique_ptr<tunnel::Tunnel> tunnel)
      : tunnel_(std::move(tunnel)),
        config_(std::move(config)),
        params_(std::move(params)),
        conn_(std::move(conn)),
        tables_(std::move(tables)),
        log_(log) {}

  const std::vector<Table>& tables() const { return tables_; }

  absl::StatusOr<uint64_t> CurrentPosition() override;
  absl::Status WriteWatermark() override;
  absl::StatusOr<std::unique_ptr<sqlcapture::ReplicationStream>> StartReplication(
      std::optional<uint64_t> position) override;
  absl::StatusOr<ScanResult> ScanChunk(
      int table, sqlcapture::BackfillMode mode, std::string_view resume_at, int64_t limit,
      const std::function<absl::Status(sqlcapture::Row&)>& emit) override;
  std::string FormatPosition(uint64_t position) const override { return FormatLsn(position); }
  absl::StatusOr<uint64_t> ParsePosition(std::string_view text) const override {
    return ParseLsn(text);
  }

 private:
  absl::StatusOr<ScanResult> ScanKeyed(const Table& t, std::string_view resume_at, int64_t limit,
                                       const std::function<absl::Status(sqlcapture::Row&)>& emit);
  absl::StatusOr<ScanResult> ScanKeyless(int index, std::string_view resume_at, int64_t limit,
                                         const std::function<absl::Status(sqlcapture::Row&)>& emit);
  // Runs `sql` in single-row mode, building a row per result row.
  absl::Status Stream(const std::string& sql, const std::vector<Value>& params, const Table& t,
                      const std::function<absl::Status(sqlcapture::Row&)>& emit, int64_t* rows);

  std::unique_ptr<tunnel::Tunnel> tunnel_;  // Outlives the connections below.
  Config config_;
  ConnectParams params_;
  Conn conn_;
  std::vector<Table> tables_;
  const Logger* log_;
  std::map<int, int64_t> pages_;  // Keyless scans: table size in pages when first scanned.
};

}  // namespace connectors::postgres
