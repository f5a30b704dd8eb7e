// Internal helpers over parsed JSON values shared by the validator and Lint: canonical text for
// equality and messages, numeric access, truncation and JSON-pointer escaping.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace connectors::schema::internal {

// Debian's Abseil is built with its own absl::string_view; this bridges a std::string_view to
// the few absl functions used here.
inline absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

// Nesting limit for schemas and instances. Configs are shallow; the limit keeps the recursive
// compiler and validator far from the end of the stack even under sanitizers.
inline constexpr size_t kMaxJsonDepth = 256;

// Parses `json` (any string_view: it is copied into a padded buffer) with kMaxJsonDepth.
simdjson::error_code ParseJson(simdjson::dom::parser& parser, std::string_view json,
                               simdjson::dom::element* root);

// JSON text of `value` with object keys sorted and numbers normalized (1.0 is written as 1),
// so two values are equal in the JSON Schema sense exactly when their canonical texts are.
std::string Canonical(simdjson::dom::element value);

// Whether `value` is a number, and whether it has no fractional part (1.0 counts).
bool IsNumber(simdjson::dom::element value);
bool IsIntegral(simdjson::dom::element value);

// A number as long double. On x86-64 (64-bit mantissa) and aarch64 (quad) this holds every
// int64, uint64 and double exactly, so comparisons against schema bounds never round.
long double NumberValue(simdjson::dom::element value);

// "null", "boolean", "number", "string", "array" or "object" (integers are "number").
std::string_view TypeName(simdjson::dom::element value);

// `text` cut to at most `max_bytes` on a UTF-8 boundary, with "..." appended when cut.
std::string Truncate(std::string_view text, size_t max_bytes = 64);

// Number of Unicode code points in valid UTF-8 `text`.
size_t CodePoints(std::string_view text);

}  // namespace connectors::schema::internal
