#include "libs/filesource/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "libs/base/strings.h"

namespace connectors::filesource {
namespace {

constexpr size_t kOutChunk = 64 * 1024;

// Input bytes pulled from a source, with how many were consumed so far (for error offsets).
class InputWindow {
 public:
  explicit InputWindow(ByteSource* source) : source_(source) {}
  // Makes at least one unconsumed byte available unless the source ended; false at EOF.
  absl::StatusOr<bool> Fill() {
    if (at_ < data_.size()) return true;
    if (eof_) return false;
    auto chunk = source_->Next();
    if (!chunk.ok()) return chunk.status();
    data_ = *chunk;
    at_ = 0;
    if (data_.empty()) eof_ = true;
    return !data_.empty();
  }
  // Makes at least `n` unconsumed bytes contiguous in `hold_` (for headers); false at EOF first.
  absl::StatusOr<bool> Need(size_t n, std::string_view* out) {
    hold_.assign(data_.substr(at_));
    consumed_ += data_.size() - at_;
    at_ = data_.size();
    while (hold_.size() < n) {
      if (eof_) break;
      auto chunk = source_->Next();
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) {
        eof_ = true;
        break;
      }
      hold_.append(*chunk);
      consumed_ += chunk->size();
    }
    // Put everything back as the current window, held in our own storage.
    consumed_ -= hold_.size();
    data_ = hold_;
    at_ = 0;
    *out = data_.substr(0, std::min(n, data_.size()));
    return data_.size() >= n;
  }
  std::string_view available() const { return data_.substr(at_); }
  void Consume(size_t n) {
    at_ += n;
    consumed_ += n;
  }
  uint64_t consumed() const { return consumed_; }

 private:
  ByteSource* source_;
  std::string_view data_;
  std::string hold_;
  size_t at_ = 0;
  uint64_t consumed_ = 0;
  bool eof_ = false;
};

class Gzip final : public ByteSource {
 public:
  explicit Gzip(ByteSource* in) : in_(in), out_(kOutChunk, '\0') {
    std::memset(&z_, 0, sizeof(z_));
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
  }
  ~Gzip() override { inflateEnd(&z_); }

  absl::StatusOr<std::string_view> Next() override {
    if (!ok_) return absl::InternalError("gzip: cannot initialise zlib");
    if (done_) return std::string_view();
    while (true) {
      if (member_done_) {
        // Another member follows, or trailing zero padding, or the end.
        auto more = in_.Fill();
        if (!more.ok()) return more.status();
        if (!*more) {
          done_ = true;
          return std::string_view();
        }
        std::string_view rest = in_.available();
        if (rest.find_first_not_of('\0') == std::string_view::npos) {
          in_.Consume(rest.size());
          continue;
        }
        inflateReset(&z_);
        member_done_ = false;
      }
      auto more = in_.Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        return absl::DataLossError(
            StrCat("gzip: truncated input: the stream ends inside a member "
                   "at compressed byte ",
                   in_.consumed()));
      }
      std::string_view input = in_.available();
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      z_.avail_in = static_cast<uInt>(input.size());
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      in_.Consume(input.size() - z_.avail_in);
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::DataLossError(StrCat("gzip: corrupt data near compressed byte ",
                                          in_.consumed(), ": ", z_.msg ? z_.msg : "error"));
      }
      const size_t produced = out_.size() - z_.avail_out;
      if (produced > 0) return std::string_view(out_.data(), produced);
    }
  }

 private:
  InputWindow in_;
  std::string out_;
  z_stream z_;
  bool ok_ = false;
  bool member_done_ = false;
  bool done_ = false;
};

class Zstd final : public ByteSource {
 public:
  explicit Zstd(ByteSource* in) : in_(in), out_(kOutChunk, '\0'), z_(ZSTD_createDStream()) {
    ZSTD_initDStream(z_);
  }
  ~Zstd() override { ZSTD_freeDStream(z_); }

