// materialize-google-pubsub's driver against Google's real Pub/Sub emulator: Spec, Validate,
// Apply, publishing (attributes, ordering keys, Pub/Sub's request limits), retries through a
// fault-injecting proxy, the errors users see, and the service-account flow against a token
// endpoint that verifies the JWT signatures. Skipped loudly when the emulator is missing.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "libs/schema-gen/validator.h"
#include "materialize-google-pubsub/config.h"
#include "materialize-google-pubsub/driver.h"
#include "materialize-google-pubsub/pubsub_client.h"
#include "tests/harness/pubsub_emulator.h"
#include "tests/harness/temp_dir.h"
#include "tests/materialize-google-pubsub/fault_proxy.h"
#include "tests/materialize-google-pubsub/oauth_token_server.h"
#include "tests/materialize-google-pubsub/support.h"
#include "tests/snapshot/snapshot.h"

namespace connectors::pubsub {
namespace {

using testing::BindingSpec;
using testing::FaultProxy;
using testing::StoreOf;
using testing::VectorStores;

constexpr char kProject[] = "test-project";

std::string EmulatorConfig(const std::string& host_port) {
  return StrCat(R"({"project_id":")", kProject, R"(","advanced":{"emulator_host":")", host_port,
                R"("}})");
}

std::string Attribute(const testing::Pulled& message, const std::string& name) {
  auto it = message.attributes.find(name);
  return it == message.attributes.end() ? "<missing>" : it->second;
}

std::string Resource(const std::string& topic, const std::string& extra = "") {
  return StrCat(R"({"topic":")", topic, "\"", extra, "}");
}

PublisherOptions FastRetries() {
  PublisherOptions options;
  options.retry.initial_backoff = absl::Milliseconds(10);
  options.retry.max_backoff = absl::Milliseconds(100);
  options.retry.max_attempts = 8;
  options.request_timeout = absl::Seconds(30);
  return options;
}

class PubsubTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!harness::PubsubEmulator::Installed()) return;
    auto emulator = harness::PubsubEmulator::Start();
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = new harness::PubsubEmulator(*std::move(emulator));
  }
  static void TearDownTestSuite() {
    delete emulator_;
    emulator_ = nullptr;
  }
  void SetUp() override {
    if (!harness::PubsubEmulator::Installed()) {
      GTEST_SKIP() << harness::PubsubEmulator::Missing();
    }
    ASSERT_NE(emulator_, nullptr);
    // Names unique to the test: the emulator is shared by the suite.
    topic_ = StrCat("t-", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  std::string config() const { return EmulatorConfig(emulator_->host_port()); }
  PubsubClient Client() const {
    return PubsubClient(Endpoint{emulator_->url(), kProject, nullptr});
  }

  // Validate, Apply and Open as the runtime does; the transactor is kept in transactor_.
  void OpenAll(PubsubDriver& driver, const std::string& config_json,
               const std::vector<BindingSpec>& bindings) {
    auto validated = driver.Validate(testing::ValidateRequest(config_json, bindings), log_);
    ASSERT_TRUE(validated.ok()) << validated.status();
    materialize::Request::Apply apply;
    *apply.mutable_materialization() = testing::Materialization(config_json, bindings);
    auto applied = driver.Apply(apply, log_);
    ASSERT_TRUE(applied.ok()) << applied.status();
    materialize::Request::Open open;
    *open.mutable_materialization() = testing::Materialization(config_json, bindings);
    auto opened = driver.Open(open, log_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_FALSE(opened->opened.has_runtime_checkpoint());
    transactor_ = std::move(opened->transactor);
  }

  // One transaction: Store then StartCommit.
  absl::Status Transaction(std::vector<materialize::Request::Store> stores) {
    VectorStores iterator(std::move(stores));
    if (auto s = transactor_->Store(iterator); !s.ok()) return s;
    auto committed = transactor_->StartCommit(consumer::Checkpoint());
    if (!committed.ok()) return committed.status();
    EXPECT_FALSE(committed->has_value());
    return absl::OkStatus();
  }

  static harness::PubsubEmulator* emulator_;
  std::string topic_;
  Logger log_{2, LogLevel::kWarn};
  std::unique_ptr<runtime::Transactor> transactor_;
};

harness::PubsubEmulator* PubsubTest::emulator_ = nullptr;

TEST(PubsubSpec, SchemasLintAndMatchTheSnapshot) {
  PubsubDriver driver;
  const auto spec = driver.Spec();
  EXPECT_TRUE(EndpointConfigSchema().Lint().ok()) << EndpointConfigSchema().Lint();
  EXPECT_TRUE(ResourceConfigSchema().Lint().ok()) << ResourceConfigSchema().Lint();
  EXPECT_EQ(spec.oauth2().provider(), "google");
  snapshot::ExpectMatches("tests/materialize-google-pubsub/snapshots/spec.snap",
                          StrCat("config_schema: ", spec.config_schema_json(),
                                 "\nresource_config_schema: ", spec.resource_config_schema_json(),
                                 "\ndocumentation_url: ", spec.documentation_url(), "\n"));
  // The credentials field is a multiline secret; configs are checked against the schemas.
  EXPECT_NE(spec.config_schema_json().find(R"("credentials_json":{"title":"Service Account JSON")"),
            std::string::npos);
  auto validator = schema::Validator::Compile(spec.resource_config_schema_json());
  ASSERT_TRUE(validator.ok());
  EXPECT_TRUE(validator->Check(R"({"topic":"orders"})", "resource").ok());
  EXPECT_FALSE(validator->Check(R"({"topic":"acmeCo/orders"})", "resource").ok());
  EXPECT_FALSE(validator->Check(R"({"topic":"1abc"})", "resource").ok());
}

TEST(PubsubConfig, ParsesAndExplainsMistakes) {
  auto config = ParseEndpointConfig(
      R"({"project_id":"proj","credentials":{"auth_type":"Service","credentials_json":"{}"}})");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->auth, EndpointConfig::Auth::kServiceAccount);
  EXPECT_EQ(config->api_endpoint, kDefaultApiEndpoint);
  auto no_credentials = ParseEndpointConfig(R"({"project_id":"proj"})");
  EXPECT_NE(no_credentials.status().message().find("credentials are required"),
            absl::string_view::npos);
  auto resource = ParseResourceConfig(R"({"topic":"orders","identifier":"x"})", 3);
  ASSERT_TRUE(resource.ok());
  EXPECT_TRUE(resource->create_default_subscription);
  EXPECT_FALSE(resource->ordering_key);
  auto reserved = ParseResourceConfig(R"({"topic":"google-things"})", 3);
  EXPECT_NE(reserved.status().message().find("binding 3 resource config: topic"),
            absl::string_view::npos)
      << reserved.status();
}

TEST_F(PubsubTest, ValidateReportsDeltaUpdatesWholeDocumentsAndResourcePaths) {
  PubsubDriver driver;
  auto validated = driver.Validate(
      testing::ValidateRequest(
          config(), {{Resource(topic_)}, {Resource(topic_, R"(,"identifier":"second")")}}),
      log_);
  ASSERT_TRUE(validated.ok()) << validated.status();
  ASSERT_EQ(validated->bindings_size(), 2);
  const auto& first = validated->bindings(0);
  EXPECT_TRUE(first.delta_updates());
  EXPECT_EQ(std::vector<std::string>(first.resource_path().begin(), first.resource_path().end()),
            std::vector<std::string>{topic_});
  EXPECT_EQ(validated->bindings(1).resource_path_size(), 2);
  using C = materialize::Response::Validated::Constraint;
  EXPECT_EQ(first.constraints().at("flow_document").type(), C::LOCATION_REQUIRED);
  EXPECT_EQ(first.constraints().at("id").type(), C::FIELD_OPTIONAL);
  EXPECT_EQ(first.constraints().at("v").type(), C::FIELD_FORBIDDEN);

  auto duplicate = driver.Validate(
      testing::ValidateRequest(config(), {{Resource(topic_)}, {Resource(topic_)}}), log_);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.status().message().find("already used by binding 0"), absl::string_view::npos)
      << duplicate.status();
}

