#include "materialize-google-pubsub/driver.h"

#include <openssl/evp.h>

#include <map>
#include <set>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "materialize-google-pubsub/config.h"
#include "materialize-google-pubsub/pubsub_client.h"

namespace connectors::pubsub {
namespace {

using Constraint = materialize::Response::Validated::Constraint;

// What Store needs to know about a binding.
struct BindingInfo {
  size_t topic = 0;  // Index into the publisher's topics.
  std::string identifier;
  bool ordering_key = false;
  std::string collection;
};

std::vector<std::string> ResourcePath(const ResourceConfig& resource) {
  if (resource.identifier.empty()) return {resource.topic};
  return {resource.topic, resource.identifier};
}

// The operation of a stored document: "d" for deletions, else the document's /_meta/op
// ("c" or "u") when it has one.
std::string_view OperationOf(const materialize::Request::Store& store, json::Parser& parser) {
  if (store.delete_()) return "d";
  auto doc = parser.Parse(store.doc_json());
  if (!doc.ok()) return "";
  std::string_view op;
  if (doc->at_pointer("/_meta/op").get(op) != simdjson::SUCCESS) return "";
  if (op == "c") return "c";
  if (op == "u") return "u";
  if (op == "d") return "d";
  return "";
}

class PubsubTransactor final : public runtime::Transactor {
 public:
  PubsubTransactor(std::vector<BindingInfo> bindings, std::unique_ptr<Publisher> publisher,
                   const Logger& log)
      : bindings_(std::move(bindings)), publisher_(std::move(publisher)), log_(log) {}

  absl::Status Load(runtime::LoadIterator& loads, runtime::LoadedFn) override {
    auto load = loads.Next();
    if (!load.ok()) return load.status();
    if (*load != nullptr) {
      return absl::InternalError(
          "received a Load, but every Pub/Sub binding is delta-updates and never loads");
    }
    return absl::OkStatus();
  }

  absl::Status Store(runtime::StoreIterator& stores) override {
    while (true) {
      auto next = stores.Next();
      if (!next.ok()) return next.status();
      const materialize::Request::Store* store = *next;
      if (store == nullptr) return absl::OkStatus();
      if (store->binding() >= bindings_.size()) {
        return absl::InvalidArgumentError(StrCat("Store for unknown binding ", store->binding()));
      }
      const BindingInfo& binding = bindings_[store->binding()];
      const std::string key =
          binding.ordering_key ? OrderingKeyOf(store->key_packed()) : std::string();
      Message message{.data = store->doc_json(),
                      .identifier = binding.identifier,
                      .op = OperationOf(*store, parser_),
                      .ordering_key = key};
      if (const size_t bytes = MessageBytes(message); bytes > kMaxMessageBytes) {
        return absl::InvalidArgumentError(StrCat(
            "the document with key ", store->key_json(), " of collection ", binding.collection,
            " (binding ", store->binding(), ") is ", bytes,
            " bytes as a Pub/Sub message, over Pub/Sub's limit of ", kMaxMessageBytes,
            " bytes per message; exclude or shrink its large fields (e.g. with a derivation)"));
      }
      if (auto s = publisher_->Add(binding.topic, message); !s.ok()) return s;
      ++stored_;
    }
  }

  absl::StatusOr<std::optional<flow::ConnectorState>> StartCommit(
      const consumer::Checkpoint&) override {
    // Pub/Sub cannot hold the runtime checkpoint: the commit is done once every message of the
    // transaction is acknowledged, and the runtime commits its checkpoint after that.
    if (auto s = publisher_->Flush(); !s.ok()) return s;
    if (stored_ > 0) {
      log_.Debug("published transaction", {LogField::Uint("documents", stored_)});
    }
    stored_ = 0;
    return std::nullopt;
  }

  absl::StatusOr<std::optional<flow::ConnectorState>> Acknowledge() override {
    return std::nullopt;
  }

