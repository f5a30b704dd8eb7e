// GCC 12 at -O1 (the asan config) warns about std::function copies deep inside libstdc++'s
// regex compiler (a known false positive); it fires where std::regex is instantiated, here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "libs/schema-gen/compile.h"

#include <simdjson.h>

#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/base/strings.h"
#include "libs/json/pointer.h"
#include "libs/schema-gen/json_text.h"

namespace connectors::schema::internal {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// libstdc++'s default regex executor backtracks recursively, one stack frame per input
// character: a long certificate checked against a pattern overflows the stack, and patterns like
// (a*)*b take exponential time. Its documented `__polynomial` extension selects the breadth-first
// executor instead (bounded stack, polynomial time) at the price of back-references.
#if defined(__GLIBCXX__)
constexpr std::regex::flag_type kRegexFlags =
    std::regex::ECMAScript | std::regex_constants::__polynomial;
#else
constexpr std::regex::flag_type kRegexFlags = std::regex::ECMAScript;
#endif

absl::Status Invalid(std::string_view pointer, std::string_view what) {
  return absl::InvalidArgumentError(
      StrCat("invalid schema at ", pointer.empty() ? "(root)" : pointer, ": ", what));
}

std::optional<element> Get(object schema, std::string_view keyword) {
  element value;
  if (schema.at_key(keyword).get(value) != SUCCESS) return std::nullopt;
  return value;
}

// Writes a non-negative integer keyword (minLength, maxItems, ...) into `out` when present.
absl::Status ReadCount(object schema, std::string_view keyword, const std::string& pointer,
                       std::optional<uint64_t>* out) {
  const std::optional<element> value = Get(schema, keyword);
  if (!value) return absl::OkStatus();
  if (!IsIntegral(*value) || NumberValue(*value) < 0) {
    return Invalid(pointer, StrCat("\"", keyword, "\" must be a non-negative integer"));
  }
  // Clamped: converting an out-of-range floating value to an integer is undefined.
  const long double count = NumberValue(*value);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  *out = count >= static_cast<long double>(kMax) ? kMax : static_cast<uint64_t>(count);
  return absl::OkStatus();
}

absl::Status ReadString(object schema, std::string_view keyword, const std::string& pointer,
                        std::optional<std::string_view>* out) {
  const std::optional<element> value = Get(schema, keyword);
  if (!value) return absl::OkStatus();
  std::string_view text;
  if (value->get_string().get(text) != SUCCESS) {
    return Invalid(pointer, StrCat("\"", keyword, "\" must be a string"));
  }
  *out = text;
  return absl::OkStatus();
}

std::optional<uint8_t> TypeBitFor(std::string_view name) {
  if (name == "null") return kNullBit;
  if (name == "boolean") return kBooleanBit;
  if (name == "integer") return kIntegerBit;
  if (name == "number") return kNumberBit;
  if (name == "string") return kStringBit;
  if (name == "array") return kArrayBit;
  if (name == "object") return kObjectBit;
  return std::nullopt;
}

// Same-document refs only: "#" or "#/json/pointer", percent-decoded as URI fragments are.
absl::StatusOr<std::string> RefToPointer(std::string_view ref, const std::string& at) {
  const auto unsupported = [&] {
    return Invalid(at, StrCat("$ref \"", ref,
                              "\" is not supported: only \"#\" and \"#/...\" pointers "
                              "into the same document are"));
  };
  if (ref.empty() || ref[0] != '#') return unsupported();
  std::string pointer;
  for (size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] != '%') {
      pointer.push_back(ref[i]);
      continue;
    }
    int byte = 0;
    if (i + 2 >= ref.size() || !absl::SimpleHexAtoi(ToAbsl(ref.substr(i + 1, 2)), &byte)) {
      return unsupported();
    }
    pointer.push_back(static_cast<char>(byte));
    i += 2;
  }
  if (!pointer.empty() && pointer[0] != '/') return unsupported();
  return pointer;
}

