#include "libs/tuple/tuple.h"

#include <simdjson.h>

#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace connectors::tuple {
namespace {

// Type codes (protocol reference §5.3).
constexpr uint8_t kNil = 0x00;
constexpr uint8_t kBytes = 0x01;
constexpr uint8_t kString = 0x02;
constexpr uint8_t kNested = 0x05;
constexpr uint8_t kNegIntLong = 0x0B;
constexpr uint8_t kIntZero = 0x14;
constexpr uint8_t kPosIntLong = 0x1D;
constexpr uint8_t kFloat = 0x20;
constexpr uint8_t kDouble = 0x21;
constexpr uint8_t kFalse = 0x26;
constexpr uint8_t kTrue = 0x27;
constexpr uint8_t kUuid = 0x30;
constexpr uint8_t kVersionstamp = 0x33;
// Follows an embedded 0x00 inside strings and nested tuples to mark it as data, not a
// terminator.
constexpr uint8_t kEscape = 0xFF;

// Nested tuples recurse; bound the depth so hostile input cannot exhaust the stack.
constexpr int kMaxNesting = 64;

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Number of bytes needed for `magnitude` (> 0), 1..8.
int ByteLength(uint64_t magnitude) { return (std::bit_width(magnitude) + 7) / 8; }

void AppendBigEndian(uint64_t value, int n, std::string* out) {
  for (int shift = 8 * (n - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(value >> shift));
  }
}

// Integer with magnitude > 0: positive codes 0x15..0x1C hold the magnitude, negative codes
// 0x13..0x0C hold its ones' complement so that larger magnitudes sort first.
void AppendNonZero(uint64_t magnitude, bool negative, std::string* out) {
  const int n = ByteLength(magnitude);
  if (negative) {
    out->push_back(static_cast<char>(kIntZero - n));
    AppendBigEndian(~magnitude, n, out);
  } else {
    out->push_back(static_cast<char>(kIntZero + n));
    AppendBigEndian(magnitude, n, out);
  }
}

// Framing shared by byte and unicode strings: escape each 0x00 as 0x00 0xFF, then terminate.
void AppendEscaped(uint8_t code, std::string_view data, std::string* out) {
  out->push_back(static_cast<char>(code));
  while (true) {
    const size_t zero = data.find('\0');
    if (zero == std::string_view::npos) break;
    out->append(data.data(), zero + 1);
    out->push_back(static_cast<char>(kEscape));
    data.remove_prefix(zero + 1);
  }
  out->append(data);
  out->push_back(static_cast<char>(kNil));
}

std::string Hex(uint8_t byte) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[byte >> 4], kDigits[byte & 0xF]};
}

