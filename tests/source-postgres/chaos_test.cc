// Crash safety end to end: flow-local runs source-postgres into a collection while a writer
// inserts, updates and deletes rows, and the runtime or the connector is killed with SIGKILL at
// random moments, during the backfill and during replication. Afterwards the collection's
// current documents (reduced by key) equal the source table row for row.
#include "tests/chaos/chaos.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/process/subprocess.h"
#include "tests/harness/postgres.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : fs::absolute(value).string();
}

class PostgresChaosTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") / ("pgchaos-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto pg = harness::Postgres::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_.emplace(std::move(*pg));
    Sql("CREATE PUBLICATION flow_publication");
    Sql("CREATE TABLE public.items (id int PRIMARY KEY, val int NOT NULL, note text)");
    Sql("INSERT INTO public.items SELECT g, 0, 'initial ' || g FROM generate_series(1, 15000) g");
    std::ofstream(dir_ / "catalog.yaml")
        << "captures:\n  acmeCo/pg:\n    endpoint:\n      local:\n        command: [\""
        << Env("SOURCE_POSTGRES_BINARY")
        << "\"]\n        config: " << ConfigJson(*pg_, R"("advanced":{"backfill_chunk_size":25})")
        << R"(
    bindings:
      - resource: {namespace: public, stream: items}
        target: acmeCo/items
collections:
  acmeCo/items:
    key: [/id]
    schema:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        val: {type: integer}
)";
  }

  void Sql(std::string_view sql) {
    auto r = pg_->Exec(sql);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << sql;
  }

  absl::StatusOr<process::Subprocess> Start() {
    process::SpawnOptions options;
    options.argv = {Env("FLOW_LOCAL_BINARY"),
                    "capture",
                    "--task",
                    "acmeCo/pg",
                    "--catalog",
                    (dir_ / "catalog.yaml").string(),
                    "--data-dir",
                    (dir_ / "data").string(),
                    "--log-level",
                    "warn"};
    options.pipe_stderr = false;
    auto child = process::Subprocess::Spawn(options);
    if (child.ok()) child->CloseStdin();
    return child;
  }

  std::vector<Doc> Journal() {
    std::ifstream in(dir_ / "data" / "collections" / "acmeCo%2Fitems.jsonl");
    std::vector<Doc> docs;
    for (std::string line; std::getline(in, line);) docs.push_back(Doc{0, line});
    return docs;
  }

  std::map<std::string, std::string> Source() {
    auto rows = pg_->Exec(
        "SELECT id, val, coalesce(to_json(note)::text, 'null') FROM public.items ORDER BY id");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<std::string, std::string> out;
    for (const auto& r : *rows) {
      out[r[0]] = StrCat(R"({"id":)", r[0], R"(,"note":)", r[2], R"(,"val":)", r[1], "}");
    }
    return out;
  }

  fs::path dir_;
  std::optional<harness::Postgres> pg_;
};

TEST_F(PostgresChaosTest, KillNineDuringBackfillAndReplicationConverges) {
  // A writer keeps changing the table through every round.
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    std::mt19937 rng(7);
    int next_id = 15001;
    while (!stop) {
      const int id = 1 + static_cast<int>(rng() % (next_id - 1));
      std::string sql;
      switch (rng() % 4) {
        case 0:
          sql = StrCat("INSERT INTO public.items VALUES (", next_id++, ", 1, 'inserted')");
          break;
        case 1:
          sql = StrCat("DELETE FROM public.items WHERE id = ", id);
          break;
        default:
          sql = StrCat("UPDATE public.items SET val = val + 1, note = 'updated ' || val WHERE id ",
                       "BETWEEN ", id, " AND ", id + 2);
      }
      if (pg_->Exec(sql).ok()) ++writes;
      absl::SleepFor(absl::Milliseconds(5));
    }
  });

  chaos::Options options;
  options.rounds = 12;
  options.seed = 20261123;
  options.min_delay = absl::Milliseconds(800);
  options.max_delay = absl::Milliseconds(4000);
  auto rounds = chaos::KillAndRestart([&] { return Start(); }, options);
  stop = true;
  writer.join();
  ASSERT_TRUE(rounds.ok()) << rounds.status();
  int killed = 0;
  for (const auto& round : *rounds) killed += round.killed;
  EXPECT_GE(killed, 8) << "most rounds must really kill something";
  EXPECT_GT(writes.load(), 100);
  Sql("INSERT INTO public.items VALUES (-1, -1, 'final')");

  // One calm session catches up; a session may fail at first while the server notices that a
  // killed connector's replication connection is gone.
  bool caught_up = false;
  for (int attempt = 0; attempt < 5 && !caught_up; ++attempt) {
    auto calm = Start();
    ASSERT_TRUE(calm.ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      auto exited = calm->Wait(absl::Milliseconds(500));
      if (exited.ok()) break;  // Exited (an error): try again.
      const auto docs = Journal();
      if (!docs.empty() && docs.back().json.find("\"final\"") != std::string::npos) {
        caught_up = true;
        break;
      }
    }
    (void)calm->Signal(SIGTERM);
    auto code = calm->Wait(absl::Seconds(30));
    if (!code.ok()) {
      (void)calm->Signal(SIGKILL);
      (void)calm->Wait();
    }
  }
  ASSERT_TRUE(caught_up) << "the capture never caught up with the final row";

  const auto docs = Journal();
  size_t snapshot_docs = 0, changes_before_last_snapshot = 0, changes = 0;
  for (const Doc& d : docs) {
    if (d.json.find(R"("snapshot":true)") != std::string::npos) {
      ++snapshot_docs;
      changes_before_last_snapshot = changes;
    } else {
      ++changes;
    }
  }
  // The backfill was still running while changes streamed (and while rounds were killed).
  EXPECT_GT(changes_before_last_snapshot, 100u);
  // And changes streamed after it, through later rounds.
  EXPECT_GT(changes - changes_before_last_snapshot, 100u);
  std::cout << "journal: " << docs.size() << " documents (" << snapshot_docs << " from backfills, "
            << changes_before_last_snapshot << " changes interleaved with them), " << writes.load()
            << " source writes, " << killed << " kills\n";
  for (const auto& round : *rounds) {
    std::cout << "round: " << (round.victim == chaos::Victim::kRuntime ? "runtime" : "connector")
              << " after " << absl::FormatDuration(round.delay)
              << (round.killed ? " killed" : " (already exited)") << "\n";
  }
  const auto current = Reduce(docs, 0, {"/id"});
  const auto source = Source();
  EXPECT_EQ(current.size(), source.size());
  for (const auto& [id, row] : source) {
    auto it = current.find(id);
    ASSERT_NE(it, current.end()) << "row " << id << " missing from the collection";
    EXPECT_EQ(it->second, row) << "row " << id;
  }
  for (const auto& [id, row] : current) {
    EXPECT_TRUE(source.count(id)) << "row " << id << " was deleted at the source: " << row;
  }
}

}  // namespace
}  // namespace connectors::pgtest
