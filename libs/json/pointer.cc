#include "libs/json/pointer.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace connectors::json {
namespace {

// Debian's Abseil is built with its own string_view type, which StrCat needs.
absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

absl::StatusOr<Pointer> Pointer::Parse(std::string_view text) {
  Pointer pointer;
  if (text.empty()) return pointer;
  if (text[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON pointer \"", AbslView(text), "\" must be empty or start with '/'"));
  }
  std::string* token = nullptr;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '/') {
      token = &pointer.tokens_.emplace_back();
    } else if (c != '~') {
      token->push_back(c);
    } else if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
      token->push_back(text[++i] == '0' ? '~' : '/');
    } else {
      return absl::InvalidArgumentError(absl::StrCat("JSON pointer \"", AbslView(text),
                                                     "\": bad escape at offset ", i,
                                                     " ('~' must be followed by '0' or '1')"));
    }
  }
  return pointer;
}

Pointer& Pointer::Push(std::string_view token) {
  tokens_.emplace_back(token);
  return *this;
}

std::string EscapeToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Pointer::ToString() const {
  std::string out;
  for (const std::string& token : tokens_) {
    out.push_back('/');
    out.append(EscapeToken(token));
  }
  return out;
}

namespace {

enum class Outcome { kFound, kNoMember, kPastEnd, kNotIndex, kOutOfRange, kScalar };

// Walks `pointer` from `root`. On failure *failed_at is the index of the offending token. Builds
// no strings, so Lookup stays cheap when values are routinely absent.
Outcome Walk(const simdjson::dom::element& root, const Pointer& pointer,
             simdjson::dom::element* found, size_t* failed_at) {
  simdjson::dom::element current = root;
  const std::vector<std::string>& tokens = pointer.tokens();
  for (size_t depth = 0; depth < tokens.size(); ++depth) {
    const std::string& token = tokens[depth];
    *failed_at = depth;
    simdjson::dom::element child;
    if (current.is_object()) {
      if (current.get_object().value_unsafe().at_key(token).get(child) != simdjson::SUCCESS) {
        return Outcome::kNoMember;
      }
    } else if (current.is_array()) {
      if (token == "-") return Outcome::kPastEnd;
      const bool digits_only =
          !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
      if (!digits_only || (token.size() > 1 && token[0] == '0')) return Outcome::kNotIndex;
      size_t index = 0;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      // An index too large for size_t is out of range like any other past-the-end index.
      if (ec != std::errc() ||
          current.get_array().value_unsafe().at(index).get(child) != simdjson::SUCCESS) {
        return Outcome::kOutOfRange;
      }
    } else {
      return Outcome::kScalar;
    }
    current = child;
  }
  *found = current;
  return Outcome::kFound;
}

}  // namespace

absl::StatusOr<simdjson::dom::element> Resolve(const simdjson::dom::element& root,
                                               const Pointer& pointer) {
  simdjson::dom::element found;
  size_t failed_at = 0;
  const Outcome outcome = Walk(root, pointer, &found, &failed_at);
  if (outcome == Outcome::kFound) return found;
  const std::string prefix = absl::StrCat("JSON pointer \"", pointer.ToString(), "\": ");
  const std::string& token = pointer.tokens()[failed_at];
  switch (outcome) {
    case Outcome::kNoMember:
      return absl::NotFoundError(absl::StrCat(prefix, "no member \"", token, "\""));
    case Outcome::kPastEnd:
      return absl::NotFoundError(absl::StrCat(prefix, "\"-\" is past the end of the array"));
    case Outcome::kNotIndex:
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "\"", token, "\" is not an array index"));
    case Outcome::kOutOfRange:
      return absl::NotFoundError(absl::StrCat(prefix, "index ", token, " is out of range"));
    case Outcome::kScalar:
    case Outcome::kFound:
      break;
  }
  return absl::NotFoundError(absl::StrCat(prefix, "token \"", token, "\" descends into a scalar"));
}

std::optional<simdjson::dom::element> Lookup(const simdjson::dom::element& root,
                                             const Pointer& pointer) {
  simdjson::dom::element found;
  size_t failed_at = 0;
  if (Walk(root, pointer, &found, &failed_at) != Outcome::kFound) return std::nullopt;
  return found;
}

}  // namespace connectors::json