  absl::StatusOr<std::string_view> Next() override {
    while (true) {
      auto more = in_.Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (frame_open_) {
          return absl::DataLossError(
              StrCat("zstd: truncated input: the stream ends inside a frame at compressed byte ",
                     in_.consumed()));
        }
        return std::string_view();
      }
      std::string_view input = in_.available();
      ZSTD_inBuffer in{input.data(), input.size(), 0};
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const size_t rc = ZSTD_decompressStream(z_, &out, &in);
      in_.Consume(in.pos);
      if (ZSTD_isError(rc)) {
        return absl::DataLossError(StrCat("zstd: corrupt data near compressed byte ",
                                          in_.consumed(), ": ", ZSTD_getErrorName(rc)));
      }
      frame_open_ = rc != 0;
      if (out.pos > 0) return std::string_view(out_.data(), out.pos);
    }
  }

 private:
  InputWindow in_;
  std::string out_;
  ZSTD_DStream* z_;
  bool frame_open_ = false;
};

uint16_t Le16(std::string_view b, size_t at) {
  return uint16_t(uint8_t(b[at])) | uint16_t(uint8_t(b[at + 1])) << 8;
}
uint32_t Le32(std::string_view b, size_t at) {
  return Le16(b, at) | uint32_t(Le16(b, at + 2)) << 16;
}
uint64_t Le64(std::string_view b, size_t at) {
  return Le32(b, at) | uint64_t(Le32(b, at + 4)) << 32;
}

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kDataDescriptor = 0x08074b50;

}  // namespace

std::unique_ptr<ByteSource> GzipSource(ByteSource* compressed) {
  return std::make_unique<Gzip>(compressed);
}
std::unique_ptr<ByteSource> ZstdSource(ByteSource* compressed) {
  return std::make_unique<Zstd>(compressed);
}

class ZipStream::Impl final : public ByteSource {
 public:
  explicit Impl(ByteSource* in) : in_(in), out_(kOutChunk, '\0') {
    std::memset(&z_, 0, sizeof(z_));
    inflateInit2(&z_, -15);
  }
  ~Impl() override { inflateEnd(&z_); }

  absl::StatusOr<bool> NextEntry() {
    while (true) {
      if (in_entry_) {
        // Drain the rest of the current entry.
        while (true) {
          auto chunk = Next();
          if (!chunk.ok()) return chunk.status();
          if (chunk->empty()) break;
        }
      }
      if (finished_) return false;
      auto header = ReadHeader();
      if (!header.ok()) return header.status();
      if (!*header) {
        finished_ = true;
        return false;
      }
      const size_t slash = name_.rfind('/');
      const std::string_view base =
          std::string_view(name_).substr(slash == std::string::npos ? 0 : slash + 1);
      if (base.empty() || base.front() == '.' || name_.rfind("__MACOSX/", 0) == 0) continue;
      return true;
    }
  }

  absl::StatusOr<std::string_view> Next() override {
    if (!in_entry_) return std::string_view();
    if (method_ == 0) return NextStored();
    return NextDeflated();
  }

  std::string name_;

