#include "libs/filesource/byte_source.h"

#include <algorithm>

namespace connectors::filesource {

absl::StatusOr<std::string_view> StringSource::Next() {
  const size_t n = std::min(chunk_, data_.size() - at_);
  std::string_view out(data_.data() + at_, n);
  at_ += n;
  return out;
}

absl::StatusOr<std::string_view> PeekableSource::Peek(size_t n) {
  while (buffered_.size() < n && !eof_) {
    auto chunk = inner_->Next();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) {
      eof_ = true;
      break;
    }
    buffered_.append(*chunk);
  }
  return std::string_view(buffered_).substr(0, std::min(n, buffered_.size()));
}

absl::StatusOr<std::string_view> PeekableSource::Next() {
  if (!replayed_) {
    replayed_ = true;
    if (!buffered_.empty()) return std::string_view(buffered_);
  }
  if (!buffered_.empty()) {
    buffered_.clear();
    buffered_.shrink_to_fit();
  }
  if (eof_) return std::string_view();
  return inner_->Next();
}

absl::StatusOr<std::string> ReadAll(ByteSource& source) {
  std::string out;
  while (true) {
    auto chunk = source.Next();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return out;
    out.append(*chunk);
  }
}

}  // namespace connectors::filesource
