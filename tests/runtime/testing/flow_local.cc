#include "tests/runtime/testing/flow_local.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/runtime/store.h"

namespace connectors::local::testing {

std::string RunfileFromEnv(const char* name) {
  const char* value = std::getenv(name);
  EXPECT_NE(value, nullptr) << "environment variable " << name << " is not set by the BUILD file";
  return value == nullptr ? "" : std::filesystem::absolute(value).string();
}

FlowLocal::FlowLocal(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
}

void FlowLocal::WriteCatalog(std::string_view yaml) const {
  std::ofstream(dir_ / "catalog.yaml", std::ios::trunc) << yaml;
}

absl::StatusOr<process::Subprocess> FlowLocal::Start(const std::vector<std::string>& args,
                                                     std::string_view log_level) const {
  process::SpawnOptions options;
  options.argv = {RunfileFromEnv("FLOW_LOCAL_BINARY")};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.argv.insert(options.argv.end(),
                      {"--catalog", (dir_ / "catalog.yaml").string(), "--data-dir",
                       (dir_ / "data").string(), "--log-level", std::string(log_level)});
  options.pipe_stderr = false;
  auto child = process::Subprocess::Spawn(options);
  if (child.ok()) child->CloseStdin();
  return child;
}

int FlowLocal::Run(const std::vector<std::string>& args, absl::Duration timeout) const {
  auto child = Start(args);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return -1;
  auto code = child->Wait(timeout);
  EXPECT_TRUE(code.ok()) << code.status();
  return code.ok() ? *code : -1;
}

std::string FlowLocal::Journal(std::string_view collection) const {
  std::ifstream in(dir_ / "data" / "collections" / JournalFileName(collection));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace connectors::local::testing
