#include "tests/runtime/specs.h"

#include <algorithm>
#include <set>

#include "libs/base/strings.h"
#include "libs/connector/proto_json.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"

namespace connectors::local {
namespace {

constexpr std::string_view kDocumentField = "flow_document";

std::string Escape(std::string_view component) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : component) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string ResourcePathSuffix(const google::protobuf::RepeatedPtrField<std::string>& path) {
  std::string out;
  for (const auto& component : path) {
    if (!out.empty()) out.append("%2F");
    out.append(Escape(component));
  }
  return out;
}

// Sets inference types (and the string format) from a schema's "type" and "format".
void InferTypes(const simdjson::dom::element& schema, flow::Inference* inference) {
  std::set<std::string> types;
  std::string_view type;
  simdjson::dom::array type_list;
  if (schema["type"].get(type) == simdjson::SUCCESS) {
    types.insert(std::string(type));
  } else if (schema["type"].get(type_list) == simdjson::SUCCESS) {
    for (auto t : type_list) {
      if (t.get(type) == simdjson::SUCCESS) types.insert(std::string(type));
    }
  } else {
    types = {"array", "boolean", "null", "number", "object", "string"};
  }
  if (types.contains("integer") && types.contains("number")) types.erase("integer");
  for (const auto& t : types) inference->add_types(t);
  std::string_view format;
  if (types.contains("string") && schema["format"].get(format) == simdjson::SUCCESS) {
    inference->mutable_string()->set_format(std::string(format));
  } else if (types.contains("string")) {
    inference->mutable_string();
  }
  std::string_view text;
  if (schema["title"].get(text) == simdjson::SUCCESS) inference->set_title(std::string(text));
  if (schema["description"].get(text) == simdjson::SUCCESS) {
    inference->set_description(std::string(text));
  }
}

bool IsRequired(const simdjson::dom::element& schema, std::string_view property) {
  simdjson::dom::array required;
  if (schema["required"].get(required) != simdjson::SUCCESS) return false;
  for (auto name : required) {
    std::string_view text;
    if (name.get(text) == simdjson::SUCCESS && text == property) return true;
  }
  return false;
}

bool Selectable(materialize::Response::Validated::Constraint::Type type) {
  using C = materialize::Response::Validated::Constraint;
  return type != C::FIELD_FORBIDDEN && type != C::INCOMPATIBLE && type != C::INVALID;
}

// Constraints of a validated binding, from either representation.
std::map<std::string, materialize::Response::Validated::Constraint> ConstraintsOf(
    const materialize::Response::Validated::Binding& binding) {
  std::map<std::string, materialize::Response::Validated::Constraint> out(
      binding.constraints().begin(), binding.constraints().end());
  for (const auto& pc : binding.projection_constraints()) out[pc.field()] = pc.constraint();
  return out;
}

}  // namespace

std::string SpecVersion(const google::protobuf::Message& spec) {
  std::string text;
  codec::MessageToJson(spec, &text);      // Map keys sorted: the same spec gives the same text.
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a.
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ull;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string version(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) version[i] = kHex[hash & 0xF];
  return version;
}

namespace {
std::string AppliedKey(const std::string& task) { return StrCat(task, "#applied"); }
}  // namespace

absl::StatusOr<std::string> LastApplied(const Store& store, const std::string& task,
                                        google::protobuf::Message* spec) {
  auto record = store.TaskState(AppliedKey(task));
  if (!record.ok() || record->empty()) return record;
  json::Parser parser;
  auto root = parser.Parse(*record);
  if (!root.ok()) return root.status();
  std::string_view version;
  simdjson::dom::element spec_json;
  if ((*root)["version"].get(version) != simdjson::SUCCESS ||
      (*root)["spec"].get(spec_json) != simdjson::SUCCESS) {
    return absl::DataLossError(StrCat("applied spec record of ", task, " is malformed"));
  }
  std::string text = json::ToJson(spec_json);
  codec::JsonMessageParser spec_parser(codec::UnknownKeys::kIgnore);
  if (auto status = spec_parser.Parse(&text, spec); !status.ok()) return status;
  return std::string(version);
}

absl::Status RecordApplied(Store& store, const std::string& task,
                           const google::protobuf::Message& spec) {
  std::string record;
  json::Writer w(&record);
  std::string spec_json;
  codec::MessageToJson(spec, &spec_json);
  w.BeginObject().Key("version").String(SpecVersion(spec)).Key("spec").Raw(spec_json).EndObject();
  Store::Transaction txn = store.Begin();
  txn.SetTaskState(AppliedKey(task), record);
  return txn.Commit();
}

