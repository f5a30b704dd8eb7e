#include "tests/materialize-google-pubsub/support.h"

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple.h"

namespace connectors::testing {

flow::CollectionSpec Collection(const std::string& name) {
  flow::CollectionSpec collection;
  collection.set_name(name);
  collection.add_key("/id");
  auto* root = collection.add_projections();
  root->set_field("flow_document");
  auto* id = collection.add_projections();
  id->set_ptr("/id");
  id->set_field("id");
  id->set_is_primary_key(true);
  auto* v = collection.add_projections();
  v->set_ptr("/v");
  v->set_field("v");
  return collection;
}

materialize::Request::Validate ValidateRequest(const std::string& config_json,
                                               const std::vector<BindingSpec>& bindings) {
  materialize::Request::Validate validate;
  validate.set_name("acmeCo/to-pubsub");
  validate.set_config_json(config_json);
  for (const auto& binding : bindings) {
    auto* b = validate.add_bindings();
    b->set_resource_config_json(binding.resource_json);
    *b->mutable_collection() = Collection(binding.collection);
  }
  return validate;
}

flow::MaterializationSpec Materialization(const std::string& config_json,
                                          const std::vector<BindingSpec>& bindings) {
  flow::MaterializationSpec spec;
  spec.set_name("acmeCo/to-pubsub");
  spec.set_config_json(config_json);
  for (const auto& binding : bindings) {
    auto* b = spec.add_bindings();
    b->set_resource_config_json(binding.resource_json);
    *b->mutable_collection() = Collection(binding.collection);
    b->set_delta_updates(true);
    b->mutable_field_selection()->add_keys("id");
    b->mutable_field_selection()->set_document("flow_document");
  }
  return spec;
}

materialize::Request::Store StoreOf(uint32_t binding, int64_t id, const std::string& v,
                                    const std::string& op) {
  materialize::Request::Store store;
  store.set_binding(binding);
  store.set_key_json(StrCat("[", id, "]"));
  std::string packed;
  tuple::AppendInt(id, &packed);
  store.set_key_packed(packed);
  std::string doc = StrCat(R"({"_meta":{"op":")", op, R"("},"id":)", id, R"(,"v":)");
  json::AppendQuoted(v, &doc);
  doc += "}";
  store.set_doc_json(doc);
  store.set_delete_(op == "d");
  return store;
}

absl::StatusOr<std::vector<Pulled>> PullAll(pubsub::PubsubClient& client,
                                            const std::string& subscription, size_t expected,
                                            absl::Duration timeout) {
  std::vector<Pulled> out;
  const absl::Time deadline = absl::Now() + timeout;
  absl::Time quiet_since = absl::Now();
  const std::string name = client.SubscriptionName(subscription);
  json::Parser parser;
  while (absl::Now() < deadline) {
    // Once the expected count arrived, wait a little longer for unexpected extras.
    if (out.size() >= expected && absl::Now() - quiet_since > absl::Milliseconds(500)) break;
    auto response = client.Call("POST", StrCat(name, ":pull"),
                                R"({"maxMessages":1000,"returnImmediately":true})");
    if (!response.ok()) return response.status();
    if (!response->ok()) return pubsub::ErrorOf(*response, "pulling", name);
    auto doc = parser.Parse(response->body);
    if (!doc.ok()) return doc.status();
    simdjson::dom::array received;
    if ((*doc)["receivedMessages"].get(received) != simdjson::SUCCESS || received.size() == 0) {
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    quiet_since = absl::Now();
    std::string ack = R"({"ackIds":[)";
    bool first = true;
    for (auto item : received) {
      std::string_view ack_id, data, key;
      if (item["ackId"].get(ack_id)) {
      }
      StrAppend(&ack, first ? "" : ",", "\"", ack_id, "\"");
      first = false;
      auto message = item["message"];
      Pulled pulled;
      if (message["data"].get(data)) {
      }
      std::string decoded;
      absl::Base64Unescape(absl::string_view(data.data(), data.size()), &decoded);
      pulled.data = std::move(decoded);
      if (message["orderingKey"].get(key) == simdjson::SUCCESS) pulled.ordering_key = key;
      simdjson::dom::object attributes;
      if (message["attributes"].get(attributes) == simdjson::SUCCESS) {
        for (auto field : attributes) {
          std::string_view value;
          if (field.value.get(value)) {
          }
          pulled.attributes[std::string(field.key)] = std::string(value);
        }
      }
      out.push_back(std::move(pulled));
    }
    ack += "]}";
    auto acked = client.Call("POST", StrCat(name, ":acknowledge"), ack);
    if (!acked.ok()) return acked.status();
  }
  return out;
}

}  // namespace connectors::testing
