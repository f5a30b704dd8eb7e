#include "libs/schema-gen/validator.h"

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/strings.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"
#include "libs/schema-gen/compile.h"
#include "libs/schema-gen/formats.h"
#include "libs/schema-gen/json_text.h"

namespace connectors::schema {
namespace {

using internal::Bound;
using internal::CompiledSchema;
using internal::Node;
using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::element_type;
using Errors = std::vector<Error>;

// "1 item", "3 items".
std::string Count(uint64_t n, std::string_view noun) {
  return StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// A property name from the instance, quoted and cut short: it is user input too.
std::string QuotedName(std::string_view name) {
  std::string quoted;
  json::AppendQuoted(name, &quoted);
  return internal::Truncate(quoted);
}

bool TypeMatches(uint8_t types, element value) {
  if (types == 0) return true;
  switch (value.type()) {
    case element_type::OBJECT:
      return types & internal::kObjectBit;
    case element_type::ARRAY:
      return types & internal::kArrayBit;
    case element_type::STRING:
      return types & internal::kStringBit;
    case element_type::BOOL:
      return types & internal::kBooleanBit;
    case element_type::NULL_VALUE:
      return types & internal::kNullBit;
    default:
      return (types & internal::kNumberBit) ||
             ((types & internal::kIntegerBit) && internal::IsIntegral(value));
  }
}

bool WithinBound(long double n, const Bound& bound, bool lower) {
  if (lower) return bound.exclusive ? n > bound.value : n >= bound.value;
  return bound.exclusive ? n < bound.value : n <= bound.value;
}

// Appends a JSON-pointer segment to a path for the lifetime of the scope.
class PathScope {
 public:
  PathScope(std::string* path, std::string_view token) : path_(path), size_(path->size()) {
    path_->push_back('/');
    path_->append(json::EscapeToken(token));
  }
  ~PathScope() { path_->resize(size_); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  std::string* path_;
  size_t size_;
};

// One walk of an instance against a compiled schema. `secret` is true below any schema marked
// secret; it only ever turns on, so a secret object masks everything inside it.
class Evaluation {
 public:
  explicit Evaluation(const CompiledSchema& schema) : nodes_(schema.nodes) {}

  void Visit(int index, element value, bool secret, Errors* errors) {
    const Node& node = nodes_[index];
    secret = secret || node.secret;
    if (node.reject_all) return Fail(errors, "no value is allowed here");
    if (!TypeMatches(node.types, value)) {
      return Fail(errors, StrCat("expected ", absl::StrJoin(node.type_names, " or "), ", got ",
                                 internal::TypeName(value)));
    }
    CheckValue(node, value, secret, errors);
    switch (value.type()) {
      case element_type::STRING:
        CheckString(node, value, secret, errors);
        break;
      case element_type::ARRAY:
        CheckArray(node, value, secret, errors);
        break;
      case element_type::OBJECT:
        CheckObject(node, value, secret, errors);
        break;
      case element_type::BOOL:
      case element_type::NULL_VALUE:
        break;
      default:
        CheckNumber(node, value, secret, errors);
    }
    CheckApplicators(node, value, secret, errors);
  }

 private:
  void Fail(Errors* errors, std::string message) {
    errors->push_back(Error{path_, std::move(message)});
  }

  // ", got <value>", or nothing at a secret location.
  static std::string Got(element value, bool secret) {
    return secret ? "" : StrCat(", got ", internal::Truncate(internal::Canonical(value)));
  }

  bool Passes(int index, element value, bool secret) {
    Errors ignored;
    Visit(index, value, secret, &ignored);
    return ignored.empty();
  }

  static std::string ValueList(const std::vector<std::string>& canonical_values) {
    std::vector<std::string> shown;
    for (const std::string& value : canonical_values) shown.push_back(internal::Truncate(value));
    return StrCat("[", absl::StrJoin(shown, ","), "]");
  }

  void CheckValue(const Node& node, element value, bool secret, Errors* errors) {
    if (!node.const_value && !node.has_enum) return;
    const std::string canonical = internal::Canonical(value);
    if (node.const_value && canonical != *node.const_value) {
      Fail(errors,
           StrCat("must equal ", internal::Truncate(*node.const_value), Got(value, secret)));
    }
    if (node.has_enum && std::find(node.enum_values.begin(), node.enum_values.end(), canonical) ==
                             node.enum_values.end()) {
      Fail(errors, StrCat("must be one of ", ValueList(node.enum_values), Got(value, secret)));
    }
  }

  void CheckString(const Node& node, element value, bool secret, Errors* errors) {
    const std::string_view text = value.get_string().value_unsafe();
    CheckLength(node, internal::CodePoints(text), secret, errors);
    if (node.pattern) CheckPattern(*node.pattern, value, secret, errors);
    if (!internal::MatchesFormat(node.format, text)) {
      Fail(errors,
           StrCat("must be ", internal::FormatExpectation(node.format), Got(value, secret)));
    }
  }

  // Even a length says something about a secret, so it is masked too.
  void CheckLength(const Node& node, size_t length, bool secret, Errors* errors) {
    const std::string got = secret ? "" : StrCat(", got ", length);
    if (node.min_length && length < *node.min_length) {
      Fail(errors, StrCat("must have at least ", Count(*node.min_length, "character"), got));
    }
    if (node.max_length && length > *node.max_length) {
      Fail(errors, StrCat("must have at most ", Count(*node.max_length, "character"), got));
    }
  }

  // libstdc++ reports regex resource exhaustion by throwing; it becomes an ordinary error.
  void CheckPattern(const internal::Pattern& pattern, element value, bool secret, Errors* errors) {
    const std::string_view text = value.get_string().value_unsafe();
    bool matched = false;
    try {
      matched = std::regex_search(text.begin(), text.end(), pattern.regex);
    } catch (const std::regex_error&) {
      return Fail(errors,
                  StrCat("could not be checked against pattern ", QuotedName(pattern.source)));
    }
    if (!matched) {
      Fail(errors, StrCat("must match pattern ", QuotedName(pattern.source), Got(value, secret)));
    }
  }

  void CheckNumber(const Node& node, element value, bool secret, Errors* errors) {
    const long double n = internal::NumberValue(value);
    for (const Bound& bound : node.lower_bounds) {
      if (WithinBound(n, bound, /*lower=*/true)) continue;
      Fail(errors,
           StrCat("must be ", bound.exclusive ? ">" : ">=", " ", bound.text, Got(value, secret)));
    }
    for (const Bound& bound : node.upper_bounds) {
      if (WithinBound(n, bound, /*lower=*/false)) continue;
      Fail(errors,
           StrCat("must be ", bound.exclusive ? "<" : "<=", " ", bound.text, Got(value, secret)));
    }
  }

  void CheckArray(const Node& node, element value, bool secret, Errors* errors) {
    const simdjson::dom::array items = value.get_array().value_unsafe();
    const size_t count = items.size();
    if (node.min_items && count < *node.min_items) {
      Fail(errors, StrCat("must have at least ", Count(*node.min_items, "item"), ", got ", count));
    }
    if (node.max_items && count > *node.max_items) {
      Fail(errors, StrCat("must have at most ", Count(*node.max_items, "item"), ", got ", count));
    }
    if (node.unique_items) CheckUnique(items, errors);
    if (node.items < 0) return;
    size_t index = 0;
    for (element item : items) {
      PathScope scope(&path_, std::to_string(index++));
      Visit(node.items, item, secret, errors);
    }
  }

  // Reports the first duplicate only; one is enough to act on.
  void CheckUnique(simdjson::dom::array items, Errors* errors) {
    absl::flat_hash_map<std::string, size_t> first_index;
    size_t index = 0;
    for (element item : items) {
      auto [it, inserted] = first_index.emplace(internal::Canonical(item), index);
      if (!inserted) {
        return Fail(errors, StrCat("must not contain duplicates, but items ", it->second, " and ",
                                   index, " are equal"));
      }
      ++index;
    }
  }

  void CheckObject(const Node& node, element value, bool secret, Errors* errors) {
    const simdjson::dom::object object = value.get_object().value_unsafe();
    element child;
    for (const std::string& name : node.required) {
      if (object.at_key(name).get(child) != SUCCESS) {
        Fail(errors, StrCat("missing required property ", QuotedName(name)));
      }
    }
    for (const auto& [name, index] : node.properties) {
      if (object.at_key(name).get(child) != SUCCESS) continue;
      PathScope scope(&path_, name);
      Visit(index, child, secret, errors);
    }
    if (node.additional >= 0) CheckAdditional(node, object, secret, errors);
  }

  void CheckAdditional(const Node& node, simdjson::dom::object object, bool secret,
                       Errors* errors) {
    for (auto [key, child] : object) {
      const bool declared = std::any_of(node.properties.begin(), node.properties.end(),
                                        [&](const auto& p) { return p.first == key; });
      if (declared) continue;
      if (nodes_[node.additional].reject_all) {
        Fail(errors, StrCat("unexpected property ", QuotedName(key)));
        continue;
      }
      PathScope scope(&path_, key);
      Visit(node.additional, child, secret, errors);
    }
  }

  void CheckApplicators(const Node& node, element value, bool secret, Errors* errors) {
    if (node.ref >= 0) Visit(node.ref, value, secret, errors);
    for (int part : node.all_of) Visit(part, value, secret, errors);
    if (!node.any_of.empty() &&
        std::none_of(node.any_of.begin(), node.any_of.end(),
                     [&](int option) { return Passes(option, value, secret); })) {
      Fail(errors, StrCat("must match at least one of the ", node.any_of.size(), " anyOf options"));
    }
    if (!node.one_of.empty()) CheckOneOf(node, value, secret, errors);
    if (node.not_schema >= 0 && Passes(node.not_schema, value, secret)) {
      Fail(errors, "must not match the \"not\" schema");
    }
    if (node.if_schema >= 0) {
      const int branch =
          Passes(node.if_schema, value, secret) ? node.then_schema : node.else_schema;
      if (branch >= 0) Visit(branch, value, secret, errors);
    }
  }

  void CheckOneOf(const Node& node, element value, bool secret, Errors* errors) {
    if (!node.discriminator_map.empty() && value.is<simdjson::dom::object>()) {
      return CheckDiscriminated(node, value, secret, errors);
    }
    std::vector<size_t> matched;
    for (size_t i = 0; i < node.one_of.size(); ++i) {
      if (Passes(node.one_of[i], value, secret)) matched.push_back(i);
    }
    if (matched.size() == 1) return;
    const std::string expected =
        StrCat("must match exactly one of the ", node.one_of.size(), " oneOf options");
    if (matched.empty()) return Fail(errors, StrCat(expected, ", but matches none"));
    Fail(errors, StrCat(expected, ", but matches options ", absl::StrJoin(matched, ", ")));
  }

  // The discriminator picks the branch, so the user sees that branch's errors rather than a
  // bare "matches none".
  void CheckDiscriminated(const Node& node, element value, bool secret, Errors* errors) {
    const simdjson::dom::object object = value.get_object().value_unsafe();
    std::vector<std::string> allowed;
    for (const auto& [tag_value, branch] : node.discriminator_map) allowed.push_back(tag_value);
    element tag;
    if (object.at_key(node.discriminator).get(tag) != SUCCESS) {
      return Fail(errors, StrCat("missing required property ", QuotedName(node.discriminator),
                                 " (one of ", ValueList(allowed), ")"));
    }
    const std::string canonical = internal::Canonical(tag);
    for (const auto& [tag_value, branch] : node.discriminator_map) {
      if (tag_value == canonical) return Visit(node.one_of[branch], value, secret, errors);
    }
    PathScope scope(&path_, node.discriminator);
    Fail(errors, StrCat("must be one of ", ValueList(allowed), Got(tag, secret)));
  }

  const std::vector<Node>& nodes_;
  std::string path_;  // JSON pointer of the value being checked.
};

}  // namespace

std::string Error::ToString() const {
  return StrCat(path.empty() ? "(root)" : path, ": ", message);
}

Validator::Validator(std::shared_ptr<const CompiledSchema> compiled)
    : compiled_(std::move(compiled)) {}

absl::StatusOr<Validator> Validator::Compile(std::string_view schema_json) {
  absl::StatusOr<CompiledSchema> compiled = internal::CompileSchema(schema_json);
  if (!compiled.ok()) return compiled.status();
  return Validator(std::make_shared<const CompiledSchema>(*std::move(compiled)));
}

std::vector<Error> Validator::Validate(std::string_view instance_json) const {
  simdjson::dom::parser parser;
  element root;
  if (simdjson::error_code error = internal::ParseJson(parser, instance_json, &root); error) {
    return {Error{"", StrCat("not valid JSON: ", simdjson::error_message(error))}};
  }
  Errors errors;
  Evaluation(*compiled_).Visit(0, root, /*secret=*/false, &errors);
  return errors;
}

absl::Status Validator::Check(std::string_view instance_json, std::string_view what) const {
  const std::vector<Error> errors = Validate(instance_json);
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat(
      what, " is invalid: ", absl::StrJoin(errors, "; ", [](std::string* out, const Error& error) {
        out->append(error.ToString());
      })));
}

}  // namespace connectors::schema
