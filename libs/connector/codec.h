// Framing of protocol messages on a byte stream (FLOW_PROTOCOL.md section 2):
//   proto: u32 little-endian length ‖ protobuf bytes, back to back;
//   json:  one compact JSON object per line, terminated by '\n'.
// FrameReader and FrameWriter own no file descriptor; the caller keeps it open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/connector/proto_json.h"

namespace google::protobuf {
class Message;
}

namespace connectors::codec {

enum class Codec { kProto, kJson };

std::string_view CodecName(Codec codec);
// Strict: "json" or "proto" (for flags, where a typo must not go unnoticed).
absl::StatusOr<Codec> ParseCodec(std::string_view name);
// As connector-init reads FLOW_RUNTIME_CODEC: "json" selects JSON, anything else proto.
Codec CodecFromEnvironment(const char* value);

// Messages larger than this are refused rather than buffered without bound.
inline constexpr size_t kDefaultMaxMessageBytes = size_t{256} << 20;

// Appends `message` framed for `codec`.
void AppendFrame(Codec codec, const google::protobuf::Message& message, std::string* out);

// Appends a capture Response{captured{binding, doc}} frame without building a message: the
// document bytes are copied once, straight into the output.
void AppendCapturedFrame(Codec codec, uint32_t binding, std::string_view doc_json,
                         std::string* out);

class FrameReader {
 public:
  FrameReader(int fd, Codec codec, UnknownKeys unknown_keys,
              size_t max_message_bytes = kDefaultMaxMessageBytes);

  // Reads the next message into `message`. Returns false at a clean end of input (EOF between
  // messages). When `interrupt_fd` >= 0 is readable before a message starts (even if input is
  // already buffered), returns a Cancelled status. Malformed input yields InvalidArgument naming
  // the problem.
  absl::StatusOr<bool> Next(google::protobuf::Message* message, int interrupt_fd = -1);

  Codec codec() const { return codec_; }

 private:
  // Ensures at least `n` unread bytes are buffered; false on EOF before that.
  absl::StatusOr<bool> Fill(size_t n, int interrupt_fd);
  absl::StatusOr<bool> NextProto(google::protobuf::Message* message, int interrupt_fd);
  absl::StatusOr<bool> NextJson(google::protobuf::Message* message, int interrupt_fd);

  int fd_;
  Codec codec_;
  size_t max_message_bytes_;
  std::string buffer_;
  size_t start_ = 0;  // First unread byte of buffer_.
  std::string line_;  // Reused so the JSON parser's padding is allocated once.
  JsonMessageParser json_parser_;
};

class FrameWriter {
 public:
  FrameWriter(int fd, Codec codec) : fd_(fd), codec_(codec) {}

  Codec codec() const { return codec_; }
  // Buffers `message`; writes through once the buffer passes a threshold.
  absl::Status Write(const google::protobuf::Message& message);
  // Buffers a Captured response (see AppendCapturedFrame).
  absl::Status WriteCaptured(uint32_t binding, std::string_view doc_json);
  // Writes everything buffered. Call after every message the peer may be waiting on.
  absl::Status Flush();

 private:
  absl::Status MaybeFlush();

  int fd_;
  Codec codec_;
  std::string buffer_;
};

}  // namespace connectors::codec
