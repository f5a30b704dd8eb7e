#include "source-postgres/prerequisites.h"

#include <set>

#include "libs/base/strings.h"

namespace connectors::postgres {
namespace {

constexpr size_t kMaxListed = 20;

std::string First(const absl::StatusOr<Rows>& rows) {
  if (!rows.ok() || rows->empty() || rows->front().empty() || !rows->front()[0]) return "";
  return *rows->front()[0];
}

}  // namespace

absl::Status CheckPrerequisites(Conn& conn, const Config& config,
                                const std::vector<const Table*>& bound,
                                const std::vector<std::string>& missing) {
  std::vector<std::string> errors;
  const std::string user = QuoteIdent(config.user);
  const std::string pub = QuoteIdent(config.publication);

  const std::string version = First(conn.Query("SHOW server_version_num"));
  if (!version.empty() && std::stoi(version) < 100000) {
    return absl::FailedPreconditionError(
        StrCat("the minimum supported PostgreSQL version is 10.0; this server is ",
               First(conn.Query("SHOW server_version"))));
  }

  const std::string wal_level = First(conn.Query("SHOW wal_level"));
  if (wal_level != "logical") {
    errors.push_back(StrCat("logical replication isn't enabled: wal_level is \"", wal_level,
                            "\" (fix: ALTER SYSTEM SET wal_level = logical; then restart the "
                            "server)"));
  }

  const std::string can_replicate = First(conn.Query(
      "SELECT (r.rolreplication OR r.rolsuper OR EXISTS (SELECT 1 FROM pg_roles x WHERE "
      "x.rolname = 'rds_replication' AND pg_has_role(current_user, x.oid, 'member')))::text "
      "FROM pg_roles r WHERE r.rolname = current_user"));
  if (can_replicate != "true") {
    errors.push_back(
        StrCat("user \"", config.user, "\" must have the REPLICATION attribute (fix: ALTER ROLE ",
               user, " WITH REPLICATION; on Amazon RDS: GRANT rds_replication TO ", user, ";)"));
  }

  auto slot = conn.Query("SELECT database, plugin FROM pg_replication_slots WHERE slot_name = $1",
                         {config.slot});
  if (slot.ok() && !slot->empty()) {
    const auto& r = slot->front();
    if (r[0] && *r[0] != config.database) {
      errors.push_back(StrCat("replication slot \"", config.slot, "\" exists in database \"", *r[0],
                              "\", but the capture reads database \"", config.database,
                              "\" (fix: use another `advanced.slotName`, or SELECT "
                              "pg_drop_replication_slot(",
                              QuoteLiteral(config.slot), ");)"));
    } else if (r[1] && *r[1] != "pgoutput") {
      errors.push_back(StrCat("replication slot \"", config.slot, "\" uses plugin \"", *r[1],
                              "\", not pgoutput (fix: SELECT pg_drop_replication_slot(",
                              QuoteLiteral(config.slot), ");)"));
    }
  }

  auto publication = conn.Query(
      "SELECT pubviaroot::text, puballtables::text FROM pg_publication WHERE pubname = $1",
      {config.publication});
  const bool have_publication = publication.ok() && !publication->empty();
  const bool via_root = have_publication && *publication->front()[0] == "true";
  if (!have_publication) {
    errors.push_back(
        StrCat("publication \"", config.publication, "\" does not exist (fix: CREATE PUBLICATION ",
               pub, "; ALTER PUBLICATION ", pub, " SET (publish_via_partition_root = true);)"));
  }

  std::set<std::string> published;
  auto pubtables = conn.Query(
      "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1",
      {config.publication});
  if (pubtables.ok()) {
    for (const auto& r : *pubtables) published.insert(*r[0]);
  }
  // Adds a table to the publication, or explains how.
  auto ensure_published = [&](const std::string& qualified, const std::string& quoted) {
    if (!have_publication || published.count(qualified)) return;
    const std::string alter = StrCat("ALTER PUBLICATION ", pub, " ADD TABLE ", quoted, ";");
    if (conn.Exec(alter).ok()) return;
    errors.push_back(StrCat("table \"", qualified, "\" is not in publication \"",
                            config.publication,
                            "\" and couldn't be added automatically (fix: ", alter, ")"));
  };

  // The watermarks table: created if missing, written once, and published.
  const std::string wm = config.WatermarksSql();
  const std::string upsert =
      StrCat("INSERT INTO ", wm,
             " (slot, watermark) VALUES ($1, 'existence-check') "
             "ON CONFLICT (slot) DO UPDATE SET watermark = EXCLUDED.watermark");
  if (!conn.Exec(upsert, {config.slot}).ok()) {
    (void)conn.Exec(
        StrCat("CREATE TABLE IF NOT EXISTS ", wm, " (slot TEXT PRIMARY KEY, watermark TEXT)"));
    if (auto s = conn.Exec(upsert, {config.slot}); !s.ok()) {
      errors.push_back(StrCat("user \"", config.user, "\" cannot write to the watermarks table \"",
                              config.WatermarksName(), "\": ", MessageOf(s),
                              " (fix: CREATE TABLE IF NOT EXISTS ", wm,
                              " (slot TEXT PRIMARY KEY, watermark TEXT); GRANT ALL PRIVILEGES "
                              "ON ",
                              wm, " TO ", user, ";)"));
    } else {
      ensure_published(config.WatermarksName(), wm);
    }
  } else {
    ensure_published(config.WatermarksName(), wm);
  }

  for (const std::string& name : missing) {
    errors.push_back(StrCat("table \"", name, "\" does not exist or user \"", config.user,
                            "\" cannot see it (fix: create it, or GRANT SELECT ON it TO ", user,
                            "; or remove the binding)"));
  }
  for (const Table* t : bound) {
    const std::string quoted = t->QuotedName();
    if (auto s = conn.Exec(StrCat("SELECT NULL FROM ", quoted, " LIMIT 0")); !s.ok()) {
      errors.push_back(StrCat("user \"", config.user, "\" cannot read from table \"",
                              t->QualifiedName(), "\" (fix: GRANT SELECT ON ", quoted, " TO ", user,
                              ";)"));
      continue;
    }
    ensure_published(t->QualifiedName(), quoted);
    if (t->relkind == 'p' && have_publication && !via_root) {
      errors.push_back(StrCat("table \"", t->QualifiedName(),
                              "\" is partitioned, but publication \"", config.publication,
                              "\" does not publish changes under the partition root (fix: "
                              "ALTER PUBLICATION ",
                              pub, " SET (publish_via_partition_root = true);)"));
    }
    if (t->replident == 'n' || (!t->has_primary_key && t->replident == 'd')) {
      errors.push_back(StrCat("table \"", t->QualifiedName(), "\" has ",
                              t->replident == 'n' ? "REPLICA IDENTITY NOTHING"
                                                  : "no primary key and the default replica "
                                                    "identity",
                              ", so its updates and deletes cannot be captured (fix: ALTER "
                              "TABLE ",
                              quoted, " REPLICA IDENTITY FULL;)"));
    }
  }

  if (errors.empty()) return absl::OkStatus();
  std::string message = "the capture cannot run due to the following error(s):";
  for (size_t i = 0; i < errors.size() && i < kMaxListed; ++i) {
    StrAppend(&message, "\n - ", errors[i]);
  }
  if (errors.size() > kMaxListed) {
    StrAppend(&message, "\n - (", errors.size() - kMaxListed, " additional errors omitted)");
  }
  return absl::FailedPreconditionError(message);
}

}  // namespace connectors::postgres