 private:
  std::vector<BindingInfo> bindings_;
  std::unique_ptr<Publisher> publisher_;
  const Logger& log_;
  json::Parser parser_;
  uint64_t stored_ = 0;
};

struct Session {
  EndpointConfig config;
  Endpoint endpoint;
};

absl::StatusOr<Session> Connect(std::string_view config_json) {
  auto config = ParseEndpointConfig(config_json);
  if (!config.ok()) return config.status();
  auto endpoint = EndpointOf(*config);
  if (!endpoint.ok()) return endpoint.status();
  return Session{*std::move(config), *std::move(endpoint)};
}

}  // namespace

std::string OrderingKeyOf(std::string_view key_packed) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key_packed.data(), key_packed.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

materialize::Response::Spec PubsubDriver::Spec() const {
  materialize::Response::Spec spec;
  spec.set_config_schema_json(EndpointConfigSchema().ToJson());
  spec.set_resource_config_schema_json(ResourceConfigSchema().ToJson());
  spec.set_documentation_url("https://go.estuary.dev/materialize-google-pubsub");
  *spec.mutable_oauth2() = GoogleOAuth2();
  return spec;
}

absl::StatusOr<materialize::Response::Validated> PubsubDriver::Validate(
    const materialize::Request::Validate& request, const Logger&) {
  auto session = Connect(request.config_json());
  if (!session.ok()) return session.status();
  PubsubClient client(session->endpoint);
  materialize::Response::Validated validated;
  std::map<std::vector<std::string>, int> paths;
  std::set<std::string> checked;
  for (int i = 0; i < request.bindings_size(); ++i) {
    const auto& binding = request.bindings(i);
    auto resource = ParseResourceConfig(binding.resource_config_json(), i);
    if (!resource.ok()) return resource.status();
    const auto path = ResourcePath(*resource);
    if (auto [it, added] = paths.emplace(path, i); !added) {
      return absl::InvalidArgumentError(
          StrCat("binding ", i, " (", binding.collection().name(), "): topic \"", resource->topic,
                 "\" with identifier \"", resource->identifier, "\" is already used by binding ",
                 it->second, "; give bindings that share a topic different identifiers"));
    }
    // Proves the credentials and the project; a missing topic is fine (Apply creates it).
    if (checked.insert(resource->topic).second) {
      auto exists = client.TopicExists(resource->topic);
      if (!exists.ok()) return exists.status();
    }
    auto* out = validated.add_bindings();
    for (const auto& part : path) out->add_resource_path(part);
    out->set_delta_updates(true);
    for (const auto& projection : binding.collection().projections()) {
      Constraint constraint;
      if (projection.ptr().empty()) {
        constraint.set_type(Constraint::LOCATION_REQUIRED);
        constraint.set_reason("The whole document is published as the message data");
      } else if (projection.is_primary_key()) {
        constraint.set_type(Constraint::FIELD_OPTIONAL);
        constraint.set_reason("Key fields are part of the published document");
      } else {
        constraint.set_type(Constraint::FIELD_FORBIDDEN);
        constraint.set_reason("Pub/Sub messages carry whole documents only");
      }
      (*out->mutable_constraints())[projection.field()] = constraint;
    }
  }
  return validated;
}

absl::StatusOr<materialize::Response::Applied> PubsubDriver::Apply(
    const materialize::Request::Apply& request, const Logger& log) {
  const auto& spec = request.materialization();
  auto session = Connect(spec.config_json());
  if (!session.ok()) return session.status();
  // Per topic, in binding order: whether a default subscription is wanted, and with ordering.
  std::vector<std::string> order;
  std::map<std::string, std::pair<bool, bool>> topics;
  for (int i = 0; i < spec.bindings_size(); ++i) {
    auto resource = ParseResourceConfig(spec.bindings(i).resource_config_json(), i);
    if (!resource.ok()) return resource.status();
    auto [it, added] = topics.emplace(resource->topic, std::pair{false, false});
    if (added) order.push_back(resource->topic);
    it->second.first |= resource->create_default_subscription;
    it->second.second |= resource->ordering_key;
  }
  PubsubClient client(session->endpoint);
  std::string description;
  auto describe = [&](std::string_view line) {
    StrAppend(&description, description.empty() ? "" : "\n", line);
    log.Info(line);
  };
  for (const auto& topic : order) {
    auto exists = client.TopicExists(topic);
    if (!exists.ok()) return exists.status();
    if (!*exists) {
      auto created = client.CreateTopic(topic);
      if (!created.ok()) return created.status();
      if (*created) describe(StrCat("created topic ", topic));
    }
    // Also when the topic exists: an earlier Apply may have stopped between the two.
    const auto [subscribe, ordering] = topics[topic];
    if (subscribe) {
      const std::string sub = topic + "-sub";
      auto created = client.CreateSubscription(sub, topic, ordering);
      if (!created.ok()) return created.status();
      if (*created) describe(StrCat("created subscription ", sub, " for topic ", topic));
    }
  }
  materialize::Response::Applied applied;
  applied.set_action_description(description);
  return applied;
}

absl::StatusOr<runtime::OpenedTransactor> PubsubDriver::Open(
    const materialize::Request::Open& request, const Logger& log) {
  const auto& spec = request.materialization();
  auto session = Connect(spec.config_json());
  if (!session.ok()) return session.status();
  std::vector<std::string> topics;
  std::map<std::string, size_t> topic_index;
  std::vector<BindingInfo> bindings;
  for (int i = 0; i < spec.bindings_size(); ++i) {
    auto resource = ParseResourceConfig(spec.bindings(i).resource_config_json(), i);
    if (!resource.ok()) return resource.status();
    auto [it, added] = topic_index.emplace(resource->topic, topics.size());
    if (added) topics.push_back(resource->topic);
    bindings.push_back(BindingInfo{it->second, resource->identifier, resource->ordering_key,
                                   spec.bindings(i).collection().name()});
  }
  auto publisher = std::make_unique<Publisher>(session->endpoint, std::move(topics), options_, log);
  runtime::OpenedTransactor opened;
  opened.transactor =
      std::make_unique<PubsubTransactor>(std::move(bindings), std::move(publisher), log);
  return opened;
}

}  // namespace connectors::pubsub