std::string StateKey(const google::protobuf::RepeatedPtrField<std::string>& resource_path,
                     uint32_t backfill) {
  std::string key = ResourcePathSuffix(resource_path);
  if (backfill > 0) StrAppend(&key, ".v", backfill);
  return key;
}

absl::StatusOr<flow::CollectionSpec> CollectionSpecOf(const Collection& collection) {
  flow::CollectionSpec spec;
  spec.set_name(collection.name);
  for (const auto& ptr : collection.key) spec.add_key(ptr);
  spec.set_uuid_ptr("/_meta/uuid");
  spec.set_write_schema_json(collection.write_schema_json);
  if (!collection.read_schema_json.empty()) spec.set_read_schema_json(collection.read_schema_json);

  json::Parser parser;
  auto schema = parser.Parse(collection.write_schema_json);
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        StrCat("schema of collection ", collection.name, ": ", MessageOf(schema.status())));
  }
  std::map<std::string, flow::Projection> projections;  // By field: sorted, as Flow orders them.
  flow::Projection& root = projections[std::string(kDocumentField)];
  root.set_field(std::string(kDocumentField));
  root.mutable_inference()->add_types("object");
  root.mutable_inference()->set_exists(flow::Inference::MUST);

  simdjson::dom::object properties;
  if ((*schema)["properties"].get(properties) == simdjson::SUCCESS) {
    for (auto [name, property] : properties) {
      flow::Projection& p = projections[std::string(name)];
      p.set_ptr(StrCat("/", name));
      p.set_field(std::string(name));
      InferTypes(property, p.mutable_inference());
      p.mutable_inference()->set_exists(IsRequired(*schema, name) ? flow::Inference::MUST
                                                                  : flow::Inference::MAY);
    }
  }
  for (const auto& ptr : collection.key) {
    const std::string field = ptr.substr(1);
    flow::Projection& p = projections[field];
    if (p.field().empty()) {
      p.set_ptr(ptr);
      p.set_field(field);
      p.mutable_inference()->add_types("string");
    }
    p.set_is_primary_key(true);
    p.mutable_inference()->set_exists(flow::Inference::MUST);
  }
  for (auto& [field, projection] : projections) *spec.add_projections() = std::move(projection);
  return spec;
}

capture::Request::Validate CaptureValidateRequest(
    const Catalog& catalog, const Capture& capture,
    const std::map<std::string, flow::CollectionSpec>& collections) {
  capture::Request::Validate validate;
  validate.set_name(capture.name);
  validate.set_connector_type(flow::CaptureSpec::IMAGE);
  validate.set_config_json(capture.endpoint.config_json);
  for (const auto& binding : capture.bindings) {
    if (binding.disable) continue;
    auto* b = validate.add_bindings();
    b->set_resource_config_json(binding.resource_json);
    *b->mutable_collection() = collections.at(binding.target);
    b->set_backfill(binding.backfill);
  }
  return validate;
}

absl::StatusOr<flow::CaptureSpec> CaptureSpecOf(const Capture& capture,
                                                const capture::Request::Validate& validate,
                                                const capture::Response::Validated& validated) {
  flow::CaptureSpec spec;
  spec.set_name(capture.name);
  spec.set_connector_type(flow::CaptureSpec::IMAGE);
  spec.set_config_json(capture.endpoint.config_json);
  if (capture.interval.has_value()) {
    spec.set_interval_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(*capture.interval)));
  }
  std::set<std::string> paths;
  for (int i = 0; i < validate.bindings_size(); ++i) {
    const auto& path = validated.bindings(i).resource_path();
    const std::string key = StateKey(path, 0);
    if (path.empty() || !paths.insert(key).second) {
      return absl::FailedPreconditionError(
          StrCat("capture ", capture.name, ": binding ", i, " has ",
                 path.empty() ? "an empty" : "a duplicate", " resource path"));
    }
    auto* binding = spec.add_bindings();
    binding->set_resource_config_json(validate.bindings(i).resource_config_json());
    *binding->mutable_resource_path() = path;
    *binding->mutable_collection() = validate.bindings(i).collection();
    binding->set_backfill(validate.bindings(i).backfill());
    binding->set_state_key(StateKey(path, validate.bindings(i).backfill()));
  }
  return spec;
}

