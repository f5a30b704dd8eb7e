// Pull-based byte streams: the one interface every layer of a file capture speaks (HTTP body,
// decompressors, transcoders), so memory is bounded by one chunk per layer, never by file size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::filesource {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The next chunk of bytes; an empty view at the end of the input (and on every later call).
  // The view is valid until the next call. Errors are final.
  virtual absl::StatusOr<std::string_view> Next() = 0;
};

// Serves a string (tests, fuzzers, small inputs), in chunks of at most `chunk` bytes so chunk
// boundaries can be exercised.
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string data, size_t chunk = 64 * 1024)
      : data_(std::move(data)), chunk_(chunk == 0 ? 1 : chunk) {}
  absl::StatusOr<std::string_view> Next() override;

 private:
  std::string data_;
  size_t chunk_;
  size_t at_ = 0;
};

// Lets a caller look at the first bytes of a source and then read it from the start.
class PeekableSource final : public ByteSource {
 public:
  explicit PeekableSource(ByteSource* inner) : inner_(inner) {}
  // Up to `n` leading bytes (fewer only at end of input). Only valid before the first Next().
  absl::StatusOr<std::string_view> Peek(size_t n);
  absl::StatusOr<std::string_view> Next() override;

 private:
  ByteSource* inner_;
  std::string buffered_;
  bool replayed_ = false;
  bool eof_ = false;
};

// Counts the bytes that flowed through, for error messages that name a byte offset.
class CountingSource final : public ByteSource {
 public:
  explicit CountingSource(ByteSource* inner) : inner_(inner) {}
  absl::StatusOr<std::string_view> Next() override {
    auto chunk = inner_->Next();
    if (chunk.ok()) count_ += chunk->size();
    return chunk;
  }
  uint64_t count() const { return count_; }

 private:
  ByteSource* inner_;
  uint64_t count_ = 0;
};

// Reads a whole source into a string (tests and small metadata only).
absl::StatusOr<std::string> ReadAll(ByteSource& source);

}  // namespace connectors::filesource