TEST_F(PubsubTest, ApplyCreatesMissingTopicsAndSubscriptionsAndNeverDeletes) {
  PubsubDriver driver;
  PubsubClient client = Client();
  const std::string existing = topic_ + "-existing";
  ASSERT_TRUE(client.CreateTopic(existing).ok());
  const std::vector<BindingSpec> bindings = {
      {Resource(topic_)}, {Resource(existing, R"(,"create_default_subscription":false)")}};
  materialize::Request::Apply apply;
  *apply.mutable_materialization() = testing::Materialization(config(), bindings);
  auto applied = driver.Apply(apply, log_);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->action_description(),
            StrCat("created topic ", topic_, "\ncreated subscription ", topic_, "-sub for topic ",
                   topic_));
  auto sub = client.Call("GET", client.SubscriptionName(existing + "-sub"), "");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->status, 404) << "no subscription was asked for " << existing;

  // Again: nothing to do. Then with a binding removed: its topic stays.
  applied = driver.Apply(apply, log_);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->action_description(), "");
  *apply.mutable_materialization() = testing::Materialization(config(), {bindings[0]});
  ASSERT_TRUE(driver.Apply(apply, log_).ok());
  EXPECT_TRUE(*client.TopicExists(existing));
  EXPECT_TRUE(*client.TopicExists(topic_));
}

TEST_F(PubsubTest, PublishesEveryDocumentWithAttributesAndOrderingKeys) {
  PubsubDriver driver(FastRetries());
  OpenAll(driver, config(),
          {{Resource(topic_, R"(,"identifier":"first","ordering_key":true)")},
           {Resource(topic_, R"(,"identifier":"second")")}});
  // 2,500 documents: more than two full requests of 1,000, spread over both bindings.
  std::vector<materialize::Request::Store> stores;
  std::map<std::string, materialize::Request::Store> sent;
  for (int i = 0; i < 2500; ++i) {
    const uint32_t binding = i % 5 == 0 ? 1 : 0;
    const std::string op = i % 7 == 0 ? "d" : i % 2 ? "u" : "c";
    stores.push_back(StoreOf(binding, i, StrCat("value ", i, " \"quoted\" ü"), op));
    sent[stores.back().doc_json()] = stores.back();
  }
  ASSERT_TRUE(Transaction(stores).ok());
  // A second transaction on the same transactor.
  ASSERT_TRUE(Transaction({StoreOf(0, 9999, "last")}).ok());
  sent[StoreOf(0, 9999, "last").doc_json()] = StoreOf(0, 9999, "last");

  PubsubClient client = Client();
  auto pulled = testing::PullAll(client, topic_ + "-sub", sent.size());
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  ASSERT_EQ(pulled->size(), sent.size());
  std::set<std::string> seen;
  for (const auto& message : *pulled) {
    auto it = sent.find(message.data);
    ASSERT_NE(it, sent.end()) << "unexpected message data: " << message.data;
    ASSERT_TRUE(seen.insert(message.data).second) << "published twice: " << message.data;
    const auto& store = it->second;
    const bool first = store.binding() == 0;
    EXPECT_EQ(Attribute(message, "identifier"), first ? "first" : "second");
    const std::string op = store.delete_()                                         ? "d"
                           : message.data.find(R"("op":"u")") != std::string::npos ? "u"
                                                                                   : "c";
    EXPECT_EQ(Attribute(message, "op"), op) << message.data;
    EXPECT_EQ(message.ordering_key, first ? OrderingKeyOf(store.key_packed()) : "");
  }
  EXPECT_EQ(OrderingKeyOf(StoreOf(0, 1, "").key_packed()).size(), 16u);
  EXPECT_EQ(OrderingKeyOf(StoreOf(0, 1, "").key_packed()),
            OrderingKeyOf(StoreOf(1, 1, "other").key_packed()));
}

