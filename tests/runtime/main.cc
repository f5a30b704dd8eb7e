// flow-local: runs a catalog of Flow captures, collections and materializations on this
// machine, driving connectors through the same protocol Flow's runtime speaks. See README.md.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "libs/base/strings.h"
#include "libs/connector/codec.h"
#include "libs/connector/signals.h"
#include "libs/json/parse.h"
#include "tests/runtime/capture_runner.h"
#include "tests/runtime/catalog.h"
#include "tests/runtime/connector.h"
#include "tests/runtime/materialize_runner.h"
#include "tests/runtime/specs.h"
#include "tests/runtime/store.h"

namespace connectors::local {
namespace {

constexpr std::string_view kUsage = R"(Usage: flow-local COMMAND --catalog FILE [options]

Commands:
  spec        --task NAME       print a task connector's Spec response
  discover    --task CAPTURE    run Discover and write the bindings and collection schemas it
                                proposes into the catalog (--output FILE, default: in place;
                                --prefix NAME names the collections, default: the capture's)
  validate                      validate every task and print the resulting specs
  apply                         validate and apply every task
  capture     --task CAPTURE    capture into collections (--once: one connector session)
  materialize --task NAME       materialize collections (--until-caught-up: stop when done)
  run                           every capture and materialization together, until Ctrl-C
  preview     --task CAPTURE    print captured documents as they come; nothing is kept

Options:
  --data-dir DIR    collections, states and checkpoints (default: .flow-local beside the catalog)
  --log-level LEVEL error, warn, info (default), debug
)";

struct Args {
  std::string command;
  std::string catalog;
  std::string task;
  std::string data_dir;
  std::string output;
  std::string prefix;
  bool once = false;
  bool until_caught_up = false;
  LogLevel log_level = LogLevel::kInfo;
};

absl::StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args args;
  if (argc < 2) return absl::InvalidArgumentError("missing command");
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) return absl::InvalidArgumentError(StrCat(arg, " needs a value"));
      return std::string(argv[++i]);
    };
    absl::StatusOr<std::string> v;
    if (arg == "--once") {
      args.once = true;
    } else if (arg == "--until-caught-up") {
      args.until_caught_up = true;
    } else if (arg == "--catalog" || arg == "--task" || arg == "--data-dir" || arg == "--output" ||
               arg == "--prefix" || arg == "--log-level") {
      if (v = value(); !v.ok()) return v.status();
      if (arg == "--catalog") args.catalog = *v;
      if (arg == "--task") args.task = *v;
      if (arg == "--data-dir") args.data_dir = *v;
      if (arg == "--output") args.output = *v;
      if (arg == "--prefix") args.prefix = *v;
      if (arg == "--log-level") {
        auto level = ParseLogLevel(*v);
        if (!level.ok()) return level.status();
        args.log_level = *level;
      }
    } else {
      return absl::InvalidArgumentError(StrCat("unknown argument \"", arg, "\""));
    }
  }
  if (args.catalog.empty()) return absl::InvalidArgumentError("--catalog FILE is required");
  if (args.data_dir.empty()) {
    args.data_dir = (std::filesystem::path(args.catalog).parent_path() / ".flow-local").string();
  }
  return args;
}

template <class Map>
absl::StatusOr<const typename Map::mapped_type*> FindTask(const Map& tasks, const std::string& name,
                                                          std::string_view kind) {
  if (name.empty()) return absl::InvalidArgumentError(StrCat("--task names the ", kind));
  auto it = tasks.find(name);
  if (it == tasks.end()) {
    return absl::NotFoundError(StrCat("the catalog has no ", kind, " named \"", name, "\""));
  }
  return &it->second;
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  std::string out;
  codec::MessageToJson(message, &out);
  return out;
}

absl::Status Spec(const Catalog& catalog, const Args& args, const Logger& log) {
  if (auto it = catalog.captures.find(args.task); it != catalog.captures.end()) {
    auto rpc = StartCaptureRpc(it->second.endpoint, it->first, log);
    if (!rpc.ok()) return rpc.status();
    capture::Request request;
    request.mutable_spec()->set_connector_type(flow::CaptureSpec::IMAGE);
    auto response = Unary(**rpc, request);
    if (!response.ok()) return response.status();
    std::cout << ToJsonLine(*response) << "\n";
    return absl::OkStatus();
  }
  auto materialization =
      FindTask(catalog.materializations, args.task, "capture or materialization");
  if (!materialization.ok()) return materialization.status();
  auto rpc = StartMaterializeRpc((*materialization)->endpoint, args.task, log);
  if (!rpc.ok()) return rpc.status();
  materialize::Request request;
  request.mutable_spec()->set_connector_type(flow::MaterializationSpec::IMAGE);
  auto response = Unary(**rpc, request);
  if (!response.ok()) return response.status();
  std::cout << ToJsonLine(*response) << "\n";
  return absl::OkStatus();
}

