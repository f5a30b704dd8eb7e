// FoundationDB tuple-layer encoding, as Flow uses it for `key_packed` / `values_packed` (Flow
// protocol reference §5). A packed tuple is the plain concatenation of its elements' encodings,
// with no header or length; unsigned bytewise comparison of packed tuples orders them element by
// element (integers numerically, doubles numerically, strings bytewise).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace connectors::tuple {

// One tuple element. Integers are normalised: any value that fits int64 is kInt, and kUint
// holds only values above INT64_MAX, so equal numbers compare equal however they were built and
// Unpack(Pack(x)) == x.
class Element {
 public:
  enum class Kind : uint8_t { kNil, kBool, kInt, kUint, kDouble, kString, kBytes, kTuple };

  Element() = default;  // Nil.
  static Element Nil() { return Element(); }
  static Element Bool(bool value);
  static Element Int(int64_t value);
  static Element Uint(uint64_t value);
  static Element Double(double value);
  // Unicode string; `utf8` should be valid UTF-8 (Unpack rejects anything else).
  static Element String(std::string utf8);
  static Element Bytes(std::string bytes);
  // A nested tuple. Flow never produces these; they exist so any valid tuple can be decoded.
  static Element Tuple(std::vector<Element> elements);

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  bool is_nil() const { return kind() == Kind::kNil; }

  // Accessors; each requires the matching kind().
  bool bool_value() const;
  int64_t int_value() const;
  uint64_t uint_value() const;
  double double_value() const;
  const std::string& string_value() const;  // kString or kBytes.
  const std::vector<Element>& tuple_value() const;

  // Equal when they encode identically: doubles compare by bit pattern (NaN equals itself,
  // 0.0 differs from -0.0), and a string never equals a byte string.
  friend bool operator==(const Element& a, const Element& b);

  // Readable form for logs and test failures, e.g. `"a-key"`, `b"\x00"`, `(1, nil)`;
  // a trailing u marks uint64 values.
  std::string DebugString() const;

 private:
  // Alternative index == Kind. The string type appears twice (unicode, bytes); alternatives
  // are always addressed by index.
  using Value = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string,
                             std::string, std::vector<Element>>;

  // Constructs the alternative in place (no temporary variant to move from).
  template <size_t I, typename T>
  Element(std::in_place_index_t<I> index, T&& value) : value_(index, std::forward<T>(value)) {}

  Value value_;
};

// Appends the encoding of one (top-level) element to *out.
void Append(const Element& element, std::string* out);

// Packs `elements` in order.
std::string Pack(std::span<const Element> elements);

// Decodes a whole packed tuple. Errors are InvalidArgument and name the byte offset: truncated
// input, unknown or unsupported type codes (UUID, versionstamp), integers beyond the int64 /
// uint64 range, invalid UTF-8 in a unicode string. Never reads outside `packed`.
absl::StatusOr<std::vector<Element>> Unpack(std::string_view packed);

// Primitive encoders, for callers that pack values without building Elements.
void AppendNil(std::string* out);
void AppendBool(bool value, std::string* out);
void AppendInt(int64_t value, std::string* out);
void AppendUint(uint64_t value, std::string* out);
void AppendDouble(double value, std::string* out);
void AppendString(std::string_view utf8, std::string* out);
void AppendBytes(std::string_view bytes, std::string* out);

}  // namespace connectors::tuple