// Schemas the validator applies at the same instance location as `node`. A cycle among these
// would recurse forever, since no property or item is consumed on the way round.
std::vector<int> SameLocationChildren(const Node& node) {
  std::vector<int> children = {node.ref, node.not_schema, node.if_schema, node.then_schema,
                               node.else_schema};
  for (const auto* list : {&node.all_of, &node.any_of, &node.one_of}) {
    children.insert(children.end(), list->begin(), list->end());
  }
  std::erase(children, -1);
  return children;
}

class Compiler {
 public:
  explicit Compiler(element root) : root_(root) {}

  absl::StatusOr<CompiledSchema> Run() {
    if (absl::StatusOr<int> root = Compile(root_, ""); !root.ok()) return root.status();
    if (absl::Status s = ResolveRefs(); !s.ok()) return s;
    if (absl::Status s = BuildDiscriminatorMaps(); !s.ok()) return s;
    if (absl::Status s = CheckCycles(); !s.ok()) return s;
    return CompiledSchema{std::move(nodes_)};
  }

 private:
  // Compiles into a local Node and stores it at the end: recursive calls grow `nodes_`, so no
  // reference into it may be held across them.
  absl::StatusOr<int> Compile(element schema, const std::string& pointer) {
    const int index = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    by_pointer_.emplace(pointer, index);
    Node node;
    node.pointer = pointer;
    bool accept = true;
    if (schema.get_bool().get(accept) == SUCCESS) {
      node.reject_all = !accept;
    } else if (object keywords; schema.get_object().get(keywords) == SUCCESS) {
      if (absl::Status s = Fill(keywords, index, node); !s.ok()) return s;
    } else {
      return Invalid(pointer, "a schema must be an object or a boolean");
    }
    nodes_[index] = std::move(node);
    return index;
  }

  absl::Status Fill(object keywords, int index, Node& node) {
    for (auto parse : {&Compiler::ParseType, &Compiler::ParseValues, &Compiler::ParseString,
                       &Compiler::ParseNumber, &Compiler::ParseArray, &Compiler::ParseObject,
                       &Compiler::ParseApplicators, &Compiler::ParseAnnotations}) {
      if (absl::Status s = (this->*parse)(keywords, node); !s.ok()) return s;
    }
    return ParseRef(keywords, index, node);
  }

  absl::StatusOr<int> CompileChild(element schema, const Node& parent, std::string_view suffix) {
    return Compile(schema, StrCat(parent.pointer, suffix));
  }

  // Compiles `keyword` (a single schema) into `*out` when present.
  absl::Status ParseSubschema(object keywords, std::string_view keyword, const Node& node,
                              int* out) {
    const std::optional<element> value = Get(keywords, keyword);
    if (!value) return absl::OkStatus();
    absl::StatusOr<int> child = CompileChild(*value, node, StrCat("/", keyword));
    if (!child.ok()) return child.status();
    *out = *child;
    return absl::OkStatus();
  }

  // Compiles `keyword` (a non-empty array of schemas) into `*out` when present.
  absl::Status ParseSubschemaList(object keywords, std::string_view keyword, const Node& node,
                                  std::vector<int>* out) {
    const std::optional<element> value = Get(keywords, keyword);
    if (!value) return absl::OkStatus();
    array list;
    if (value->get_array().get(list) != SUCCESS || list.size() == 0) {
      return Invalid(node.pointer, StrCat("\"", keyword, "\" must be a non-empty array"));
    }
    for (element item : list) {
      absl::StatusOr<int> child = CompileChild(item, node, StrCat("/", keyword, "/", out->size()));
      if (!child.ok()) return child.status();
      out->push_back(*child);
    }
    return absl::OkStatus();
  }

  absl::Status AddTypeName(std::string_view name, Node& node) {
    const std::optional<uint8_t> bit = TypeBitFor(name);
    if (!bit) return Invalid(node.pointer, StrCat("unknown type \"", name, "\""));
    node.types |= *bit;
    node.type_names.emplace_back(name);
    return absl::OkStatus();
  }

