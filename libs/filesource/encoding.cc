#include "libs/filesource/encoding.h"

#include <algorithm>
#include <cctype>

#include "libs/base/strings.h"

namespace connectors::filesource {
namespace {

// windows-1252 code points for bytes 0x80..0x9F (0 marks the five undefined bytes, which map to
// the C1 control of the same value, as browsers do).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// Length of the valid UTF-8 sequence at `s[0]`: >0 valid, 0 incomplete (needs more bytes), -1
// invalid.
int Utf8SequenceLength(std::string_view s) {
  const uint8_t c = s[0];
  if (c < 0x80) return 1;
  int n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000;
  } else {
    return -1;
  }
  uint32_t cp = c & (0x7F >> n);
  for (int i = 1; i < n; ++i) {
    if (size_t(i) >= s.size()) return 0;
    const uint8_t b = s[i];
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  return n;
}

bool ValidUtf8Prefix(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const int n = Utf8SequenceLength(s.substr(i));
    if (n < 0) return false;
    if (n == 0) return true;  // Cut off by the end of the prefix.
    i += n;
  }
  return true;
}

class Transcoder final : public ByteSource {
 public:
  Transcoder(ByteSource* in, Encoding encoding) : in_(in), encoding_(encoding) {}

  absl::StatusOr<std::string_view> Next() override {
    while (true) {
      auto chunk = in_->Next();
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) {
        if (!carry_.empty()) {
          return absl::InvalidArgumentError(StrCat("invalid ", EncodingName(encoding_),
                                                   ": input ends inside a character at byte ",
                                                   offset_));
        }
        return std::string_view();
      }
      out_.clear();
      absl::Status status = Convert(*chunk);
      if (!status.ok()) return status;
      if (!out_.empty()) return std::string_view(out_);
    }
  }

 private:
  absl::Status Convert(std::string_view chunk) {
    std::string_view input = chunk;
    if (!carry_.empty()) {
      carry_.append(chunk);
      input = carry_;
    }
    size_t used = 0;
    absl::Status status;
    switch (encoding_) {
      case Encoding::kUtf8:
        status = FromUtf8(input, &used);
        break;
      case Encoding::kUtf16Le:
      case Encoding::kUtf16Be:
        status = FromUtf16(input, &used);
        break;
      case Encoding::kWindows1252:
        FromCp1252(input);
        used = input.size();
        break;
    }
    if (!status.ok()) return status;
    std::string rest(input.substr(used));
    carry_ = std::move(rest);
    return absl::OkStatus();
  }

  absl::Status FromUtf8(std::string_view in, size_t* used) {
    size_t i = 0;
    if (first_ && in.size() >= 3 && in.substr(0, 3) == "\xEF\xBB\xBF") i = 3, offset_ += 3;
    if (first_ && in.size() < 3 && std::string_view("\xEF\xBB\xBF").substr(0, in.size()) == in) {
      *used = 0;  // Could still be a BOM: wait for more.
      return absl::OkStatus();
    }
    first_ = false;
    const size_t start = i;
    while (i < in.size()) {
      // Fast path over ASCII.
      if (uint8_t(in[i]) < 0x80) {
        ++i;
        continue;
      }
      const int n = Utf8SequenceLength(in.substr(i));
      if (n == 0) break;
      if (n < 0) {
        return absl::InvalidArgumentError(
            StrCat("invalid UTF-8 at byte ", offset_ + (i - start),
                   "; set the parser's encoding if the file is not UTF-8"));
      }
      i += n;
    }
    out_.append(in.substr(start, i - start));
    offset_ += i - start;
    *used = i;
    return absl::OkStatus();
  }

  absl::Status FromUtf16(std::string_view in, size_t* used) {
    const bool le = encoding_ == Encoding::kUtf16Le;
    size_t i = 0;
    auto unit = [&](size_t at) -> uint32_t {
      const uint8_t a = in[at], b = in[at + 1];
      return le ? (a | b << 8) : (a << 8 | b);
    };
    while (i + 2 <= in.size()) {
      uint32_t cp = unit(i);
      size_t n = 2;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i + 4 > in.size()) break;
        const uint32_t low = unit(i + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
          return absl::InvalidArgumentError(StrCat("invalid ", EncodingName(encoding_),
                                                   ": unpaired surrogate at byte ", offset_));
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        n = 4;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return absl::InvalidArgumentError(
            StrCat("invalid ", EncodingName(encoding_), ": unpaired surrogate at byte ", offset_));
      }
      if (!(first_ && cp == 0xFEFF)) AppendUtf8(cp, &out_);
      first_ = false;
      i += n;
      offset_ += n;
    }
    *used = i;
    return absl::OkStatus();
  }

  void FromCp1252(std::string_view in) {
    for (unsigned char c : in) {
      if (c < 0x80) {
        out_.push_back(char(c));
      } else if (c < 0xA0) {
        const uint16_t cp = kCp1252High[c - 0x80];
        AppendUtf8(cp == 0 ? c : cp, &out_);
      } else {
        AppendUtf8(c, &out_);
      }
    }
    offset_ += in.size();
  }

  ByteSource* in_;
  Encoding encoding_;
  std::string carry_;
  std::string out_;
  uint64_t offset_ = 0;
  bool first_ = true;
};

}  // namespace

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8:
      return "UTF-8";
    case Encoding::kUtf16Le:
      return "UTF-16LE";
    case Encoding::kUtf16Be:
      return "UTF-16BE";
    case Encoding::kWindows1252:
      return "windows-1252";
  }
  return "?";
}

absl::StatusOr<Encoding> EncodingFromLabel(std::string_view label) {
  std::string l;
  for (char c : label) l.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  if (l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8") return Encoding::kUtf8;
  if (l == "utf-16le" || l == "utf-16" || l == "utf16le") return Encoding::kUtf16Le;
  if (l == "utf-16be" || l == "utf16be") return Encoding::kUtf16Be;
  if (l == "latin1" || l == "latin-1" || l == "iso-8859-1" || l == "iso8859-1" ||
      l == "windows-1252" || l == "cp1252" || l == "us-ascii" || l == "ascii" || l == "l1") {
    return Encoding::kWindows1252;
  }
  return absl::InvalidArgumentError(
      StrCat("parser.format.config.encoding: unsupported encoding \"", label,
             "\"; use UTF-8, UTF-16LE, UTF-16BE or windows-1252 (Latin-1)"));
}

Encoding DetectEncoding(std::string_view p) {
  if (p.substr(0, 3) == "\xEF\xBB\xBF") return Encoding::kUtf8;
  if (p.substr(0, 2) == "\xFF\xFE") return Encoding::kUtf16Le;
  if (p.substr(0, 2) == "\xFE\xFF") return Encoding::kUtf16Be;
  size_t even_nul = 0, odd_nul = 0;
  const size_t n = std::min<size_t>(p.size(), 4096);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '\0') (i % 2 == 0 ? even_nul : odd_nul)++;
  }
  if (n >= 2 && odd_nul * 4 > n && even_nul * 10 < odd_nul) return Encoding::kUtf16Le;
  if (n >= 2 && even_nul * 4 > n && odd_nul * 10 < even_nul) return Encoding::kUtf16Be;
  if (ValidUtf8Prefix(p)) return Encoding::kUtf8;
  return Encoding::kWindows1252;
}

std::unique_ptr<ByteSource> Utf8Source(ByteSource* input, Encoding encoding) {
  return std::make_unique<Transcoder>(input, encoding);
}

}  // namespace connectors::filesource
