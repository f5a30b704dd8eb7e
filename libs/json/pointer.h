// RFC 6901 JSON Pointer: "/a/b~1c/0" addresses member "a", then "b/c", then array index 0.
// "" is the whole document. Flow uses pointers for collection keys and projections.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace connectors::json {

class Pointer {
 public:
  // The root pointer "".
  Pointer() = default;
  // From already-unescaped reference tokens.
  explicit Pointer(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // Parses pointer text, unescaping "~1" to '/' and "~0" to '~'. A non-empty pointer must start
  // with '/'; '~' followed by anything but '0' or '1' is an error (InvalidArgument).
  static absl::StatusOr<Pointer> Parse(std::string_view text);

  const std::vector<std::string>& tokens() const { return tokens_; }
  bool is_root() const { return tokens_.empty(); }

  // Appends one unescaped token.
  Pointer& Push(std::string_view token);

  // Pointer text; Parse(p.ToString()) == p.
  std::string ToString() const;

  friend bool operator==(const Pointer&, const Pointer&) = default;

 private:
  std::vector<std::string> tokens_;
};

// Escapes one reference token: '~' -> "~0", '/' -> "~1".
std::string EscapeToken(std::string_view token);

// The value `pointer` addresses within `root`. Array indices are decimal without leading zeros
// ("0", "17"). Errors:
//  - NotFound: a member or index is absent, "-" (the element after the last), or a token
//    descends into a scalar.
//  - InvalidArgument: a token applied to an array is not an index ("01", "x", "+1").
absl::StatusOr<simdjson::dom::element> Resolve(const simdjson::dom::element& root,
                                               const Pointer& pointer);

// Like Resolve, but any failure is reported as std::nullopt (the value is absent).
std::optional<simdjson::dom::element> Lookup(const simdjson::dom::element& root,
                                             const Pointer& pointer);

}  // namespace connectors::json