// Documents of one key are published in order, even spread over many requests and lanes: a
// subscription with message ordering (the default one, as a binding asked for ordering keys)
// receives each key's versions in the order they were stored.
TEST_F(PubsubTest, OrderingKeysKeepEachKeysDocumentsInOrder) {
  PublisherOptions options = FastRetries();
  options.max_messages = 37;  // Many small requests over all four lanes.
  PubsubDriver driver(options);
  OpenAll(driver, config(), {{Resource(topic_, R"(,"ordering_key":true)")}});
  std::vector<materialize::Request::Store> stores;
  for (int i = 0; i < 3000; ++i) stores.push_back(StoreOf(0, i % 40, StrCat(i)));
  ASSERT_TRUE(Transaction(stores).ok());
  PubsubClient client = Client();
  auto sub = client.Call("GET", client.SubscriptionName(topic_ + "-sub"), "");
  ASSERT_TRUE(sub.ok());
  EXPECT_NE(sub->body.find(R"("enableMessageOrdering": true)"), std::string::npos) << sub->body;
  auto pulled = testing::PullAll(client, topic_ + "-sub", 3000);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  ASSERT_EQ(pulled->size(), 3000u);
  std::map<std::string, int> last;  // Ordering key -> last sequence seen.
  for (const auto& message : *pulled) {
    const size_t at = message.data.find(R"("v":")");
    ASSERT_NE(at, std::string::npos);
    const int sequence = std::stoi(message.data.substr(at + 5));
    auto [it, added] = last.emplace(message.ordering_key, sequence);
    if (!added) {
      EXPECT_GT(sequence, it->second) << "key " << message.ordering_key << " out of order";
      it->second = sequence;
    }
  }
  EXPECT_EQ(last.size(), 40u);
}

