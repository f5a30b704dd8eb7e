// Schema::Lint: catches declaration mistakes that would otherwise surface only in the UI or
// the control plane. Locations in messages are JSON pointers into the rendered schema.
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/base/strings.h"
#include "libs/json/pointer.h"
#include "libs/schema-gen/json_text.h"
#include "libs/schema-gen/schema.h"
#include "libs/schema-gen/schema_rep.h"

namespace connectors::schema {
namespace {

using internal::SchemaAccess;
using internal::SchemaRep;

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

class Linter {
 public:
  absl::Status Run(const SchemaRep& root) {
    Visit(root, "");
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        StrCat("schema declaration is invalid: ", absl::StrJoin(problems_, "; ")));
  }

 private:
  void Visit(const SchemaRep& rep, const std::string& at) {
    CheckAnnotations(rep, at);
    CheckRequired(rep, at);
    if (rep.kind == Schema::Kind::kOneOf) CheckOneOf(rep, at);
    for (const auto& [name, property] : rep.properties) {
      Visit(SchemaAccess::Rep(property), StrCat(at, "/properties/", json::EscapeToken(name)));
    }
    for (const Schema& items : rep.items) Visit(SchemaAccess::Rep(items), at + "/items");
    for (size_t i = 0; i < rep.one_of.size(); ++i) {
      Visit(SchemaAccess::Rep(rep.one_of[i]), StrCat(at, "/oneOf/", i));
    }
  }

  void CheckAnnotations(const SchemaRep& rep, const std::string& at) {
    if (rep.default_json) CheckRawJson(at, "default", *rep.default_json);
    for (const std::string& example : rep.examples_json) CheckRawJson(at, "example", example);
    for (const auto& [key, value] : rep.extensions) {
      if (!absl::StartsWith(key, "x-")) {
        Problem(at, StrCat("extension keyword \"", key, "\" must start with \"x-\""));
      }
      CheckRawJson(at, key, value);
    }
    const bool is_string = rep.kind == Schema::Kind::kString;
    if (rep.secret && !is_string) Problem(at, "secret is only allowed on strings");
    if (rep.multiline && !is_string) Problem(at, "multiline is only allowed on strings");
  }

  void CheckRawJson(const std::string& at, std::string_view keyword, std::string_view text) {
    simdjson::dom::element ignored;
    if (parser_.parse(text.data(), text.size()).get(ignored) != simdjson::SUCCESS) {
      Problem(at, StrCat(keyword, " is not valid JSON: ", text));
    }
  }

  void CheckRequired(const SchemaRep& rep, const std::string& at) {
    for (const std::string& name : rep.required) {
      const bool declared = std::any_of(rep.properties.begin(), rep.properties.end(),
                                        [&](const auto& p) { return p.first == name; });
      if (!declared) Problem(at, StrCat("required property \"", name, "\" is not declared"));
    }
  }

  // Option values are the `const` of the discriminator property that OneOf() put first.
  void CheckOneOf(const SchemaRep& rep, const std::string& at) {
    std::vector<std::string> values;
    for (const Schema& branch : rep.one_of) {
      const SchemaRep& branch_rep = SchemaAccess::Rep(branch);
      if (branch_rep.kind != Schema::Kind::kObject) {
        Problem(at, StrCat("oneOf option \"", branch_rep.title, "\" must be an Object()"));
      }
      const std::string& value =
          *SchemaAccess::Rep(branch_rep.properties.front().second).const_value;
      if (Contains(values, value)) {
        Problem(at, StrCat("oneOf option value \"", value, "\" is used twice"));
      }
      values.push_back(value);
    }
    if (!Contains(values, rep.default_option)) {
      Problem(at, StrCat("default option \"", rep.default_option, "\" is not an option"));
    }
  }

  void Problem(const std::string& at, std::string_view what) {
    problems_.push_back(StrCat(at.empty() ? "(root)" : at, ": ", what));
  }

  simdjson::dom::parser parser_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::Status Schema::Lint() const { return Linter().Run(*rep_); }

}  // namespace connectors::schema
