#include "libs/connector/main.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "libs/base/strings.h"
#include "libs/connector/capture_loop.h"
#include "libs/connector/codec.h"
#include "libs/connector/config_check.h"
#include "libs/connector/grpc_server.h"
#include "libs/connector/materialize_loop.h"
#include "libs/connector/signals.h"
#include "libs/connector/stdio_stream.h"
#include "libs/connector/stop.h"

namespace connectors::runtime {
namespace {

constexpr std::string_view kUsage =
    R"(Usage: %s [--codec=json|proto] [--grpc-listen=HOST:PORT] [--log-level=LEVEL]

Serves the Flow connector protocol on stdin/stdout, or as a gRPC server with --grpc-listen.
  --codec        json or proto (default: FLOW_RUNTIME_CODEC, else proto)
  --grpc-listen  serve gRPC on HOST:PORT instead of stdin/stdout (port 0 picks a free port;
                 default: CONNECTOR_GRPC_LISTEN, so an image can be switched to gRPC by env)
  --log-level    error, warn, info, debug or trace (default: LOG_LEVEL, else info)
)";

struct Options {
  codec::Codec codec = codec::Codec::kProto;
  LogLevel log_level = LogLevel::kInfo;
  std::optional<std::string> grpc_listen;
};

// Flags take "--name=value" or "--name value". Unknown flags are ignored, as older Flow
// runtimes appended arguments of their own (e.g. --log.level).
absl::StatusOr<Options> ParseOptions(int argc, char** argv, bool* help) {
  Options options;
  options.codec = codec::CodecFromEnvironment(std::getenv("FLOW_RUNTIME_CODEC"));
  if (const char* level = std::getenv("LOG_LEVEL"); level != nullptr && *level != '\0') {
    auto parsed = ParseLogLevel(level);
    if (!parsed.ok()) return parsed.status();
    options.log_level = *parsed;
  }
  if (const char* listen = std::getenv("CONNECTOR_GRPC_LISTEN"); listen && *listen != '\0') {
    options.grpc_listen = std::string(listen);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      continue;
    }
    std::string_view name = arg.substr(0, arg.find('='));
    if (name != "--codec" && name != "--grpc-listen" && name != "--log-level") continue;
    std::string_view value;
    if (name.size() < arg.size()) {
      value = arg.substr(name.size() + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(StrCat("flag ", name, " needs a value"));
    }
    if (name == "--codec") {
      auto codec = codec::ParseCodec(value);
      if (!codec.ok()) return codec.status();
      options.codec = *codec;
    } else if (name == "--log-level") {
      auto level = ParseLogLevel(value);
      if (!level.ok()) return level.status();
      options.log_level = *level;
    } else {
      options.grpc_listen = std::string(value);
    }
  }
  return options;
}

int Finish(const absl::Status& status, const Logger& log) {
  if (status.ok()) return 0;
  log.Error(MessageOf(status), {LogField::Str("code", absl::StatusCodeToString(status.code()))});
  return 1;
}

template <class Driver, class FdStreamType, class ServeStdio, class ServeGrpc>
int Run(int argc, char** argv, Driver& driver, ServeStdio serve_stdio, ServeGrpc serve_grpc) {
  bool help = false;
  auto options = ParseOptions(argc, argv, &help);
  if (help) {
    std::fprintf(stdout, kUsage.data(), argv[0]);
    return 0;
  }
  Logger log(STDERR_FILENO, options.ok() ? options->log_level : LogLevel::kInfo);
  if (!options.ok()) return Finish(options.status(), log);
  ::signal(SIGPIPE, SIG_IGN);  // A closed output becomes a write error, not a silent death.

  const auto spec = driver.Spec();
  auto configs =
      ConfigCheck::Compile(spec.config_schema_json(), spec.resource_config_schema_json());
  if (!configs.ok()) {
    return Finish(absl::InternalError(StrCat("connector declares an invalid schema: ",
                                             MessageOf(configs.status()))),
                  log);
  }
  StopSignal stop;
  SignalWatcher signals(stop, log);
  if (options->grpc_listen.has_value()) {
    return Finish(serve_grpc(*options->grpc_listen, *configs, stop, log), log);
  }
  FdStreamType stream(STDIN_FILENO, STDOUT_FILENO, options->codec, codec::UnknownKeys::kIgnore,
                      &stop);
  return Finish(serve_stdio(stream, *configs, stop, log), log);
}

}  // namespace

int RunCaptureConnector(int argc, char** argv, CaptureDriver& driver) {
  return Run<CaptureDriver, FdCaptureStream>(
      argc, argv, driver,
      [&](FdCaptureStream& stream, const ConfigCheck& configs, StopSignal& stop,
          const Logger& log) { return ServeCapture(driver, configs, stream, stop, log); },
      [&](const std::string& address, const ConfigCheck& configs, StopSignal& stop,
          const Logger& log) { return ServeCaptureGrpc(address, driver, configs, stop, log); });
}

int RunMaterializeConnector(int argc, char** argv, MaterializeDriver& driver) {
  return Run<MaterializeDriver, FdMaterializeStream>(
      argc, argv, driver,
      [&](FdMaterializeStream& stream, const ConfigCheck& configs, StopSignal&, const Logger& log) {
        return ServeMaterialize(driver, configs, stream, log);
      },
      [&](const std::string& address, const ConfigCheck& configs, StopSignal& stop,
          const Logger& log) { return ServeMaterializeGrpc(address, driver, configs, stop, log); });
}

}  // namespace connectors::runtime
