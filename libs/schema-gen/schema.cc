#include "libs/schema-gen/schema.h"

#include <algorithm>
#include <utility>

#include "libs/json/writer.h"
#include "libs/schema-gen/schema_rep.h"

namespace connectors::schema {
namespace {

using internal::SchemaAccess;
using internal::SchemaRep;

std::string Quoted(std::string_view value) {
  std::string out;
  json::AppendQuoted(value, &out);
  return out;
}

void SetExtension(SchemaRep& rep, std::string_view key, std::string json_value) {
  for (auto& [existing_key, existing_value] : rep.extensions) {
    if (existing_key == key) {
      existing_value = std::move(json_value);
      return;
    }
  }
  rep.extensions.emplace_back(std::string(key), std::move(json_value));
}

Schema Make(Schema::Kind kind, std::string_view title, std::string_view description) {
  Schema schema(kind);
  schema.Title(title).Description(description);
  return schema;
}

}  // namespace

void Numeric::Write(json::Writer& writer) const {
  if (const auto* i = std::get_if<int64_t>(&value_)) {
    writer.Int(*i);
  } else if (const auto* u = std::get_if<uint64_t>(&value_)) {
    writer.Uint(*u);
  } else {
    writer.Double(std::get<double>(value_));
  }
}

Schema::Schema(Kind kind) : rep_(std::make_unique<SchemaRep>(kind)) {}
Schema::Schema(const Schema& other) : rep_(std::make_unique<SchemaRep>(*other.rep_)) {}
Schema& Schema::operator=(const Schema& other) {
  if (this != &other) rep_ = std::make_unique<SchemaRep>(*other.rep_);
  return *this;
}
Schema::Schema(Schema&& other) noexcept = default;
Schema& Schema::operator=(Schema&& other) noexcept = default;
Schema::~Schema() = default;

Schema::Kind Schema::kind() const { return rep_->kind; }

Schema& Schema::Title(std::string_view title) {
  rep_->title = title;
  return *this;
}

Schema& Schema::Description(std::string_view description) {
  rep_->description = description;
  return *this;
}

Schema& Schema::Default(bool value) { return DefaultJson(value ? "true" : "false"); }
Schema& Schema::Default(std::string_view value) { return DefaultJson(Quoted(value)); }

Schema& Schema::DefaultNumber(Numeric value) {
  std::string text;
  json::Writer writer(&text);
  value.Write(writer);
  return DefaultJson(text);
}

Schema& Schema::DefaultJson(std::string_view json_value) {
  rep_->default_json = std::string(json_value);
  return *this;
}

Schema& Schema::Example(std::string_view value) { return ExampleJson(Quoted(value)); }

Schema& Schema::ExampleJson(std::string_view json_value) {
  rep_->examples_json.emplace_back(json_value);
  return *this;
}

Schema& Schema::Order(int64_t order) {
  rep_->order = order;
  return *this;
}

Schema& Schema::Secret(bool on) {
  rep_->secret = on;
  return *this;
}

Schema& Schema::Advanced(bool on) {
  rep_->advanced = on;
  return *this;
}

Schema& Schema::Multiline(bool on) {
  rep_->multiline = on;
  return *this;
}

Schema& Schema::Nonsensitive(bool on) {
  rep_->nonsensitive = on;
  return *this;
}

Schema& Schema::Extension(std::string_view key, bool value) {
  return ExtensionJson(key, value ? "true" : "false");
}

Schema& Schema::ExtensionJson(std::string_view key, std::string_view json_value) {
  SetExtension(*rep_, key, std::string(json_value));
  return *this;
}

Schema& Schema::Nullable(bool on) {
  rep_->nullable = on;
  return *this;
}

Schema& Schema::Format(std::string_view format) {
  rep_->format = format;
  return *this;
}

Schema& Schema::Pattern(std::string_view ecma_regex) {
  rep_->pattern = ecma_regex;
  return *this;
}

Schema& Schema::Enum(std::vector<std::string> values) {
  rep_->enum_values = std::move(values);
  return *this;
}

Schema& Schema::Const(std::string_view value) {
  rep_->const_value = std::string(value);
  return *this;
}

Schema& Schema::MinLength(uint64_t length) {
  rep_->min_length = length;
  return *this;
}

Schema& Schema::MaxLength(uint64_t length) {
  rep_->max_length = length;
  return *this;
}

Schema& Schema::Minimum(Numeric value) {
  rep_->minimum = value;
  return *this;
}

Schema& Schema::Maximum(Numeric value) {
  rep_->maximum = value;
  return *this;
}

Schema& Schema::ExclusiveMinimum(Numeric value) {
  rep_->exclusive_minimum = value;
  return *this;
}

Schema& Schema::ExclusiveMaximum(Numeric value) {
  rep_->exclusive_maximum = value;
  return *this;
}

Schema& Schema::Items(Schema items) {
  rep_->items.clear();
  rep_->items.push_back(std::move(items));
  return *this;
}

Schema& Schema::MinItems(uint64_t count) {
  rep_->min_items = count;
  return *this;
}

Schema& Schema::MaxItems(uint64_t count) {
  rep_->max_items = count;
  return *this;
}

Schema& Schema::UniqueItems(bool on) {
  rep_->unique_items = on;
  return *this;
}

Schema& Schema::Property(std::string_view name, Schema schema) {
  for (auto& [existing_name, existing_schema] : rep_->properties) {
    if (existing_name == name) {
      existing_schema = std::move(schema);
      return *this;
    }
  }
  rep_->properties.emplace_back(std::string(name), std::move(schema));
  return *this;
}

Schema& Schema::Required(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    auto& required = rep_->required;
    if (std::find(required.begin(), required.end(), name) == required.end()) {
      required.push_back(name);
    }
  }
  return *this;
}