absl::Status Error(size_t offset, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("tuple: ", absl::string_view(what.data(), what.size()), " at offset ", offset));
}

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }

  // Decodes the element starting at the current position. Top-level nil (0x00) is handled here;
  // inside nested tuples the caller deals with 0x00 first.
  absl::StatusOr<Element> Next(int depth) {
    const size_t start = pos_;
    const uint8_t code = static_cast<uint8_t>(in_[pos_++]);
    switch (code) {
      case kNil:
        return Element::Nil();
      case kBytes:
      case kString: {
        std::string data;
        if (!ReadEscaped(&data)) {
          return Error(start, code == kBytes ? "unterminated byte string (no 0x00) starting"
                                             : "unterminated unicode string (no 0x00) starting");
        }
        if (code == kBytes) return Element::Bytes(std::move(data));
        if (!simdjson::validate_utf8(data.data(), data.size())) {
          return Error(start, "invalid UTF-8 in unicode string starting");
        }
        return Element::String(std::move(data));
      }
      case kNested:
        return NextNested(start, depth);
      case kNegIntLong:
      case kPosIntLong:
        return NextLongInt(start, code == kNegIntLong);
      case kIntZero:
        return Element::Int(0);
      case kFloat: {
        uint64_t bits;
        if (!ReadBigEndian(4, &bits)) return Error(start, "truncated float (needs 4 bytes)");
        const uint32_t raw = static_cast<uint32_t>(bits);
        return Element::Double(
            std::bit_cast<float>((raw & 0x80000000u) != 0 ? raw ^ 0x80000000u : ~raw));
      }
      case kDouble: {
        uint64_t bits;
        if (!ReadBigEndian(8, &bits)) return Error(start, "truncated double (needs 8 bytes)");
        // Encoding flipped the sign bit of positives and every bit of negatives; undo that.
        constexpr uint64_t kSign = uint64_t{1} << 63;
        return Element::Double(std::bit_cast<double>((bits & kSign) != 0 ? bits ^ kSign : ~bits));
      }
      case kFalse:
        return Element::Bool(false);
      case kTrue:
        return Element::Bool(true);
      case kUuid:
      case kVersionstamp:
        return Error(start, absl::StrCat("unsupported type code ", Hex(code),
                                         code == kUuid ? " (UUID)" : " (versionstamp)"));
      default:
        break;
    }
    if (code > kNegIntLong && code < kPosIntLong) {
      const bool negative = code < kIntZero;
      const int n = negative ? kIntZero - code : code - kIntZero;
      uint64_t payload;
      if (!ReadBigEndian(n, &payload)) {
        return Error(start, absl::StrCat("truncated integer (code ", Hex(code), " needs ", n,
                                         " bytes, ", in_.size() - pos_, " remain)"));
      }
      if (!negative) return Element::Uint(payload);
      const uint64_t mask = n == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
      return Negative(start, ~payload & mask);
    }
    return Error(start, absl::StrCat("unknown type code ", Hex(code)));
  }

 private:
  // Reads n <= 8 bytes as a big-endian integer; false if fewer remain.
  bool ReadBigEndian(int n, uint64_t* value) {
    if (in_.size() - pos_ < static_cast<size_t>(n)) return false;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_++]);
    *value = v;
    return true;
  }

  // Reads 0x00-terminated, 0x00 0xFF-escaped data after a string code; false if unterminated.
  bool ReadEscaped(std::string* data) {
    while (true) {
      const size_t zero = in_.find('\0', pos_);
      if (zero == std::string_view::npos) return false;
      data->append(in_.data() + pos_, zero - pos_);
      pos_ = zero + 1;
      if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == kEscape) {
        data->push_back('\0');
        ++pos_;
        continue;
      }
      return true;
    }
  }

  absl::StatusOr<Element> Negative(size_t start, uint64_t magnitude) {
    if (magnitude > kInt64Max + 1) {
      return Error(start, "negative integer below the int64 range");
    }
    // Negating in uint64 then converting maps 2^63 to INT64_MIN without overflow.
    return Element::Int(static_cast<int64_t>(0 - magnitude));
  }

  // Codes 0x0B / 0x1D: a length byte (complemented for negatives), then that many bytes.
  absl::StatusOr<Element> NextLongInt(size_t start, bool negative) {
    if (pos_ == in_.size()) return Error(start, "truncated integer (missing length byte)");
    uint8_t length = static_cast<uint8_t>(in_[pos_++]);
    if (negative) length ^= 0xFF;
    if (in_.size() - pos_ < length) {
      return Error(start, absl::StrCat("bad length: integer needs ", length, " bytes, ",
                                       in_.size() - pos_, " remain"));
    }
    uint64_t magnitude = 0;
    for (int i = 0; i < length; ++i) {
      uint8_t byte = static_cast<uint8_t>(in_[pos_++]);
      if (negative) byte = ~byte;
      if ((magnitude >> 56) != 0) return Error(start, "integer does not fit 64 bits");
      magnitude = (magnitude << 8) | byte;
    }
    return negative ? Negative(start, magnitude) : Element::Uint(magnitude);
  }

  absl::StatusOr<Element> NextNested(size_t start, int depth) {
    if (depth >= kMaxNesting) return Error(start, "nested tuples too deep");
    std::vector<Element> elements;
    while (true) {
      if (pos_ == in_.size()) return Error(start, "unterminated nested tuple starting");
      if (static_cast<uint8_t>(in_[pos_]) == kNil) {
        ++pos_;
        if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == kEscape) {
          ++pos_;
          elements.emplace_back();
          continue;
        }
        return Element::Tuple(std::move(elements));
      }
      absl::StatusOr<Element> element = Next(depth + 1);
      if (!element.ok()) return element.status();
      elements.push_back(*std::move(element));
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Element Element::Bool(bool value) { return Element(std::in_place_index<1>, value); }
Element Element::Int(int64_t value) { return Element(std::in_place_index<2>, value); }
Element Element::Uint(uint64_t value) {
  if (value <= kInt64Max) return Int(static_cast<int64_t>(value));
  return Element(std::in_place_index<3>, value);
}
Element Element::Double(double value) { return Element(std::in_place_index<4>, value); }
Element Element::String(std::string utf8) {
  return Element(std::in_place_index<5>, std::move(utf8));
}
Element Element::Bytes(std::string bytes) {
  return Element(std::in_place_index<6>, std::move(bytes));
}
Element Element::Tuple(std::vector<Element> elements) {
  return Element(std::in_place_index<7>, std::move(elements));
}

bool Element::bool_value() const {
  assert(kind() == Kind::kBool);
  return *std::get_if<1>(&value_);
}
int64_t Element::int_value() const {
  assert(kind() == Kind::kInt);
  return *std::get_if<2>(&value_);
}
uint64_t Element::uint_value() const {
  assert(kind() == Kind::kUint);
  return *std::get_if<3>(&value_);
}
double Element::double_value() const {
  assert(kind() == Kind::kDouble);
  return *std::get_if<4>(&value_);
}
const std::string& Element::string_value() const {
  assert(kind() == Kind::kString || kind() == Kind::kBytes);
  return kind() == Kind::kString ? *std::get_if<5>(&value_) : *std::get_if<6>(&value_);
}
const std::vector<Element>& Element::tuple_value() const {
  assert(kind() == Kind::kTuple);
  return *std::get_if<7>(&value_);
}

bool operator==(const Element& a, const Element& b) {
  if (a.kind() != b.kind()) return false;
  if (a.kind() == Element::Kind::kDouble) {
    return std::bit_cast<uint64_t>(a.double_value()) == std::bit_cast<uint64_t>(b.double_value());
  }
  return a.value_ == b.value_;
}

std::string Element::DebugString() const {
  switch (kind()) {
    case Kind::kNil:
      return "nil";
    case Kind::kBool:
      return bool_value() ? "true" : "false";
    case Kind::kInt:
      return absl::StrCat(int_value());
    case Kind::kUint:
      return absl::StrCat(uint_value(), "u");
    case Kind::kDouble: {
      char buf[32];
      const char* end = std::to_chars(buf, buf + sizeof(buf), double_value()).ptr;
      return absl::StrCat("double(", absl::string_view(buf, end - buf), ")");
    }
    case Kind::kString:
      return absl::StrCat("\"", absl::CHexEscape(string_value()), "\"");
    case Kind::kBytes:
      return absl::StrCat("b\"", absl::CHexEscape(string_value()), "\"");
    case Kind::kTuple: {
      std::string out = "(";
      for (const Element& element : tuple_value()) {
        if (out.size() > 1) out.append(", ");
        out.append(element.DebugString());
      }
      out.push_back(')');
      return out;
    }
  }
  return "?";
}

void AppendNil(std::string* out) { out->push_back(static_cast<char>(kNil)); }

void AppendBool(bool value, std::string* out) {
  out->push_back(static_cast<char>(value ? kTrue : kFalse));
}

void AppendInt(int64_t value, std::string* out) {
  if (value == 0) {
    out->push_back(static_cast<char>(kIntZero));
  } else if (value > 0) {
    AppendNonZero(static_cast<uint64_t>(value), /*negative=*/false, out);
  } else {
    // 0 - x in uint64 is |x| even for INT64_MIN.
    AppendNonZero(0 - static_cast<uint64_t>(value), /*negative=*/true, out);
  }
}

void AppendUint(uint64_t value, std::string* out) {
  if (value == 0) {
    out->push_back(static_cast<char>(kIntZero));
  } else {
    AppendNonZero(value, /*negative=*/false, out);
  }
}

void AppendDouble(double value, std::string* out) {
  // Flipping the sign bit of positives and all bits of negatives makes the big-endian bytes
  // sort like the numbers.
  uint64_t bits = std::bit_cast<uint64_t>(value);
  constexpr uint64_t kSign = uint64_t{1} << 63;
  bits = (bits & kSign) != 0 ? ~bits : bits ^ kSign;
  out->push_back(static_cast<char>(kDouble));
  AppendBigEndian(bits, 8, out);
}

void AppendString(std::string_view utf8, std::string* out) { AppendEscaped(kString, utf8, out); }

void AppendBytes(std::string_view bytes, std::string* out) { AppendEscaped(kBytes, bytes, out); }

void Append(const Element& element, std::string* out) {
  switch (element.kind()) {
    case Element::Kind::kNil:
      AppendNil(out);
      return;
    case Element::Kind::kBool:
      AppendBool(element.bool_value(), out);
      return;
    case Element::Kind::kInt:
      AppendInt(element.int_value(), out);
      return;
    case Element::Kind::kUint:
      AppendUint(element.uint_value(), out);
      return;
    case Element::Kind::kDouble:
      AppendDouble(element.double_value(), out);
      return;
    case Element::Kind::kString:
      AppendString(element.string_value(), out);
      return;
    case Element::Kind::kBytes:
      AppendBytes(element.string_value(), out);
      return;
    case Element::Kind::kTuple:
      out->push_back(static_cast<char>(kNested));
      for (const Element& child : element.tuple_value()) {
        Append(child, out);
        // Inside a nested tuple a bare 0x00 would end it, so nil is escaped.
        if (child.is_nil()) out->push_back(static_cast<char>(kEscape));
      }
      out->push_back(static_cast<char>(kNil));
      return;
  }
}

std::string Pack(std::span<const Element> elements) {
  std::string out;
  for (const Element& element : elements) Append(element, &out);
  return out;
}

absl::StatusOr<std::vector<Element>> Unpack(std::string_view packed) {
  std::vector<Element> elements;
  Decoder decoder(packed);
  while (!decoder.done()) {
    absl::StatusOr<Element> element = decoder.Next(/*depth=*/0);
    if (!element.ok()) return element.status();
    elements.push_back(*std::move(element));
  }
  return elements;
}

}  // namespace connectors::tuple
