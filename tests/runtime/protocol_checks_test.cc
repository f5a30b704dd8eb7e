// flow-local checks everything a connector sends. Each case runs a misbehaving connector (a
// shell script speaking the JSON codec) and expects flow-local to fail with an error that
// names the connector and the problem, committing nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "libs/process/subprocess.h"

namespace connectors::local {
namespace {

namespace fs = std::filesystem;

// Answers Validate and Apply properly, then prints $SESSION (printf escapes) for Open, or,
// for materializations, answers each request line with the next line of $SESSION.
constexpr std::string_view kScript = R"(#!/bin/sh
read -r line
case "$line" in
  *'"validate"'*)
    if [ -n "$MATERIALIZE" ]; then
      echo '{"validated":{"bindings":[{"constraints":{"id":{"type":"FIELD_REQUIRED"},"flow_document":{"type":"LOCATION_REQUIRED"}},"resourcePath":["t"]}]}}'
    else
      echo '{"validated":{"bindings":[{"resourcePath":["things"]}]}}'
    fi ;;
  *'"apply"'*) echo '{"applied":{}}' ;;
  *'"open"'*)
    if [ -n "$MATERIALIZE" ]; then
      echo '{"opened":{}}'
      read -r line
      printf "$SESSION"
      cat >/dev/null
    else
      printf "$SESSION"
      [ -n "$FAIL" ] && { echo '{"level":"error","message":"'"$FAIL"'"}' >&2; exit 1; }
    fi ;;
esac
exit 0
)";

struct Case {
  std::string name;
  std::string session;
  std::string expected_error;
  std::string fail;
  bool materialize = false;
};

class ProtocolChecks : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") / ("checks-" + GetParam().name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "connector.sh") << kScript;
    fs::permissions(dir_ / "connector.sh", fs::perms::owner_all);
  }

  std::string Endpoint(bool materialize) {
    const Case& c = GetParam();
    std::string env = "{SESSION: '" + c.session + "'";
    if (!c.fail.empty()) env += ", FAIL: '" + c.fail + "'";
    if (materialize) env += ", MATERIALIZE: '1'";
    env += "}";
    return "      local:\n        command: [" + (dir_ / "connector.sh").string() +
           "]\n        config: {}\n        env: " + env + "\n";
  }

  // Runs flow-local and returns {exit code, last stderr line}.
  std::pair<int, std::string> Run() {
    const bool materialize = GetParam().materialize;
    std::ofstream(dir_ / "catalog.yaml")
        << "captures:\n  acmeCo/bad:\n    endpoint:\n"
        << Endpoint(false) << "    bindings:\n      - resource: {}\n        target: acmeCo/things\n"
        << "collections:\n  acmeCo/things:\n    key: [/id]\n    schema: {type: object, "
           "properties: {id: {type: integer}, ts: {type: string, format: date-time}}, "
           "required: [id]}\n"
        << "materializations:\n  acmeCo/bad-out:\n    endpoint:\n"
        << Endpoint(true) << "    bindings:\n      - source: acmeCo/things\n        resource: {}\n";
    process::SpawnOptions options;
    options.argv = {fs::absolute(std::getenv("FLOW_LOCAL_BINARY")).string(),
                    materialize ? "materialize" : "capture",
                    "--task",
                    materialize ? "acmeCo/bad-out" : "acmeCo/bad",
                    materialize ? "--until-caught-up" : "--once",
                    "--catalog",
                    (dir_ / "catalog.yaml").string()};
    auto child = process::Subprocess::Spawn(options);
    EXPECT_TRUE(child.ok());
    child->CloseStdin();
    std::string logs = child->ReadAllStderr();
    auto code = child->Wait(absl::Seconds(30));
    while (!logs.empty() && logs.back() == '\n') logs.pop_back();
    return {code.ok() ? *code : -1, logs.substr(logs.rfind('\n') + 1)};
  }

  fs::path dir_;
};

TEST_P(ProtocolChecks, FailsNamingTheProblem) {
  auto [code, last] = Run();
  EXPECT_EQ(code, 1) << last;
  EXPECT_NE(last.find(GetParam().expected_error), std::string::npos)
      << "expected \"" << GetParam().expected_error << "\" in: " << last;
  EXPECT_NE(last.find(GetParam().materialize ? "acmeCo/bad-out" : "acmeCo/bad"), std::string::npos)
      << "the error must name the connector: " << last;
  const auto journal = dir_ / ".flow-local" / "collections" / "acmeCo%2Fthings.jsonl";
  EXPECT_TRUE(!fs::exists(journal) || fs::file_size(journal) == 0) << "nothing may commit";
}

INSTANTIATE_TEST_SUITE_P(
    Connectors, ProtocolChecks,
    testing::Values(
        Case{"unknown_field", R"({"opened":{"bogus":1}}\n)",
             R"(unknown field \"bogus\" in capture.Response.Opened)"},
        Case{"out_of_order", R"({"captured":{"doc":{"id":1}}}\n)",
             "protocol error (expected Opened): got captured"},
        Case{"two_kinds", R"({"opened":{},"checkpoint":{}}\n)", "sets both"},
        Case{"schema_mismatch",
             R"({"opened":{}}\n{"captured":{"doc":{"id":"one"}}}\n{"checkpoint":{"state":{}}}\n)",
             "/id: expected integer"},
        Case{
            "date_time",
            R"({"opened":{}}\n{"captured":{"doc":{"id":1,"ts":"yesterday"}}}\n{"checkpoint":{"state":{}}}\n)",
            "/ts: "},
        Case{"not_an_object", R"({"opened":{}}\n{"captured":{"doc":[1]}}\n)", "not a JSON object"},
        Case{"bad_binding", R"({"opened":{}}\n{"captured":{"binding":3,"doc":{"id":1}}}\n)",
             "captured into binding 3"},
        Case{"checkpoint_without_state", R"({"opened":{}}\n{"checkpoint":{}}\n)",
             "Checkpoint without state"},
        Case{"eof_within_checkpoint", R"({"opened":{}}\n{"captured":{"doc":{"id":1}}}\n)",
             "within a checkpoint"},
        Case{"partial_line", R"({"opened":{}}\n{"captured":)", "without a terminating newline"},
        Case{"failure_log", R"({"opened":{}}\n)", "cannot reach the source",
             "cannot reach the source"},
        Case{"materialize_out_of_order", R"({"flushed":{}}\n)",
             "protocol error (expected Acknowledged): got flushed", "", true}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace connectors::local
