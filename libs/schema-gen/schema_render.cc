// Schema::ToJson. Each Write* function emits one group of keywords, in the order documented at
// ToJson() in schema.h; changing that order changes every snapshot downstream.
#include <string>

#include "libs/json/writer.h"
#include "libs/schema-gen/schema.h"
#include "libs/schema-gen/schema_rep.h"

namespace connectors::schema {
namespace {

using internal::SchemaAccess;
using internal::SchemaRep;

constexpr std::string_view kDraft = "https://json-schema.org/draft/2020-12/schema";

void WriteSchema(const SchemaRep& rep, bool root, json::Writer& w);

std::string_view TypeName(Schema::Kind kind) {
  switch (kind) {
    case Schema::Kind::kString:
      return "string";
    case Schema::Kind::kInteger:
      return "integer";
    case Schema::Kind::kNumber:
      return "number";
    case Schema::Kind::kBoolean:
      return "boolean";
    case Schema::Kind::kArray:
      return "array";
    case Schema::Kind::kObject:
    case Schema::Kind::kOneOf:
      return "object";
  }
  return "object";
}

void WriteType(const SchemaRep& rep, json::Writer& w) {
  w.Key("type");
  if (rep.nullable) {
    w.BeginArray().String("null").String(TypeName(rep.kind)).EndArray();
  } else {
    w.String(TypeName(rep.kind));
  }
}

void WriteOptionalUint(std::string_view key, const std::optional<uint64_t>& value,
                       json::Writer& w) {
  if (value) w.Key(key).Uint(*value);
}

void WriteOptionalNumeric(std::string_view key, const std::optional<Numeric>& value,
                          json::Writer& w) {
  if (!value) return;
  w.Key(key);
  value->Write(w);
}

void WriteStringKeywords(const SchemaRep& rep, json::Writer& w) {
  if (!rep.format.empty()) w.Key("format").String(rep.format);
  if (rep.const_value) w.Key("const").String(*rep.const_value);
  if (!rep.enum_values.empty()) {
    w.Key("enum").BeginArray();
    for (const std::string& value : rep.enum_values) w.String(value);
    w.EndArray();
  }
  if (!rep.pattern.empty()) w.Key("pattern").String(rep.pattern);
  WriteOptionalUint("minLength", rep.min_length, w);
  WriteOptionalUint("maxLength", rep.max_length, w);
}

void WriteNumericKeywords(const SchemaRep& rep, json::Writer& w) {
  WriteOptionalNumeric("minimum", rep.minimum, w);
  WriteOptionalNumeric("exclusiveMinimum", rep.exclusive_minimum, w);
  WriteOptionalNumeric("maximum", rep.maximum, w);
  WriteOptionalNumeric("exclusiveMaximum", rep.exclusive_maximum, w);
}

void WriteArrayKeywords(const SchemaRep& rep, json::Writer& w) {
  if (!rep.items.empty()) {
    w.Key("items");
    WriteSchema(SchemaAccess::Rep(rep.items.front()), /*root=*/false, w);
  }
  WriteOptionalUint("minItems", rep.min_items, w);
  WriteOptionalUint("maxItems", rep.max_items, w);
  if (rep.unique_items) w.Key("uniqueItems").Bool(true);
}

// Nested objects are closed by default so typos in configs are caught; the root stays open.
void WriteObjectKeywords(const SchemaRep& rep, bool root, json::Writer& w) {
  if (!rep.properties.empty()) {
    w.Key("properties").BeginObject();
    for (const auto& [name, property] : rep.properties) {
      w.Key(name);
      WriteSchema(SchemaAccess::Rep(property), /*root=*/false, w);
    }
    w.EndObject();
  }
  if (!rep.required.empty()) {
    w.Key("required").BeginArray();
    for (const std::string& name : rep.required) w.String(name);
    w.EndArray();
  }
  if (rep.kind != Schema::Kind::kObject) return;
  if (rep.additional_properties) {
    w.Key("additionalProperties").Bool(*rep.additional_properties);
  } else if (!root) {
    w.Key("additionalProperties").Bool(false);
  }
}

void WriteOneOfKeywords(const SchemaRep& rep, json::Writer& w) {
  if (rep.kind != Schema::Kind::kOneOf) return;
  w.Key("discriminator").BeginObject().Key("propertyName").String(rep.discriminator).EndObject();
  w.Key("oneOf").BeginArray();
  for (const Schema& branch : rep.one_of) WriteSchema(SchemaAccess::Rep(branch), false, w);
  w.EndArray();
}

void WriteAnnotations(const SchemaRep& rep, json::Writer& w) {
  if (rep.default_json) {
    w.Key("default").Raw(*rep.default_json);
  } else if (rep.kind == Schema::Kind::kBoolean) {
    // Convention: a checkbox without a default is ambiguous between "unset" and false.
    w.Key("default").Bool(false);
  }
  if (!rep.examples_json.empty()) {
    w.Key("examples").BeginArray();
    for (const std::string& example : rep.examples_json) w.Raw(example);
    w.EndArray();
  }
  if (rep.order) w.Key("order").Int(*rep.order);
  if (rep.secret) w.Key("secret").Bool(true);
  if (rep.advanced) w.Key("advanced").Bool(true);
  if (rep.multiline) w.Key("multiline").Bool(true);
  if (rep.nonsensitive) w.Key("nonsensitive").Bool(true);
  for (const auto& [key, value] : rep.extensions) w.Key(key).Raw(value);
}

void WriteSchema(const SchemaRep& rep, bool root, json::Writer& w) {
  w.BeginObject();
  if (root) w.Key("$schema").String(kDraft);
  if (!rep.title.empty()) w.Key("title").String(rep.title);
  if (!rep.description.empty()) w.Key("description").String(rep.description);
  WriteType(rep, w);
  WriteStringKeywords(rep, w);
  WriteNumericKeywords(rep, w);
  WriteArrayKeywords(rep, w);
  WriteObjectKeywords(rep, root, w);
  WriteOneOfKeywords(rep, w);
  WriteAnnotations(rep, w);
  w.EndObject();
}

}  // namespace

std::string Schema::ToJson() const {
  std::string out;
  json::Writer writer(&out);
  WriteSchema(*rep_, /*root=*/true, writer);
  return out;
}

}  // namespace connectors::schema
