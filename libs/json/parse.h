// Small helpers over simdjson's DOM API: parsing into absl::StatusOr, and re-serialising a DOM
// value through Writer. With sorted keys the output is the canonical compact form Flow uses for
// objects and arrays packed into tuples (keys in bytewise order at every depth).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/json/writer.h"

namespace connectors::json {

// A reusable parser. Keeping one alive across documents reuses simdjson's buffers. Elements
// returned by Parse borrow those buffers: they are valid until the next Parse call or until the
// Parser is destroyed. Not thread-safe; use one per thread.
class Parser {
 public:
  Parser() = default;
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  Parser(Parser&&) = default;
  Parser& operator=(Parser&&) = default;

  // Parses exactly one JSON document (surrounding whitespace allowed). Malformed text, invalid
  // UTF-8, integers beyond 64 bits and nesting deeper than 1024 give InvalidArgument with
  // simdjson's description of the problem.
  absl::StatusOr<simdjson::dom::element> Parse(std::string_view text);

 private:
  simdjson::dom::parser parser_;
};

// Writes `value` compactly. With `sort_keys`, object members are emitted in bytewise key order
// at every depth (duplicate keys keep their relative order); otherwise in document order.
// Integers stay integers (int64 / uint64); floats go through Writer::Double.
void WriteElement(const simdjson::dom::element& value, Writer& writer, bool sort_keys);

// Compact text of `value`; see WriteElement.
std::string ToJson(const simdjson::dom::element& value, bool sort_keys = false);

}  // namespace connectors::json
