#include "tests/materialize-postgres/fixtures.h"

#include <map>

namespace connectors::postgres::testing {

flow::CollectionSpec Collection(std::string_view name, const std::vector<Field>& fields) {
  flow::CollectionSpec spec;
  spec.set_name(std::string(name));
  std::map<std::string, flow::Projection> sorted;
  for (const auto& f : fields) {
    flow::Projection& p = sorted[f.field];
    p.set_field(f.field);
    p.set_ptr(f.ptr);
    p.set_is_primary_key(f.key);
    if (f.key) spec.add_key(f.ptr);
    for (const auto& t : f.types) p.mutable_inference()->add_types(t);
    p.mutable_inference()->set_exists(f.must ? flow::Inference::MUST : flow::Inference::MAY);
    if (!f.format.empty()) p.mutable_inference()->mutable_string()->set_format(f.format);
  }
  for (auto& [_, p] : sorted) *spec.add_projections() = p;
  return spec;
}

materialize::Request::Validate ValidateRequest(
    std::string_view config_json,
    const std::vector<std::pair<std::string, flow::CollectionSpec>>& bindings) {
  materialize::Request::Validate request;
  request.set_name("acmeCo/materialize");
  request.set_config_json(std::string(config_json));
  for (const auto& [resource, collection] : bindings) {
    auto* b = request.add_bindings();
    b->set_resource_config_json(resource);
    *b->mutable_collection() = collection;
  }
  return request;
}

flow::MaterializationSpec SpecOf(std::string_view name,
                                 const materialize::Request::Validate& request,
                                 const materialize::Response::Validated& validated) {
  using C = materialize::Response::Validated::Constraint;
  flow::MaterializationSpec spec;
  spec.set_name(std::string(name));
  spec.set_config_json(request.config_json());
  for (int i = 0; i < request.bindings_size(); ++i) {
    const auto& in = request.bindings(i);
    const auto& out = validated.bindings(i);
    auto* b = spec.add_bindings();
    b->set_resource_config_json(in.resource_config_json());
    *b->mutable_resource_path() = out.resource_path();
    *b->mutable_collection() = in.collection();
    b->set_delta_updates(out.delta_updates());
    b->set_backfill(in.backfill());
    auto* selection = b->mutable_field_selection();
    for (const auto& ptr : in.collection().key()) selection->add_keys(ptr.substr(1));
    for (const auto& p : in.collection().projections()) {
      const auto type = out.constraints().at(p.field()).type();
      if (p.is_primary_key() || type == C::FIELD_FORBIDDEN || type == C::INCOMPATIBLE) continue;
      if (p.ptr().empty()) {
        if (selection->document().empty()) selection->set_document(p.field());
      } else {
        selection->add_values(p.field());
      }
    }
  }
  return spec;
}

const Logger& TestLog() {
  static const Logger* log = new Logger(2, LogLevel::kWarn);
  return *log;
}

materialize::Request::Store Store(uint32_t binding, const std::vector<tuple::Element>& key,
                                  const std::vector<tuple::Element>& values, std::string doc,
                                  bool exists, bool is_delete) {
  materialize::Request::Store s;
  s.set_binding(binding);
  s.set_key_packed(tuple::Pack(key));
  s.set_values_packed(tuple::Pack(values));
  s.set_doc_json(std::move(doc));
  s.set_exists(exists);
  s.set_delete_(is_delete);
  return s;
}

materialize::Request::Load Load(uint32_t binding, const std::vector<tuple::Element>& key) {
  materialize::Request::Load l;
  l.set_binding(binding);
  l.set_key_packed(tuple::Pack(key));
  return l;
}

consumer::Checkpoint CheckpointAt(int64_t offset) {
  consumer::Checkpoint cp;
  (*cp.mutable_sources())["acmeCo/things/pivot=00"].set_read_through(offset);
  return cp;
}

}  // namespace connectors::postgres::testing
