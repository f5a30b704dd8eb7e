#include "libs/connector/logging.h"

#include <unistd.h>

#include <cerrno>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors {
namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kTrace:
      return "trace";
  }
  return "info";
}

std::string Encode(auto write_value) {
  std::string out;
  json::Writer w(&out);
  write_value(w);
  return out;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel level :
       {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug, LogLevel::kTrace}) {
    if (name == LevelName(level)) return level;
  }
  if (name == "warning") return LogLevel::kWarn;
  return absl::InvalidArgumentError(
      StrCat("log level \"", name, "\" is not one of error, warn, info, debug, trace"));
}

LogField LogField::Str(std::string_view key, std::string_view value) {
  return {std::string(key), Encode([&](json::Writer& w) { w.String(value); })};
}
LogField LogField::Int(std::string_view key, int64_t value) {
  return {std::string(key), Encode([&](json::Writer& w) { w.Int(value); })};
}
LogField LogField::Uint(std::string_view key, uint64_t value) {
  return {std::string(key), Encode([&](json::Writer& w) { w.Uint(value); })};
}
LogField LogField::Double(std::string_view key, double value) {
  return {std::string(key), Encode([&](json::Writer& w) { w.Double(value); })};
}
LogField LogField::Bool(std::string_view key, bool value) {
  return {std::string(key), Encode([&](json::Writer& w) { w.Bool(value); })};
}
LogField LogField::Json(std::string_view key, std::string_view json) {
  return {std::string(key), std::string(json)};
}

void Logger::Log(LogLevel level, std::string_view message,
                 std::initializer_list<LogField> fields) const {
  if (!Enabled(level)) return;
  std::string line;
  json::Writer w(&line);
  w.BeginObject();
  w.Key("ts").String(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()));
  w.Key("level").String(LevelName(level));
  w.Key("message").String(message);
  if (fields.size() > 0) {
    w.Key("fields").BeginObject();
    for (const LogField& field : fields) w.Key(field.key).Raw(field.json);
    w.EndObject();
  }
  w.EndObject();
  line.push_back('\n');

  std::lock_guard<std::mutex> lock(write_mu_);
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere left to report a logging failure.
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace connectors
