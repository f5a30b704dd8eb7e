// Fluent builder for the JSON Schemas (draft 2020-12 style) that connectors declare for their
// endpoint and resource configs, following Flow's config-schema conventions:
//   * properties keep their declaration order and `required` is an explicit list;
//   * nested objects get `additionalProperties: false` unless told otherwise, while the schema
//     that ToJson() is called on (the root) leaves it unset: sops adds a root `sops` key;
//   * booleans always carry a `default` (the builder writes `false` when none was given);
//   * nothing is ever emitted as $ref/$defs: the UI form generator needs everything inline.
//
//   Schema config = Object("Hello World", "Emits greetings.")
//       .Property("greeting", String("Greeting", "Text of each
//       message.").Default("Hello").Order(0)) .Property("password", String("Password", "Your
//       password.").Secret().Order(1)) .Required({"password"});
//   std::string text = config.ToJson();
//
// A Schema is a value: copying it copies the whole tree, so a sub-schema can be reused. Setters
// return *this for chaining; schemas are small and built once at startup, so the copies made
// when chaining on temporaries do not matter. A moved-from Schema may only be assigned or
// destroyed.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "libs/json/writer.h"

namespace connectors::schema {

namespace internal {
struct SchemaRep;
struct SchemaAccess;
}  // namespace internal

// Any arithmetic type except bool (bool has its own overloads, so that `Default(1)` never
// silently means `true`).
template <typename T>
concept NumberLike = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// A JSON number given to the builder. Integers stay exact; floating values are written in the
// shortest form that reads back to the same double.
class Numeric {
 public:
  template <NumberLike T>
  Numeric(T value) {  // NOLINT(google-explicit-constructor): lets callers write Minimum(0).
    if constexpr (std::is_floating_point_v<T>) {
      value_ = static_cast<double>(value);
    } else if constexpr (std::is_signed_v<T>) {
      value_ = static_cast<int64_t>(value);
    } else {
      value_ = static_cast<uint64_t>(value);
    }
  }

  void Write(json::Writer& writer) const;

 private:
  std::variant<int64_t, uint64_t, double> value_;
};

class Schema {
 public:
  enum class Kind { kObject, kString, kInteger, kNumber, kBoolean, kArray, kOneOf };

  explicit Schema(Kind kind);
  Schema(const Schema& other);
  Schema& operator=(const Schema& other);
  Schema(Schema&& other) noexcept;
  Schema& operator=(Schema&& other) noexcept;
  ~Schema();

  Kind kind() const;

  // --- Annotations, valid on every kind. Empty title/description are omitted. ---
  Schema& Title(std::string_view title);
  Schema& Description(std::string_view description);
  // `default`, typed or as already-encoded JSON text (e.g. `{"a":1}`), inserted verbatim.
  Schema& Default(bool value);
  Schema& Default(std::string_view value);
  Schema& Default(const char* value) { return Default(std::string_view(value)); }
  template <NumberLike T>
  Schema& Default(T value) {
    return DefaultNumber(Numeric(value));
  }
  Schema& DefaultNumber(Numeric value);
  Schema& DefaultJson(std::string_view json_value);
  // Appends one entry to `examples`.
  Schema& Example(std::string_view value);
  Schema& ExampleJson(std::string_view json_value);
  // Integer display order in the UI form.
  Schema& Order(int64_t order);
  // Flags are written only when true.
  Schema& Secret(bool on = true);
  Schema& Advanced(bool on = true);
  Schema& Multiline(bool on = true);
  Schema& Nonsensitive(bool on = true);
  // Extension keywords; `key` must start with "x-" (see Lint). Setting a key twice replaces its
  // value in place.
  Schema& Extension(std::string_view key, bool value);
  Schema& ExtensionJson(std::string_view key, std::string_view json_value);
  // Shorthands for the resource-config markers: x-collection-name, x-schema-name,
  // x-delta-updates.
  Schema& CollectionName() { return Extension("x-collection-name", true); }
  Schema& SchemaName() { return Extension("x-schema-name", true); }
  Schema& DeltaUpdates() { return Extension("x-delta-updates", true); }
  // Renders `type` as ["null", <type>].
  Schema& Nullable(bool on = true);

