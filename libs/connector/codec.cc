#include "libs/connector/codec.h"

#include <google/protobuf/message.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libs/base/strings.h"

namespace connectors::codec {
namespace {

constexpr size_t kReadChunk = 1 << 16;
constexpr size_t kFlushThreshold = 1 << 16;

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

void AppendU32Le(uint32_t value, std::string* out) {
  const char bytes[4] = {static_cast<char>(value), static_cast<char>(value >> 8),
                         static_cast<char>(value >> 16), static_cast<char>(value >> 24)};
  out->append(bytes, 4);
}

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EPIPE) {
        return absl::UnavailableError("the reader of this connector's output went away");
      }
      return absl::InternalError(StrCat("writing output: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view CodecName(Codec codec) { return codec == Codec::kJson ? "json" : "proto"; }

absl::StatusOr<Codec> ParseCodec(std::string_view name) {
  if (name == "json") return Codec::kJson;
  if (name == "proto") return Codec::kProto;
  return absl::InvalidArgumentError(
      StrCat("codec \"", name, "\" is not one of \"json\" or \"proto\""));
}

Codec CodecFromEnvironment(const char* value) {
  return value != nullptr && std::string_view(value) == "json" ? Codec::kJson : Codec::kProto;
}

void AppendFrame(Codec codec, const google::protobuf::Message& message, std::string* out) {
  if (codec == Codec::kJson) {
    MessageToJson(message, out);
    out->push_back('\n');
    return;
  }
  const size_t size = message.ByteSizeLong();
  AppendU32Le(static_cast<uint32_t>(size), out);
  const size_t at = out->size();
  out->resize(at + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + at));
}

void AppendCapturedFrame(Codec codec, uint32_t binding, std::string_view doc_json,
                         std::string* out) {
  if (codec == Codec::kJson) {
    out->append("{\"captured\":{");
    if (binding != 0) StrAppend(out, "\"binding\":", binding, ",");
    out->append("\"doc\":");
    out->append(doc_json);
    out->append("}}\n");
    return;
  }
  // Captured{1: binding varint, 2: doc bytes} inside Response field 6.
  const size_t captured_size = (binding != 0 ? 1 + VarintSize(binding) : 0) + 1 +
                               VarintSize(doc_json.size()) + doc_json.size();
  const size_t response_size = 1 + VarintSize(captured_size) + captured_size;
  AppendU32Le(static_cast<uint32_t>(response_size), out);
  out->push_back(0x32);
  AppendVarint(captured_size, out);
  if (binding != 0) {
    out->push_back(0x08);
    AppendVarint(binding, out);
  }
  out->push_back(0x12);
  AppendVarint(doc_json.size(), out);
  out->append(doc_json);
}

FrameReader::FrameReader(int fd, Codec codec, UnknownKeys unknown_keys, size_t max_message_bytes)
    : fd_(fd), codec_(codec), max_message_bytes_(max_message_bytes), json_parser_(unknown_keys) {}

absl::StatusOr<bool> FrameReader::Fill(size_t n, int interrupt_fd) {
  while (buffer_.size() - start_ < n) {
    if (start_ > 0 && start_ == buffer_.size()) {
      buffer_.clear();
      start_ = 0;
    } else if (start_ > kReadChunk) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    if (interrupt_fd >= 0) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
      const int ready = ::poll(fds, 2, -1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return absl::InternalError(StrCat("poll: ", std::strerror(errno)));
      if (fds[1].revents & POLLIN) return absl::CancelledError("stop requested");
    }
    const size_t at = buffer_.size();
    buffer_.resize(at + kReadChunk);
    const ssize_t got = ::read(fd_, buffer_.data() + at, kReadChunk);
    if (got < 0) {
      buffer_.resize(at);
      if (errno == EINTR) continue;
      return absl::InternalError(StrCat("reading input: ", std::strerror(errno)));
    }
    buffer_.resize(at + static_cast<size_t>(got));
    if (got == 0) return false;
  }
  return true;
}

absl::StatusOr<bool> FrameReader::Next(google::protobuf::Message* message, int interrupt_fd) {
  // A stop wins over input that is already buffered: a busy peer must not postpone it.
  if (interrupt_fd >= 0) {
    pollfd stop = {interrupt_fd, POLLIN, 0};
    if (::poll(&stop, 1, 0) > 0 && (stop.revents & POLLIN)) {
      return absl::CancelledError("stop requested");
    }
  }
  return codec_ == Codec::kJson ? NextJson(message, interrupt_fd)
                                : NextProto(message, interrupt_fd);
}

absl::StatusOr<bool> FrameReader::NextProto(google::protobuf::Message* message, int interrupt_fd) {
  auto have_header = Fill(4, interrupt_fd);
  if (!have_header.ok()) return have_header.status();
  if (!*have_header) {
    if (buffer_.size() == start_) return false;
    return absl::InvalidArgumentError(
        StrCat("input ended inside a frame's 4-byte length (", buffer_.size() - start_, " bytes)"));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + start_);
  const uint32_t length = p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t{p[3]} << 24);
  if (length > max_message_bytes_) {
    return absl::InvalidArgumentError(
        StrCat("frame length ", length, " exceeds the maximum of ", max_message_bytes_, " bytes"));
  }
  auto have_body = Fill(4 + size_t{length}, -1);
  if (!have_body.ok()) return have_body.status();
  if (!*have_body) {
    return absl::InvalidArgumentError(StrCat("input ended inside a frame: expected ", length,
                                             " bytes, got ", buffer_.size() - start_ - 4));
  }
  const char* body = buffer_.data() + start_ + 4;
  start_ += 4 + size_t{length};
  message->Clear();
  if (!message->ParseFromArray(body, static_cast<int>(length))) {
    return absl::InvalidArgumentError(StrCat("malformed protobuf frame of ", length, " bytes for ",
                                             message->GetDescriptor()->full_name()));
  }
  return true;
}

absl::StatusOr<bool> FrameReader::NextJson(google::protobuf::Message* message, int interrupt_fd) {
  while (true) {
    size_t scanned = 0;
    const char* newline = nullptr;
    while (true) {
      const char* begin = buffer_.data() + start_;
      const size_t available = buffer_.size() - start_;
      newline = static_cast<const char*>(std::memchr(begin + scanned, '\n', available - scanned));
      if (newline != nullptr) break;
      scanned = available;
      if (scanned > max_message_bytes_) {
        return absl::InvalidArgumentError(
            StrCat("JSON message line exceeds the maximum of ", max_message_bytes_, " bytes"));
      }
      auto more = Fill(available + 1, scanned == 0 ? interrupt_fd : -1);
      if (!more.ok()) return more.status();
      if (!*more) {
        if (buffer_.size() == start_) return false;
        return absl::InvalidArgumentError(StrCat("input ended inside a JSON message (",
                                                 buffer_.size() - start_,
                                                 " bytes without a terminating newline)"));
      }
    }
    const char* begin = buffer_.data() + start_;
    line_.assign(begin, newline);
    start_ += line_.size() + 1;
    if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;  // Blank line.
    if (auto status = json_parser_.Parse(&line_, message); !status.ok()) return status;
    return true;
  }
}

absl::Status FrameWriter::Write(const google::protobuf::Message& message) {
  AppendFrame(codec_, message, &buffer_);
  return MaybeFlush();
}

absl::Status FrameWriter::WriteCaptured(uint32_t binding, std::string_view doc_json) {
  AppendCapturedFrame(codec_, binding, doc_json, &buffer_);
  return MaybeFlush();
}

absl::Status FrameWriter::MaybeFlush() {
  return buffer_.size() >= kFlushThreshold ? Flush() : absl::OkStatus();
}

absl::Status FrameWriter::Flush() {
  absl::Status status = WriteAll(fd_, buffer_);
  buffer_.clear();
  return status;
}

}  // namespace connectors::codec