 private:
  // Reads a local file header; false when the next record is not one (central directory).
  absl::StatusOr<bool> ReadHeader() {
    std::string_view fixed;
    auto got = in_.Need(30, &fixed);
    if (!got.ok()) return got.status();
    if (fixed.size() < 4) {
      if (entries_ == 0) return absl::DataLossError("zip: the archive ends before its first entry");
      return false;
    }
    if (Le32(fixed, 0) != kLocalHeader) {
      if (entries_ == 0) return absl::DataLossError("zip: not a zip archive (no local header)");
      return false;
    }
    if (!*got) return Truncated();
    const uint64_t header_at = in_.consumed();
    flags_ = Le16(fixed, 6);
    method_ = Le16(fixed, 8);
    uint64_t compressed = Le32(fixed, 18);
    uint64_t size = Le32(fixed, 22);
    const size_t name_len = Le16(fixed, 26), extra_len = Le16(fixed, 28);
    std::string_view all;
    got = in_.Need(30 + name_len + extra_len, &all);
    if (!got.ok()) return got.status();
    if (!*got) return Truncated();
    name_.assign(all.substr(30, name_len));
    std::string_view extra = all.substr(30 + name_len, extra_len);
    zip64_ = false;
    for (size_t at = 0; at + 4 <= extra.size();) {
      const uint16_t id = Le16(extra, at), len = Le16(extra, at + 2);
      if (id == 0x0001 && at + 4 + len <= extra.size()) {
        zip64_ = true;
        size_t field = at + 4;
        if (size == 0xFFFFFFFF && field + 8 <= at + 4 + len) size = Le64(extra, field), field += 8;
        if (compressed == 0xFFFFFFFF && field + 8 <= at + 4 + len) compressed = Le64(extra, field);
      }
      at += 4 + len;
    }
    in_.Consume(30 + name_len + extra_len);
    ++entries_;
    if (flags_ & 1) {
      return absl::UnimplementedError(StrCat("zip: entry ", name_, " is encrypted"));
    }
    if (method_ != 0 && method_ != 8) {
      return absl::UnimplementedError(StrCat("zip: entry ", name_, " uses compression method ",
                                             method_, "; only stored and deflate are supported"));
    }
    descriptor_ = (flags_ & 8) != 0;
    if (method_ == 0 && descriptor_ && compressed == 0) {
      return absl::UnimplementedError(
          StrCat("zip: stored entry ", name_, " at byte ", header_at,
                 " has its size only in a data descriptor and cannot be streamed"));
    }
    remaining_ = compressed;
    inflateReset(&z_);
    in_entry_ = true;
    return true;
  }

  absl::Status Truncated() {
    return absl::DataLossError(
        StrCat("zip: truncated archive: input ends at byte ", in_.consumed()));
  }

  absl::StatusOr<std::string_view> NextStored() {
    if (remaining_ == 0) return EndEntry();
    auto more = in_.Fill();
    if (!more.ok()) return more.status();
    if (!*more) return Truncated();
    std::string_view bytes = in_.available();
    bytes = bytes.substr(0, std::min<uint64_t>(bytes.size(), remaining_));
    in_.Consume(bytes.size());
    remaining_ -= bytes.size();
    return bytes;
  }

  absl::StatusOr<std::string_view> NextDeflated() {
    while (true) {
      if (inflated_all_) return EndEntry();
      auto more = in_.Fill();
      if (!more.ok()) return more.status();
      if (!*more) return Truncated();
      std::string_view input = in_.available();
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      z_.avail_in = static_cast<uInt>(input.size());
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      in_.Consume(input.size() - z_.avail_in);
      if (rc == Z_STREAM_END) {
        inflated_all_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::DataLossError(
            StrCat("zip: entry ", name_, ": corrupt deflate data near byte ", in_.consumed()));
      }
      const size_t produced = out_.size() - z_.avail_out;
      if (produced > 0) return std::string_view(out_.data(), produced);
    }
  }

  // Skips the data descriptor, if any, and ends the entry.
  absl::StatusOr<std::string_view> EndEntry() {
    in_entry_ = false;
    inflated_all_ = false;
    if (descriptor_) {
      std::string_view head;
      auto got = in_.Need(4, &head);
      if (!got.ok()) return got.status();
      size_t skip = zip64_ ? 20 : 12;
      if (*got && Le32(head, 0) == kDataDescriptor) skip += 4;
      got = in_.Need(skip, &head);
      if (!got.ok()) return got.status();
      if (!*got) return Truncated();
      in_.Consume(skip);
    }
    return std::string_view();
  }

  InputWindow in_;
  std::string out_;
  z_stream z_;
  uint16_t flags_ = 0, method_ = 0;
  uint64_t remaining_ = 0;
  uint64_t entries_ = 0;
  bool zip64_ = false, descriptor_ = false, in_entry_ = false, inflated_all_ = false;
  bool finished_ = false;
};

ZipStream::ZipStream(ByteSource* archive) : impl_(std::make_unique<Impl>(archive)) {}
ZipStream::~ZipStream() = default;
absl::StatusOr<bool> ZipStream::NextEntry() { return impl_->NextEntry(); }
const std::string& ZipStream::entry_name() const { return impl_->name_; }
ByteSource& ZipStream::entry() { return *impl_; }

}  // namespace connectors::filesource