  // --- String keywords. ---
  Schema& Format(std::string_view format);
  Schema& Pattern(std::string_view ecma_regex);
  Schema& Enum(std::vector<std::string> values);
  Schema& Const(std::string_view value);
  Schema& MinLength(uint64_t length);
  Schema& MaxLength(uint64_t length);

  // --- Integer and number keywords. Exclusive bounds use the 2020-12 numeric form. ---
  Schema& Minimum(Numeric value);
  Schema& Maximum(Numeric value);
  Schema& ExclusiveMinimum(Numeric value);
  Schema& ExclusiveMaximum(Numeric value);

  // --- Array keywords. ---
  Schema& Items(Schema items);
  Schema& MinItems(uint64_t count);
  Schema& MaxItems(uint64_t count);
  Schema& UniqueItems(bool on = true);

  // --- Object keywords. ---
  // Appends a property; a property of the same name is replaced in place.
  Schema& Property(std::string_view name, Schema schema);
  // Appends names to `required` (duplicates are skipped).
  Schema& Required(const std::vector<std::string>& names);
  // Overrides the default (unset at the root, false on nested objects).
  Schema& AdditionalProperties(bool allowed);

  // Compact JSON text. The receiver is the root: it gets "$schema" and keeps
  // additionalProperties unset unless set explicitly. Keys are always written in this order
  // (absent ones skipped), so the text is stable for snapshot tests:
  //   $schema title description type format const enum pattern minLength maxLength
  //   minimum exclusiveMinimum maximum exclusiveMaximum items minItems maxItems uniqueItems
  //   properties required additionalProperties discriminator oneOf default examples order
  //   secret advanced multiline nonsensitive x-* (in the order they were set).
  std::string ToJson() const;

  // Checks the declaration for mistakes the renderer cannot catch: raw JSON fragments that do
  // not parse, extension keys without "x-", required names that are not properties, secret or
  // multiline on non-strings, and oneOf options with duplicate values or a default that is not
  // one of them. Connectors call it from a unit test.
  absl::Status Lint() const;

 private:
  friend struct internal::SchemaAccess;
  std::unique_ptr<internal::SchemaRep> rep_;
};

// Factories. Title and description are optional and omitted when empty.
Schema Object(std::string_view title = {}, std::string_view description = {});
Schema String(std::string_view title = {}, std::string_view description = {});
Schema Integer(std::string_view title = {}, std::string_view description = {});
Schema Number(std::string_view title = {}, std::string_view description = {});
Schema Boolean(std::string_view title = {}, std::string_view description = {});
Schema Array(std::string_view title, std::string_view description, Schema items);

// One branch of a OneOf.
struct Option {
  std::string title;                 // Becomes the branch's title.
  std::string value;                 // Discriminator value selecting this branch.
  Schema schema;                     // An Object() with the branch's own properties.
  std::string oauth2_provider = {};  // When set, the branch carries x-oauth2-provider.
};

// A choice between object shapes, in the form Flow's UI expects: `type: object`, title,
// description, `default: {<discriminator>: <default_option>}`,
// `discriminator: {propertyName: <discriminator>}` and `oneOf` with one full object schema per
// option. Each branch gets the discriminator injected as its FIRST property (type string,
// `const` and `default` equal to the option value, `order: 0`, and `nonsensitive: true` unless
// the discriminator is "auth_type"), and the discriminator is prepended to its `required`.
Schema OneOf(std::string_view title, std::string_view description, std::string_view discriminator,
             std::string_view default_option, std::vector<Option> options);

}  // namespace connectors::schema