absl::Status Discover(Catalog& catalog, const Args& args, const Logger& log) {
  auto capture = FindTask(catalog.captures, args.task, "capture");
  if (!capture.ok()) return capture.status();
  auto rpc = StartCaptureRpc((*capture)->endpoint, args.task, log);
  if (!rpc.ok()) return rpc.status();
  capture::Request request;
  request.mutable_discover()->set_connector_type(flow::CaptureSpec::IMAGE);
  request.mutable_discover()->set_config_json((*capture)->endpoint.config_json);
  request.mutable_discover()->set_name(args.task);
  auto response = Unary(**rpc, request);
  if (!response.ok()) return response.status();
  if (!response->has_discovered()) {
    return absl::FailedPreconditionError("connector did not answer Discover with Discovered");
  }
  std::vector<DiscoveredBinding> discovered;
  for (const auto& b : response->discovered().bindings()) {
    discovered.push_back({b.recommended_name(),
                          b.resource_config_json(),
                          b.document_schema_json(),
                          {b.key().begin(), b.key().end()},
                          b.disable()});
  }
  std::string prefix = args.prefix;
  if (prefix.empty()) prefix = args.task.substr(0, args.task.rfind('/'));
  if (auto status = MergeDiscovered(catalog, args.task, discovered, prefix); !status.ok()) {
    return status;
  }
  const std::string output = args.output.empty() ? args.catalog : args.output;
  std::ofstream file(output, std::ios::trunc);
  file << ToYaml(catalog);
  if (!file.good()) return absl::InternalError(StrCat("cannot write ", output));
  log.Info("discovered bindings written",
           {LogField::Str("catalog", output), LogField::Uint("bindings", discovered.size())});
  return absl::OkStatus();
}

// Validates (and applies) every task, printing each resulting spec as a JSON line.
absl::Status ValidateAll(const Catalog& catalog, bool apply, Store& store, const Logger& log) {
  for (const auto& [name, capture] : catalog.captures) {
    auto spec = PrepareCapture(catalog, capture, store, apply, log);
    if (!spec.ok()) return spec.status();
    std::cout << ToJsonLine(*spec) << "\n";
  }
  for (const auto& [name, materialization] : catalog.materializations) {
    auto state = ConnectorStateOf(store, name);
    if (!state.ok()) return state.status();
    auto prepared = PrepareMaterialization(catalog, materialization, store, apply, *state, log);
    if (!prepared.ok()) return prepared.status();
    std::cout << ToJsonLine(prepared->spec) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunAll(const Catalog& catalog, Store& store, runtime::StopSignal& stop,
                    const Logger& log) {
  std::vector<std::thread> threads;
  std::mutex mu;
  absl::Status first_error;
  auto record = [&](absl::Status status) {
    if (status.ok()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.ok()) first_error = status;
    stop.Stop();  // One failing task ends the pipeline.
  };
  CaptureOptions capture_options;
  MaterializeOptions materialize_options;
  for (const auto& [name, capture] : catalog.captures) {
    threads.emplace_back([&, &capture = capture] {
      record(RunCapture(catalog, capture, store, stop, capture_options, log));
    });
  }
  for (const auto& [name, materialization] : catalog.materializations) {
    threads.emplace_back([&, &materialization = materialization] {
      record(RunMaterialization(catalog, materialization, store, stop, materialize_options, log));
    });
  }
  for (auto& thread : threads) thread.join();
  return first_error;
}

absl::Status Execute(const Args& args, runtime::StopSignal& stop, const Logger& log) {
  auto catalog = LoadCatalog(args.catalog);
  if (!catalog.ok()) return catalog.status();
  if (args.command == "spec") return Spec(*catalog, args, log);
  if (args.command == "discover") return Discover(*catalog, args, log);

  auto store = Store::Open(args.data_dir);
  if (!store.ok()) return store.status();
  if (args.command == "capture" || args.command == "preview") {
    auto capture = FindTask(catalog->captures, args.task, "capture");
    if (!capture.ok()) return capture.status();
    CaptureOptions options;
    options.once = args.once;
    if (args.command == "preview") options.preview = &std::cout;
    return RunCapture(*catalog, **capture, **store, stop, options, log);
  }
  if (args.command == "materialize") {
    auto materialization = FindTask(catalog->materializations, args.task, "materialization");
    if (!materialization.ok()) return materialization.status();
    MaterializeOptions options;
    options.until_caught_up = args.until_caught_up;
    return RunMaterialization(*catalog, **materialization, **store, stop, options, log);
  }
  if (args.command == "run") return RunAll(*catalog, **store, stop, log);
  if (args.command == "validate" || args.command == "apply") {
    return ValidateAll(*catalog, args.command == "apply", **store, log);
  }
  return absl::InvalidArgumentError(StrCat("unknown command \"", args.command, "\""));
}

}  // namespace
}  // namespace connectors::local

int main(int argc, char** argv) {
  using namespace connectors;
  auto args = local::ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << "flow-local: " << MessageOf(args.status()) << "\n\n" << local::kUsage;
    return 2;
  }
  Logger log(STDERR_FILENO, args->log_level);
  ::signal(SIGPIPE, SIG_IGN);  // A connector that exits early is a write error, not our death.
  runtime::StopSignal stop;
  runtime::SignalWatcher signals(stop, log);
  absl::Status status = local::Execute(*args, stop, log);
  if (!status.ok()) {
    log.Error(MessageOf(status));
    return 1;
  }
  return 0;
}
