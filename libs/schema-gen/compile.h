// Internal: a JSON Schema turned into a flat table of nodes that the validator walks. Nodes
// refer to each other by index, which makes $ref (including recursive ones) a plain index.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/schema-gen/formats.h"

namespace connectors::schema::internal {

enum TypeBit : uint8_t {
  kNullBit = 1 << 0,
  kBooleanBit = 1 << 1,
  kIntegerBit = 1 << 2,
  kNumberBit = 1 << 3,
  kStringBit = 1 << 4,
  kArrayBit = 1 << 5,
  kObjectBit = 1 << 6,
};

// One of minimum / exclusiveMinimum / maximum / exclusiveMaximum.
struct Bound {
  long double value;
  std::string text;  // As written in messages.
  bool exclusive;
};

struct Pattern {
  std::string source;
  std::regex regex;  // ECMAScript grammar, matched with regex_search (unanchored).
};

struct Node {
  std::string pointer;      // Location in the schema document, for compile errors.
  bool reject_all = false;  // The `false` schema.
  bool secret = false;      // `secret` or `airbyte_secret`: never echo instance values.

  uint8_t types = 0;                    // TypeBit mask; 0 means any type.
  std::vector<std::string> type_names;  // As listed in the schema, for messages.

  std::optional<std::string> const_value;  // Canonical JSON text.
  std::vector<std::string> enum_values;    // Canonical JSON texts.
  bool has_enum = false;

  std::optional<uint64_t> min_length, max_length;
  std::optional<Pattern> pattern;
  Format format = Format::kUnknown;

  std::vector<Bound> lower_bounds, upper_bounds;

  int items = -1;
  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;

  std::vector<std::pair<std::string, int>> properties;  // In schema order.
  std::vector<std::string> required;
  int additional = -1;  // Schema for properties not listed; -1 when unconstrained.

  // Applicators on the same instance location.
  int ref = -1;
  std::vector<int> all_of, any_of, one_of;
  int not_schema = -1, if_schema = -1, then_schema = -1, else_schema = -1;

  // oneOf discriminator: property name and, per canonical const value, the oneOf branch. When
  // some branch has no const for it, `discriminator_map` stays empty and oneOf is evaluated
  // the plain way.
  std::string discriminator;
  std::vector<std::pair<std::string, int>> discriminator_map;
};

struct CompiledSchema {
  std::vector<Node> nodes;  // nodes[0] is the root.
};

// Parses and compiles `schema_json`. Fails with InvalidArgument on malformed JSON, keywords of
// the wrong shape, invalid regular expressions, $refs that are not local JSON pointers or do not
// resolve, and $ref/applicator cycles that would recurse without consuming the instance.
absl::StatusOr<CompiledSchema> CompileSchema(std::string_view schema_json);

}  // namespace connectors::schema::internal
