// The discovered catalog runs as written: flow-local discovers a table of many types into its
// catalog, then captures it, validating every backfilled and replicated document (updates with
// `before`, deletes) against the discovered schemas, and ends the session cleanly on SIGTERM.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

TEST(PipelineTest, DiscoveredCatalogCapturesAndValidates) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir =
      fs::path(tmp != nullptr ? tmp : "/tmp") / ("pgpipe-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto setup = pg->Exec(R"(
    CREATE PUBLICATION flow_publication;
    CREATE TYPE color AS ENUM ('red', 'green');
    CREATE TABLE public.things (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2),
      ratio float8, created timestamptz, day date, tags text[], attrs jsonb, raw bytea,
      span interval, c color, at time);
    ALTER TABLE public.things REPLICA IDENTITY FULL;
    INSERT INTO public.things VALUES
      (1, 'one', 1.50, 'NaN', '2024-01-01 10:00+02', 'infinity', '{a,b}', '{"k": [1]}', '\x00ff',
       '1 day', 'red', '24:00:00'),
      (2, 'two', NULL, NULL, NULL, '0001-01-01 BC', NULL, 'null', NULL, NULL, NULL, NULL);
  )");
  ASSERT_TRUE(setup.ok()) << setup.status();
  std::ofstream(dir / "catalog.yaml")
      << "captures:\n  acmeCo/pg:\n    endpoint:\n      local:\n        command: [\""
      << Env("SOURCE_POSTGRES_BINARY") << "\"]\n        config: " << ConfigJson(*pg) << "\n";

  auto flow_local = [&](std::vector<std::string> args) {
    process::SpawnOptions options;
    options.argv = {Env("FLOW_LOCAL_BINARY")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.argv.insert(options.argv.end(),
                        {"--catalog", (dir / "catalog.yaml").string(), "--data-dir",
                         (dir / "data").string(), "--log-level", "warn"});
    options.pipe_stderr = false;
    auto child = process::Subprocess::Spawn(options);
    EXPECT_TRUE(child.ok());
    child->CloseStdin();
    return std::move(*child);
  };
  auto discover = flow_local({"discover", "--task", "acmeCo/pg"});
  auto discovered = discover.Wait(absl::Seconds(60));
  ASSERT_TRUE(discovered.ok());
  ASSERT_EQ(*discovered, 0);
  std::stringstream catalog;
  catalog << std::ifstream(dir / "catalog.yaml").rdbuf();
  ASSERT_NE(catalog.str().find("acmeCo/public/things"), std::string::npos) << catalog.str();

  auto capture = flow_local({"capture", "--task", "acmeCo/pg"});
  const fs::path journal = dir / "data" / "collections" / "acmeCo%2Fpublic%2Fthings.jsonl";
  auto journal_text = [&] {
    std::stringstream text;
    text << std::ifstream(journal).rdbuf();
    return text.str();
  };
  auto wait_for = [&](std::string_view needle) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (journal_text().find(needle) != std::string::npos) return true;
      if (capture.Wait(absl::Milliseconds(200)).ok()) return false;  // Exited: a failure.
    }
    return false;
  };
  ASSERT_TRUE(wait_for(R"("name":"two")")) << journal_text();
  ASSERT_TRUE(pg->Exec("UPDATE public.things SET name = 'uno', tags = '{}' WHERE id = 1;"
                       "DELETE FROM public.things WHERE id = 2;"
                       "INSERT INTO public.things (id, name) VALUES (3, 'three');")
                  .ok());
  ASSERT_TRUE(wait_for(R"("name":"three")")) << journal_text();
  ASSERT_TRUE(capture.Signal(SIGTERM).ok());
  auto code = capture.Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  const std::string text = journal_text();
  EXPECT_NE(text.find(R"("before":{)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("op":"d")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("day":"0000-01-01")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("at":"23:59:59.999999Z")"), std::string::npos) << text;
}

}  // namespace
}  // namespace connectors::pgtest
