// JSON <-> tuple element mapping used by the Flow runtime (protocol reference §5.2):
// null -> nil, booleans, integers -> int (int64 / uint64), any number parsed as a float
// (including 1.0) -> double, strings -> unicode string, objects and arrays -> byte string of
// their compact JSON text with object keys sorted bytewise (json::WriteElement, sort_keys).
#pragma once

#include <simdjson.h>

#include <string>

#include "absl/status/status.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple.h"

namespace connectors::tuple {

// Appends the tuple encoding of `value` to *out. On error *out is left unchanged.
absl::Status AppendJson(const simdjson::dom::element& value, std::string* out);

// Writes `element` as one JSON value: nil -> null, numbers and strings as themselves, doubles
// via Writer::Double, nested tuples as arrays. A byte string holding a JSON object or array
// (what AppendJson produces for them) is written back as that JSON; any other byte string as
// a base64 (RFC 4648, padded) JSON string.
void WriteJson(const Element& element, json::Writer& writer);
// Same, reusing `parser` to check byte strings (avoids an allocation per JSON byte string).
void WriteJson(const Element& element, json::Writer& writer, json::Parser& parser);

}  // namespace connectors::tuple
