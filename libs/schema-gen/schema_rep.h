// Internal: the data behind a Schema, shared by the setters (schema.cc), the renderer
// (schema_render.cc) and Lint (schema_lint.cc). Not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libs/schema-gen/schema.h"

namespace connectors::schema::internal {

struct SchemaRep {
  explicit SchemaRep(Schema::Kind k) : kind(k) {}

  Schema::Kind kind;
  bool nullable = false;

  // Annotations. Empty strings mean "absent"; raw fields hold encoded JSON text.
  std::string title;
  std::string description;
  std::optional<std::string> default_json;
  std::vector<std::string> examples_json;
  std::optional<int64_t> order;
  bool secret = false;
  bool advanced = false;
  bool multiline = false;
  bool nonsensitive = false;
  std::vector<std::pair<std::string, std::string>> extensions;  // key, raw JSON

  // String.
  std::string format;
  std::string pattern;
  std::optional<std::string> const_value;
  std::vector<std::string> enum_values;
  std::optional<uint64_t> min_length;
  std::optional<uint64_t> max_length;

  // Integer and number.
  std::optional<Numeric> minimum;
  std::optional<Numeric> exclusive_minimum;
  std::optional<Numeric> maximum;
  std::optional<Numeric> exclusive_maximum;

  // Array. `items` holds zero or one schema (a vector because Schema has no empty state).
  std::vector<Schema> items;
  std::optional<uint64_t> min_items;
  std::optional<uint64_t> max_items;
  bool unique_items = false;

  // Object.
  std::vector<std::pair<std::string, Schema>> properties;
  std::vector<std::string> required;
  std::optional<bool> additional_properties;

  // OneOf.
  std::string discriminator;
  std::string default_option;
  std::vector<Schema> one_of;
};

// The one place that reaches into Schema's private representation.
struct SchemaAccess {
  static const SchemaRep& Rep(const Schema& schema) { return *schema.rep_; }
  static SchemaRep& Rep(Schema& schema) { return *schema.rep_; }
};

}  // namespace connectors::schema::internal