// The emulator turns away more than 1,000 messages in one request (and does not answer one of
// ~16 MB at all), so the connector must keep to the limits itself.
TEST_F(PubsubTest, KeepsToPubsubsRequestLimits) {
  PubsubClient client = Client();
  ASSERT_TRUE(client.CreateTopic(topic_).ok());
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 1001; ++i) StrAppend(&body, i ? "," : "", R"({"data":"eA=="})");
  body += "]}";
  auto over = client.Publish(topic_, body, 1001, absl::Seconds(30));
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument) << over;

  auto proxy = FaultProxy::Start(emulator_->port());
  ASSERT_TRUE(proxy.ok());
  PubsubDriver driver(FastRetries());
  OpenAll(driver, EmulatorConfig((*proxy)->host_port()), {{Resource(topic_)}});
  // 2,001 small documents, then 30 documents of 1 MB: counts and bytes both split requests.
  std::vector<materialize::Request::Store> small, large;
  for (int i = 0; i < 2001; ++i) small.push_back(StoreOf(0, i, "s"));
  for (int i = 0; i < 30; ++i) large.push_back(StoreOf(0, 10'000 + i, std::string(1 << 20, 'L')));
  ASSERT_TRUE(Transaction(small).ok());
  EXPECT_EQ((*proxy)->publish_requests(), 3);
  EXPECT_EQ((*proxy)->max_messages_per_publish(), 1000);
  ASSERT_TRUE(Transaction(large).ok());
  // 9 documents of 1 MB fit under 10,000,000 bytes: at least 4 requests for 30.
  EXPECT_GE((*proxy)->publish_requests(), 3 + 4);
  auto pulled = testing::PullAll(client, topic_ + "-sub", 2031);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  EXPECT_EQ(pulled->size(), 2031u);
}

TEST_F(PubsubTest, AnOversizedDocumentIsNamedWithItsKey) {
  PubsubDriver driver(FastRetries());
  OpenAll(driver, config(), {{Resource(topic_)}});
  // The emulator would take this message; real Pub/Sub would not.
  auto status =
      Transaction({StoreOf(0, 1, "fine"), StoreOf(0, 4242, std::string(10'000'000, 'x'))});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  const std::string message(status.message());
  EXPECT_NE(message.find("the document with key [4242] of collection acmeCo/things"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("limit of 10000000 bytes"), std::string::npos) << message;
}

TEST_F(PubsubTest, RetriesQuotaErrorsUnavailabilityTimeoutsAndDroppedConnections) {
  auto proxy = FaultProxy::Start(emulator_->port());
  ASSERT_TRUE(proxy.ok());
  PublisherOptions options = FastRetries();
  options.request_timeout = absl::Milliseconds(800);
  options.max_messages = 100;  // Several requests, so faults land on different ones.
  PubsubDriver driver(options);
  OpenAll(driver, EmulatorConfig((*proxy)->host_port()), {{Resource(topic_)}});
  (*proxy)->set_slow_delay(absl::Milliseconds(1500));
  using F = FaultProxy::Fault;
  for (F fault : {F::kTooManyRequests, F::kUnavailable, F::kDropBefore, F::kDropAfter, F::kSlow,
                  F::kTooManyRequests, F::kDropAfter}) {
    (*proxy)->Inject(fault);
  }
  std::vector<materialize::Request::Store> stores;
  for (int i = 0; i < 1000; ++i) stores.push_back(StoreOf(0, i, "v"));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Transaction(stores).ok());
  EXPECT_GE(absl::Now() - start, absl::Seconds(1)) << "Retry-After: 1 was honoured";
  EXPECT_EQ((*proxy)->faults_injected(), 7);

  // At least once: every document arrived; the dropped-after-publish requests (and the slow
  // one, published after the client gave up) arrive twice.
  PubsubClient client = Client();
  auto pulled = testing::PullAll(client, topic_ + "-sub", 1000 + 300);
  ASSERT_TRUE(pulled.ok()) << pulled.status();
  std::map<std::string, int> counts;
  for (const auto& message : *pulled) ++counts[message.data];
  EXPECT_EQ(counts.size(), 1000u) << "every document at least once";
  EXPECT_GE(pulled->size(), 1000u + 200u) << "the requests dropped after publishing repeat";
}

TEST_F(PubsubTest, PersistentQuotaExhaustionFailsTheTransactionWithAHint) {
  auto proxy = FaultProxy::Start(emulator_->port());
  ASSERT_TRUE(proxy.ok());
  PublisherOptions options = FastRetries();
  options.retry.max_attempts = 3;
  PubsubDriver driver(options);
  OpenAll(driver, EmulatorConfig((*proxy)->host_port()), {{Resource(topic_)}});
  (*proxy)->set_retry_after_seconds(0);
  (*proxy)->ExhaustQuota(true);
  auto status = Transaction({StoreOf(0, 1, "v")});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("raise the project's Pub/Sub quota"), absl::string_view::npos)
      << status;
  EXPECT_EQ((*proxy)->publish_requests(), 3);
}

TEST_F(PubsubTest, ATopicDeletedWhileRunningFailsTheCommit) {
  PubsubDriver driver(FastRetries());
  OpenAll(driver, config(), {{Resource(topic_)}});
  ASSERT_TRUE(Transaction({StoreOf(0, 1, "before")}).ok());
  PubsubClient client = Client();
  auto deleted = client.Call("DELETE", client.TopicName(topic_), "");
  ASSERT_TRUE(deleted.ok() && deleted->ok());
  auto status = Transaction({StoreOf(0, 2, "after")});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find(StrCat("publishing to projects/", kProject, "/topics/", topic_)),
            absl::string_view::npos)
      << status;
  EXPECT_NE(status.message().find("re-apply the materialization"), absl::string_view::npos);
}