materialize::Request::Validate MaterializeValidateRequest(
    const Materialization& materialization,
    const std::map<std::string, flow::CollectionSpec>& collections) {
  materialize::Request::Validate validate;
  validate.set_name(materialization.name);
  validate.set_connector_type(flow::MaterializationSpec::IMAGE);
  validate.set_config_json(materialization.endpoint.config_json);
  for (const auto& binding : materialization.bindings) {
    auto* b = validate.add_bindings();
    b->set_resource_config_json(binding.resource_json);
    *b->mutable_collection() = collections.at(binding.source);
    b->set_backfill(binding.backfill);
    for (const auto& ptr : b->collection().key()) b->add_group_by(ptr.substr(1));
    for (const auto& [field, config] : binding.fields.include) {
      (*b->mutable_field_config_json_map())[field] = config;
    }
  }
  return validate;
}

absl::StatusOr<flow::MaterializationSpec> MaterializationSpecOf(
    const Materialization& materialization, const materialize::Request::Validate& validate,
    const materialize::Response::Validated& validated) {
  flow::MaterializationSpec spec;
  spec.set_name(materialization.name);
  spec.set_connector_type(flow::MaterializationSpec::IMAGE);
  spec.set_config_json(materialization.endpoint.config_json);
  for (int i = 0; i < validate.bindings_size(); ++i) {
    const auto& request = validate.bindings(i);
    const auto& response = validated.bindings(i);
    const auto& options = materialization.bindings[i].fields;
    const auto constraints = ConstraintsOf(response);
    auto constraint_of = [&](const std::string& field) {
      auto it = constraints.find(field);
      return it == constraints.end() ? materialize::Response::Validated::Constraint::FIELD_FORBIDDEN
                                     : it->second.type();
    };
    const std::string where = StrCat("materialization ", materialization.name, " binding ", i, " (",
                                     request.collection().name(), ")");

    auto* binding = spec.add_bindings();
    binding->set_resource_config_json(request.resource_config_json());
    *binding->mutable_resource_path() = response.resource_path();
    *binding->mutable_collection() = request.collection();
    binding->set_delta_updates(response.delta_updates());
    binding->set_backfill(request.backfill());
    binding->set_state_key(StateKey(response.resource_path(), request.backfill()));
    binding->set_journal_read_suffix(StrCat("materialize/", materialization.name, "/",
                                            ResourcePathSuffix(response.resource_path())));
    if (response.has_ser_policy()) *binding->mutable_ser_policy() = response.ser_policy();
    *binding->mutable_field_selection()->mutable_field_config_json_map() =
        request.field_config_json_map();

    auto* selection = binding->mutable_field_selection();
    std::set<std::string> chosen;
    for (const auto& ptr : request.collection().key()) {
      const std::string field = ptr.substr(1);
      if (!Selectable(constraint_of(field))) {
        return absl::FailedPreconditionError(
            StrCat(where, ": key field \"", field, "\" cannot be materialized: ",
                   constraints.contains(field) ? constraints.at(field).reason() : "no constraint"));
      }
      selection->add_keys(field);
      chosen.insert(field);
    }
    using C = materialize::Response::Validated::Constraint;
    std::vector<std::string> values;
    for (const auto& projection : request.collection().projections()) {
      const std::string& field = projection.field();
      if (chosen.contains(field)) continue;
      const auto type = constraint_of(field);
      const bool excluded =
          std::find(options.exclude.begin(), options.exclude.end(), field) != options.exclude.end();
      const bool included = options.include.contains(field);
      const bool required = type == C::FIELD_REQUIRED || type == C::LOCATION_REQUIRED;
      if (required && excluded) {
        return absl::FailedPreconditionError(StrCat(
            where, ": field \"", field, "\" is required by the connector and cannot be excluded"));
      }
      if (included && !Selectable(type)) {
        return absl::FailedPreconditionError(
            StrCat(where, ": included field \"", field, "\" cannot be materialized: ",
                   constraints.contains(field) ? constraints.at(field).reason() : "no constraint"));
      }
      const bool recommended =
          options.recommended && Selectable(type) &&
          (type != C::FIELD_OPTIONAL || projection.ptr().find('/', 1) == std::string::npos);
      if (!(required || included || (recommended && !excluded))) continue;
      chosen.insert(field);
      if (projection.ptr().empty()) {
        selection->set_document(field);
      } else {
        values.push_back(field);
      }
    }
    std::sort(values.begin(), values.end());
    for (auto& v : values) selection->add_values(std::move(v));
  }
  return spec;
}

}  // namespace connectors::local