Schema& Schema::AdditionalProperties(bool allowed) {
  rep_->additional_properties = allowed;
  return *this;
}

Schema Object(std::string_view title, std::string_view description) {
  return Make(Schema::Kind::kObject, title, description);
}

Schema String(std::string_view title, std::string_view description) {
  return Make(Schema::Kind::kString, title, description);
}

Schema Integer(std::string_view title, std::string_view description) {
  return Make(Schema::Kind::kInteger, title, description);
}

Schema Number(std::string_view title, std::string_view description) {
  return Make(Schema::Kind::kNumber, title, description);
}

Schema Boolean(std::string_view title, std::string_view description) {
  return Make(Schema::Kind::kBoolean, title, description);
}

Schema Array(std::string_view title, std::string_view description, Schema items) {
  Schema schema = Make(Schema::Kind::kArray, title, description);
  schema.Items(std::move(items));
  return schema;
}

namespace {

// The discriminator property every branch starts with. The UI reads `const`+`default` to know
// which branch an existing config belongs to. `auth_type` alone is not marked nonsensitive:
// it is the one discriminator that says how credentials are sent.
Schema DiscriminatorProperty(std::string_view discriminator, std::string_view value) {
  Schema property = String().Const(value).Default(value).Order(0);
  if (discriminator != "auth_type") property.Nonsensitive();
  return property;
}

Schema Branch(std::string_view discriminator, Option option) {
  Schema branch = std::move(option.schema);
  branch.Title(option.title);
  SchemaRep& rep = SchemaAccess::Rep(branch);
  std::erase_if(rep.properties, [&](const auto& p) { return p.first == discriminator; });
  rep.properties.emplace(rep.properties.begin(), std::string(discriminator),
                         DiscriminatorProperty(discriminator, option.value));
  std::erase(rep.required, discriminator);
  rep.required.emplace(rep.required.begin(), discriminator);
  if (!option.oauth2_provider.empty()) {
    branch.ExtensionJson("x-oauth2-provider", Quoted(option.oauth2_provider));
  }
  return branch;
}

}  // namespace

Schema OneOf(std::string_view title, std::string_view description, std::string_view discriminator,
             std::string_view default_option, std::vector<Option> options) {
  Schema schema = Make(Schema::Kind::kOneOf, title, description);
  std::string default_json;
  json::Writer(&default_json).BeginObject().Key(discriminator).String(default_option).EndObject();
  schema.DefaultJson(default_json);
  SchemaRep& rep = SchemaAccess::Rep(schema);
  rep.discriminator = discriminator;
  rep.default_option = default_option;
  for (Option& option : options) rep.one_of.push_back(Branch(discriminator, std::move(option)));
  return schema;
}

}  // namespace connectors::schema