TEST_F(PubsubTest, PermissionDeniedOnATopicNamesTheRoleToGrant) {
  auto proxy = FaultProxy::Start(emulator_->port());
  ASSERT_TRUE(proxy.ok());
  (*proxy)->DenyTopic(topic_);
  PubsubDriver driver;
  auto validated = driver.Validate(
      testing::ValidateRequest(EmulatorConfig((*proxy)->host_port()), {{Resource(topic_)}}), log_);
  ASSERT_FALSE(validated.ok());
  EXPECT_EQ(validated.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(validated.status().message().find("roles/pubsub.publisher"), absl::string_view::npos)
      << validated.status();
  EXPECT_NE(validated.status().message().find(topic_), absl::string_view::npos);
}

// The whole service-account flow: the connector signs a JWT with the key from its config,
// exchanges it at the key's token_uri (a server that checks the RS256 signature), and sends
// the token to the API (a proxy that accepts only tokens that server issued).
TEST_F(PubsubTest, ServiceAccountKeyAuthenticatesEveryRequest) {
  auto dir = harness::TempDir::Create("pubsub-sa-");
  ASSERT_TRUE(dir.ok());
  auto account = testing::TestServiceAccount::Generate(dir->path());
  ASSERT_TRUE(account.ok()) << account.status();
  auto tokens = testing::OAuthTokenServer::Start({.public_key_pem = account->public_key_pem,
                                                  .client_email = account->client_email,
                                                  .key_id = account->key_id,
                                                  .required_scope = kPubsubScope});
  ASSERT_TRUE(tokens.ok());
  auto proxy = FaultProxy::Start(emulator_->port());
  ASSERT_TRUE(proxy.ok());
  testing::OAuthTokenServer* server = tokens->get();
  (*proxy)->RequireBearer([server](const std::string& token) { return server->Valid(token); });

  auto config_with = [&](const std::string& key_json) {
    std::string escaped;
    json::AppendQuoted(key_json, &escaped);
    return StrCat(R"({"project_id":")", kProject,
                  R"(","credentials":{"auth_type":"Service","credentials_json":)", escaped,
                  R"(},"advanced":{"api_endpoint":")", (*proxy)->url(), R"("}})");
  };
  PubsubDriver driver(FastRetries());
  OpenAll(driver, config_with(account->KeyJson(server->token_url(), kProject)),
          {{Resource(topic_)}});
  ASSERT_TRUE(Transaction({StoreOf(0, 1, "authenticated")}).ok());
  EXPECT_GE(server->issued(), 1);
  EXPECT_EQ(server->rejected(), 0);
  EXPECT_EQ((*proxy)->unauthenticated(), 0);
  auto pulled = testing::PullAll(*std::make_unique<PubsubClient>(Client()), topic_ + "-sub", 1);
  ASSERT_TRUE(pulled.ok());
  ASSERT_EQ(pulled->size(), 1u);

  // Google OAuth (a refresh token) through the same token endpoint, named by token_uri.
  const std::string oauth_config =
      StrCat(R"({"project_id":")", kProject,
             R"(","credentials":{"auth_type":"Client","client_id":"test-client",)",
             R"("client_secret":"test-secret","refresh_token":"test-refresh-token"},)",
             R"("advanced":{"api_endpoint":")", (*proxy)->url(), R"(","token_uri":")",
             server->token_url(), R"("}})");
  const int issued = server->issued();
  auto validated =
      driver.Validate(testing::ValidateRequest(oauth_config, {{Resource(topic_)}}), log_);
  ASSERT_TRUE(validated.ok()) << validated.status();
  EXPECT_EQ(server->issued(), issued + 1);
  EXPECT_EQ((*proxy)->unauthenticated(), 0);

  // A key the endpoint does not know, and a file that is not a key.
  auto other = testing::TestServiceAccount::Generate(dir->Path(""));
  ASSERT_TRUE(other.ok());
  auto refused = driver.Validate(
      testing::ValidateRequest(config_with(other->KeyJson(server->token_url(), kProject)),
                               {{Resource(topic_)}}),
      log_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("Invalid JWT Signature"), absl::string_view::npos)
      << refused.status();
  auto garbage = driver.Validate(
      testing::ValidateRequest(config_with(R"({"type":"service_account","client_email":"x"})"),
                               {{Resource(topic_)}}),
      log_);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message(),
            "credentials.credentials_json lacks private_key; paste the service account's JSON "
            "key file unchanged");
}

}  // namespace
}  // namespace connectors::pubsub
