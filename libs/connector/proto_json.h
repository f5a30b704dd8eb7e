// The JSON codec's message mapping (FLOW_PROTOCOL.md section 2.2), driven by protobuf
// reflection so every protocol message shares one set of rules:
//   - keys are each field's json_name on output; input accepts the json_name or the proto name;
//   - raw-JSON fields (`*_json`, `*_json_map` values, `*_json_vec` elements) are embedded
//     verbatim as JSON values, never quoted or base64'd;
//   - 64-bit integers are written as strings and read from strings or numbers;
//   - enums are written by name and read by name or number; bytes are standard base64;
//   - default values are omitted; a present but empty sub-message is written as {};
//   - Timestamp is RFC 3339, Duration is "<seconds>s";
//   - `internal` ($internal) is never written and ignored when read.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace google::protobuf {
class Message;
}

namespace connectors::codec {

// What to do with an object key that names no field of the message being decoded. Connectors
// ignore unknown request keys (newer runtimes add fields); the local runtime rejects unknown
// keys in connector responses, as Flow's runtime does.
enum class UnknownKeys { kIgnore, kReject };

// Appends the compact JSON object for `message` to `out` (no trailing newline).
void MessageToJson(const google::protobuf::Message& message, std::string* out);

// Parses JSON objects into messages. Holds the JSON parser's buffers so that a stream of
// messages reuses them; one instance per thread.
class JsonMessageParser {
 public:
  explicit JsonMessageParser(UnknownKeys unknown_keys);
  ~JsonMessageParser();
  JsonMessageParser(const JsonMessageParser&) = delete;
  JsonMessageParser& operator=(const JsonMessageParser&) = delete;

  // Parses one JSON object into `message`, which is cleared first. `json` may have its capacity
  // grown for the parser's padding; its contents are left unchanged. Errors name the field.
  absl::Status Parse(std::string* json, google::protobuf::Message* message);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace connectors::codec
