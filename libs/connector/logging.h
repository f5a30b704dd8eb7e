// Structured logs on stderr in the shape Flow's connector-init parses (FLOW_PROTOCOL.md 1.6):
// one JSON object per line, {"ts":"…","level":"info","message":"…","fields":{…}}.
// Thread-safe; each record is a single write() so concurrent records never interleave.
// Never pass secrets (passwords, tokens, configs) as messages or fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace connectors {

enum class LogLevel { kError = 1, kWarn = 2, kInfo = 3, kDebug = 4, kTrace = 5 };

// Parses the lower-case names of ops.Log.Level ("error", "warn", "info", "debug", "trace").
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name);

// One structured field: a key and its value, already encoded as JSON.
struct LogField {
  static LogField Str(std::string_view key, std::string_view value);
  static LogField Int(std::string_view key, int64_t value);
  static LogField Uint(std::string_view key, uint64_t value);
  static LogField Double(std::string_view key, double value);
  static LogField Bool(std::string_view key, bool value);
  // `json` must be a valid JSON value; it is embedded verbatim.
  static LogField Json(std::string_view key, std::string_view json);

  std::string key;
  std::string json;
};

class Logger {
 public:
  Logger(int fd, LogLevel level) : fd_(fd), level_(level) {}

  bool Enabled(LogLevel level) const { return level <= level_; }
  LogLevel level() const { return level_; }

  void Log(LogLevel level, std::string_view message,
           std::initializer_list<LogField> fields = {}) const;
  void Error(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kError, message, fields);
  }
  void Warn(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kWarn, message, fields);
  }
  void Info(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kInfo, message, fields);
  }
  void Debug(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    Log(LogLevel::kDebug, message, fields);
  }

 private:
  int fd_;
  LogLevel level_;
  mutable std::mutex write_mu_;
};

}  // namespace connectors