  absl::Status ParseType(object keywords, Node& node) {
    const std::optional<element> value = Get(keywords, "type");
    if (!value) return absl::OkStatus();
    std::string_view name;
    if (value->get_string().get(name) == SUCCESS) return AddTypeName(name, node);
    array names;
    if (value->get_array().get(names) != SUCCESS) {
      return Invalid(node.pointer, "\"type\" must be a string or an array of strings");
    }
    for (element item : names) {
      if (item.get_string().get(name) != SUCCESS) {
        return Invalid(node.pointer, "\"type\" must be a string or an array of strings");
      }
      if (absl::Status s = AddTypeName(name, node); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ParseValues(object keywords, Node& node) {
    if (std::optional<element> value = Get(keywords, "const")) node.const_value = Canonical(*value);
    const std::optional<element> values = Get(keywords, "enum");
    if (!values) return absl::OkStatus();
    array list;
    if (values->get_array().get(list) != SUCCESS) {
      return Invalid(node.pointer, "\"enum\" must be an array");
    }
    node.has_enum = true;
    for (element item : list) node.enum_values.push_back(Canonical(item));
    return absl::OkStatus();
  }

  absl::Status ParseString(object keywords, Node& node) {
    const std::string& at = node.pointer;
    if (absl::Status s = ReadCount(keywords, "minLength", at, &node.min_length); !s.ok()) return s;
    if (absl::Status s = ReadCount(keywords, "maxLength", at, &node.max_length); !s.ok()) return s;
    std::optional<std::string_view> format, pattern;
    if (absl::Status s = ReadString(keywords, "format", at, &format); !s.ok()) return s;
    if (format) node.format = ParseFormat(*format);
    if (absl::Status s = ReadString(keywords, "pattern", at, &pattern); !s.ok()) return s;
    return pattern ? CompilePattern(*pattern, node) : absl::OkStatus();
  }

  // std::regex reports bad syntax by throwing; it is caught here so nothing escapes the API.
  static absl::Status CompilePattern(std::string_view source, Node& node) {
    try {
      node.pattern =
          Pattern{std::string(source), std::regex(source.begin(), source.end(), kRegexFlags)};
    } catch (const std::regex_error& e) {
      if (e.code() == std::regex_constants::error_complexity) {
        return Invalid(node.pointer, StrCat("regular expression \"", source,
                                            "\" uses back-references, which are not supported"));
      }
      return Invalid(node.pointer,
                     StrCat("invalid regular expression \"", source, "\": ", e.what()));
    }
    return absl::OkStatus();
  }

  // Also accepts draft-04 style, where exclusiveMinimum/Maximum are booleans that modify
  // minimum/maximum; older hand-written schemas still use it.
  absl::Status ParseNumber(object keywords, Node& node) {
    const auto flag = [&](std::string_view keyword) {
      const std::optional<element> value = Get(keywords, keyword);
      bool set = false;
      return value && value->get_bool().get(set) == SUCCESS && set;
    };
    const bool draft4_min = flag("exclusiveMinimum"), draft4_max = flag("exclusiveMaximum");
    struct Keyword {
      std::string_view name;
      bool exclusive;
      bool lower;
    };
    const Keyword bound_keywords[] = {{"minimum", draft4_min, true},
                                      {"exclusiveMinimum", true, true},
                                      {"maximum", draft4_max, false},
                                      {"exclusiveMaximum", true, false}};
    for (const auto& [keyword, exclusive, lower] : bound_keywords) {
      const std::optional<element> value = Get(keywords, keyword);
      if (!value || value->is<bool>()) continue;
      if (!IsNumber(*value)) {
        return Invalid(node.pointer, StrCat("\"", keyword, "\" must be a number"));
      }
      Bound bound{NumberValue(*value), Canonical(*value), exclusive};
      (lower ? node.lower_bounds : node.upper_bounds).push_back(std::move(bound));
    }
    return absl::OkStatus();
  }

  absl::Status ParseArray(object keywords, Node& node) {
    const std::string& at = node.pointer;
    if (std::optional<element> items = Get(keywords, "items"); items && items->is<array>()) {
      return Invalid(at, "array-form \"items\" (tuple validation) is not supported");
    }
    if (absl::Status s = ParseSubschema(keywords, "items", node, &node.items); !s.ok()) return s;
    if (absl::Status s = ReadCount(keywords, "minItems", at, &node.min_items); !s.ok()) return s;
    if (absl::Status s = ReadCount(keywords, "maxItems", at, &node.max_items); !s.ok()) return s;
    if (std::optional<element> unique = Get(keywords, "uniqueItems")) {
      if (unique->get_bool().get(node.unique_items) != SUCCESS) {
        return Invalid(at, "\"uniqueItems\" must be a boolean");
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseObject(object keywords, Node& node) {
    if (absl::Status s = ParseProperties(keywords, node); !s.ok()) return s;
    if (absl::Status s = ParseRequired(keywords, node); !s.ok()) return s;
    return ParseSubschema(keywords, "additionalProperties", node, &node.additional);
  }

  absl::Status ParseProperties(object keywords, Node& node) {
    const std::optional<element> value = Get(keywords, "properties");
    if (!value) return absl::OkStatus();
    object properties;
    if (value->get_object().get(properties) != SUCCESS) {
      return Invalid(node.pointer, "\"properties\" must be an object");
    }
    for (auto [name, schema] : properties) {
      absl::StatusOr<int> child =
          CompileChild(schema, node, StrCat("/properties/", json::EscapeToken(name)));
      if (!child.ok()) return child.status();
      node.properties.emplace_back(std::string(name), *child);
    }
    return absl::OkStatus();
  }

  absl::Status ParseRequired(object keywords, Node& node) {
    const std::optional<element> value = Get(keywords, "required");
    if (!value) return absl::OkStatus();
    array names;
    if (value->get_array().get(names) != SUCCESS) {
      return Invalid(node.pointer, "\"required\" must be an array of strings");
    }
    for (element item : names) {
      std::string_view name;
      if (item.get_string().get(name) != SUCCESS) {
        return Invalid(node.pointer, "\"required\" must be an array of strings");
      }
      node.required.emplace_back(name);
    }
    return absl::OkStatus();
  }

  absl::Status ParseApplicators(object keywords, Node& node) {
    const std::pair<std::string_view, std::vector<int>*> list_keywords[] = {
        {"allOf", &node.all_of}, {"anyOf", &node.any_of}, {"oneOf", &node.one_of}};
    for (const auto& [keyword, out] : list_keywords) {
      if (absl::Status s = ParseSubschemaList(keywords, keyword, node, out); !s.ok()) return s;
    }
    const std::pair<std::string_view, int*> single_keywords[] = {{"not", &node.not_schema},
                                                                 {"if", &node.if_schema},
                                                                 {"then", &node.then_schema},
                                                                 {"else", &node.else_schema}};
    for (const auto& [keyword, out] : single_keywords) {
      if (absl::Status s = ParseSubschema(keywords, keyword, node, out); !s.ok()) return s;
    }
    return ParseDiscriminator(keywords, node);
  }

  absl::Status ParseDiscriminator(object keywords, Node& node) {
    const std::optional<element> value = Get(keywords, "discriminator");
    if (!value) return absl::OkStatus();
    object discriminator;
    std::string_view name;
    if (value->get_object().get(discriminator) != SUCCESS ||
        discriminator["propertyName"].get(name) != SUCCESS) {
      return Invalid(node.pointer, "\"discriminator\" must be an object with a \"propertyName\"");
    }
    node.discriminator = name;
    return absl::OkStatus();
  }

  // A string "true" counts too: masking a value by mistake is harmless, leaking one is not.
  absl::Status ParseAnnotations(object keywords, Node& node) {
    for (std::string_view keyword : {"secret", "airbyte_secret"}) {
      const std::optional<element> value = Get(keywords, keyword);
      bool flag = false;
      std::string_view text;
      if (value && ((value->get_bool().get(flag) == SUCCESS && flag) ||
                    (value->get_string().get(text) == SUCCESS && text == "true"))) {
        node.secret = true;
      }
    }
    return absl::OkStatus();
  }

  // Targets are resolved after the whole document is compiled (see ResolveRefs), which is what
  // lets a definition refer to itself.
  absl::Status ParseRef(object keywords, int index, Node& node) {
    std::optional<std::string_view> ref;
    if (absl::Status s = ReadString(keywords, "$ref", node.pointer, &ref); !s.ok()) return s;
    if (!ref) return absl::OkStatus();
    absl::StatusOr<std::string> pointer = RefToPointer(*ref, node.pointer);
    if (!pointer.ok()) return pointer.status();
    pending_refs_.emplace_back(index, *std::move(pointer));
    return absl::OkStatus();
  }

  absl::Status ResolveRefs() {
    while (!pending_refs_.empty()) {
      auto [index, target] = std::move(pending_refs_.back());
      pending_refs_.pop_back();
      absl::StatusOr<int> resolved = Resolve(target, std::string(nodes_[index].pointer));
      if (!resolved.ok()) return resolved.status();
      nodes_[index].ref = *resolved;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Resolve(const std::string& target, const std::string& from) {
    if (auto it = by_pointer_.find(target); it != by_pointer_.end()) return it->second;
    element schema;
    if (root_.at_pointer(target).get(schema) != SUCCESS) {
      return Invalid(from, StrCat("$ref \"#", target, "\" does not resolve"));
    }
    return Compile(schema, target);
  }

  // The discriminator value a oneOf branch stands for: the `const` (or single `enum` value) of
  // its discriminator property, looking through $ref and allOf.
  std::optional<std::string> DiscriminatorValue(int index, std::string_view property,
                                                int depth) const {
    if (index < 0 || depth > 16) return std::nullopt;
    const Node& node = nodes_[index];
    for (const auto& [name, child] : node.properties) {
      if (name != property) continue;
      const Node& value = nodes_[child];
      if (value.const_value) return value.const_value;
      if (value.enum_values.size() == 1) return value.enum_values.front();
      return std::nullopt;
    }
    if (auto found = DiscriminatorValue(node.ref, property, depth + 1)) return found;
    for (int part : node.all_of) {
      if (auto found = DiscriminatorValue(part, property, depth + 1)) return found;
    }
    return std::nullopt;
  }

  absl::Status BuildDiscriminatorMaps() {
    for (Node& node : nodes_) {
      if (node.discriminator.empty() || node.one_of.empty()) continue;
      std::vector<std::pair<std::string, int>> map;
      for (size_t branch = 0; branch < node.one_of.size(); ++branch) {
        std::optional<std::string> value =
            DiscriminatorValue(node.one_of[branch], node.discriminator, 0);
        // Lenient on purpose: without a value per branch, oneOf still works the plain way.
        if (!value) break;
        for (const auto& [existing, other] : map) {
          if (existing == *value) {
            return Invalid(node.pointer, StrCat("oneOf branches ", other, " and ", branch,
                                                " share discriminator value ", *value));
          }
        }
        map.emplace_back(*std::move(value), static_cast<int>(branch));
      }
      if (map.size() == node.one_of.size()) node.discriminator_map = std::move(map);
    }
    return absl::OkStatus();
  }

  absl::Status CheckCycles() const {
    std::vector<uint8_t> state(nodes_.size(), kUnvisited);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (state[i] != kUnvisited) continue;
      if (absl::Status s = Visit(static_cast<int>(i), state); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Visit(int index, std::vector<uint8_t>& state) const {
    state[index] = kOnPath;
    for (int next : SameLocationChildren(nodes_[index])) {
      if (state[next] == kOnPath) {
        return Invalid(nodes_[index].pointer,
                       "$ref cycle: the schema refers back to itself without descending into a "
                       "property or item");
      }
      if (state[next] != kUnvisited) continue;
      if (absl::Status s = Visit(next, state); !s.ok()) return s;
    }
    state[index] = kDone;
    return absl::OkStatus();
  }

  static constexpr uint8_t kUnvisited = 0, kOnPath = 1, kDone = 2;

  element root_;
  std::vector<Node> nodes_;
  absl::flat_hash_map<std::string, int> by_pointer_;
  std::vector<std::pair<int, std::string>> pending_refs_;  // (node, target pointer)
};

}  // namespace

absl::StatusOr<CompiledSchema> CompileSchema(std::string_view schema_json) {
  simdjson::dom::parser parser;
  element root;
  if (simdjson::error_code error = ParseJson(parser, schema_json, &root); error != SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat("schema is not valid JSON: ", simdjson::error_message(error)));
  }
  return Compiler(root).Run();
}

}  // namespace connectors::schema::internal
