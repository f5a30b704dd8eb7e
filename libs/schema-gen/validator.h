// Validates JSON documents against a JSON Schema. The connector runtime compiles each declared
// config schema once and checks every incoming endpoint/resource config before any connector
// logic runs, so that connectors can rely on the shape of what they parse.
//
// Supported keywords: type (string or list; "integer" is any number without a fractional
// part), properties, required, additionalProperties (bool or schema), enum, const, minimum,
// maximum, exclusiveMinimum, exclusiveMaximum (numbers, or draft-04 booleans), minLength and
// maxLength (in code points), pattern (std::regex ECMAScript, unanchored search), format
// (date-time, date, time, uri, email, duration; others are ignored), items (a schema),
// minItems, maxItems, uniqueItems, allOf, anyOf, oneOf (+ discriminator.propertyName), not,
// if/then/else, and $ref to "#" or "#/..." pointers in the same document (so #/$defs/x and
// #/definitions/x). Annotations (title, description, default, order, secret, x-*, ...) are
// not checked.
//
// Secrets: below a schema with `secret: true` (or `airbyte_secret`), messages never include
// the instance value. Elsewhere, echoed values are cut to about 64 bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::schema {

namespace internal {
struct CompiledSchema;
}  // namespace internal

// One problem with a document.
struct Error {
  std::string path;     // JSON pointer to the offending instance location; "" is the root.
  std::string message;  // e.g. `must be >= 0, got -5`.

  // "<path>: <message>", with the root written as "(root)".
  std::string ToString() const;
  bool operator==(const Error&) const = default;
};

// Immutable after Compile; copies share the compiled form, and Validate may be called from
// several threads at once.
class Validator {
 public:
  // Fails with InvalidArgument (naming the schema location) on malformed JSON, keywords of the
  // wrong shape, invalid regular expressions, $refs that are not same-document pointers or do
  // not resolve, and $ref cycles that never descend into the instance.
  static absl::StatusOr<Validator> Compile(std::string_view schema_json);

  // All problems in document order of the schema walk; empty when valid. Malformed JSON gives
  // a single root error starting with "not valid JSON".
  std::vector<Error> Validate(std::string_view instance_json) const;

  // OK, or InvalidArgument "<what> is invalid: <error>; <error>; ..." listing every problem.
  absl::Status Check(std::string_view instance_json, std::string_view what) const;

 private:
  explicit Validator(std::shared_ptr<const internal::CompiledSchema> compiled);

  std::shared_ptr<const internal::CompiledSchema> compiled_;
};

}  // namespace connectors::schema
