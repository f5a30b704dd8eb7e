#include "source-hello-world/hello_world.h"

#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"
#include "libs/schema-gen/schema.h"

namespace connectors::hello_world {
namespace {

// Checkpoints allowed in flight before the capture waits for the runtime to commit them.
constexpr uint64_t kMaxUnacknowledged = 64;

struct Config {
  std::string greeting = "Hello";
  int64_t interval_ms = 1000;
  int64_t stop_after = 0;    // Documents per binding before the session ends; 0 runs forever.
  int64_t distinct_ids = 0;  // Ids cycle through this many values; 0: every id is new.
};

std::string ConfigSchema() {
  using namespace schema;
  return Object("Hello World", "Emits a greeting document per binding at a fixed interval.")
      .Property("greeting", String("Greeting", "Text that starts every message.")
                                .Default("Hello")
                                .MinLength(1)
                                .Order(0))
      .Property("interval_ms", Integer("Interval (ms)", "Milliseconds between greetings.")
                                   .Minimum(0)
                                   .Default(1000)
                                   .Order(1))
      .Property("stop_after", Integer("Stop After",
                                      "End the session after this many greetings per binding "
                                      "(it resumes from its state when restarted). 0 runs "
                                      "forever.")
                                  .Minimum(0)
                                  .Default(0)
                                  .Order(2)
                                  .Advanced())
      .ToJson();
}

std::string ResourceSchema() {
  using namespace schema;
  return Object("Greetings", "A stream of greetings.")
      .Property("name", String("Name", "Name of the greeting stream.")
                            .Pattern("^[a-zA-Z0-9_-]+$")
                            .MinLength(1)
                            .Order(0))
      .Required({"name"})
      .ToJson();
}

constexpr std::string_view kDocumentSchema =
    R"({"type":"object","properties":{"id":{"type":"integer","description":"Sequence number of )"
    R"(the greeting within its stream."},"seq":{"type":"integer"},"message":{"type":"string"},)"
    R"("ts":{"type":"string",)"
    R"("format":"date-time"}},"required":["id","message","ts"]})";

// The runtime validated the config against ConfigSchema(), so present values have the right
// types; absent ones keep their defaults.
template <class T>
void ReadIfPresent(const simdjson::dom::element& root, const char* key, T* out) {
  T value;
  if (root[key].get(value) == simdjson::SUCCESS) *out = value;
}

absl::StatusOr<Config> ParseConfig(std::string_view config_json) {
  json::Parser parser;
  auto root = parser.Parse(config_json);
  if (!root.ok()) return root.status();
  Config config;
  std::string_view greeting = config.greeting;
  ReadIfPresent(*root, "greeting", &greeting);
  config.greeting = std::string(greeting);
  ReadIfPresent(*root, "interval_ms", &config.interval_ms);
  ReadIfPresent(*root, "stop_after", &config.stop_after);
  ReadIfPresent(*root, "distinct_ids", &config.distinct_ids);
  return config;
}

absl::StatusOr<std::string> ResourceName(std::string_view resource_config_json) {
  json::Parser parser;
  auto root = parser.Parse(resource_config_json);
  if (!root.ok()) return root.status();
  std::string_view name;
  if ((*root)["name"].get(name) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("resource config has no \"name\"");
  }
  return std::string(name);
}

struct Stream {
  std::string state_key;
  int64_t next_id = 0;
};

class HelloWorldCapture final : public runtime::Capture {
 public:
  HelloWorldCapture(Config config, std::vector<Stream> streams)
      : config_(std::move(config)), streams_(std::move(streams)) {}

  bool explicit_acknowledgements() const override { return true; }

  absl::Status Run(runtime::CaptureSession& session) override {
    int64_t emitted = 0;
    uint64_t checkpoints = 0;
    while (!session.stopping()) {
      for (uint32_t binding = 0; binding < streams_.size(); ++binding) {
        if (auto status = Emit(session, binding); !status.ok()) return status;
        ++checkpoints;
      }
      ++emitted;
      if (config_.stop_after > 0 && emitted >= config_.stop_after) return absl::OkStatus();
      // Bound what is in flight: never run far ahead of what the runtime has committed.
      while (checkpoints > session.acknowledged() + kMaxUnacknowledged &&
             !session.WaitForAcknowledged(checkpoints - kMaxUnacknowledged, absl::Seconds(1))) {
        if (session.stopping()) return absl::OkStatus();
      }
      if (session.WaitForStop(absl::Milliseconds(config_.interval_ms))) break;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Emit(runtime::CaptureSession& session, uint32_t binding) {
    Stream& stream = streams_[binding];
    std::string doc;
    json::Writer w(&doc);
    w.BeginObject();
    if (config_.distinct_ids > 0) {
      w.Key("id").Int(stream.next_id % config_.distinct_ids);
      w.Key("seq").Int(stream.next_id);
    } else {
      w.Key("id").Int(stream.next_id);
    }
    w.Key("message").String(StrCat(config_.greeting, " #", stream.next_id));
    w.Key("ts").String(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()));
    w.EndObject();
    if (auto status = session.output().Document(binding, doc); !status.ok()) return status;
    ++stream.next_id;

    std::string patch;
    json::Writer p(&patch);
    p.BeginObject().Key("bindingStateV1").BeginObject().Key(stream.state_key).BeginObject();
    p.Key("count").Int(stream.next_id);
    p.EndObject().EndObject().EndObject();
    return session.output().Checkpoint(patch);
  }

  Config config_;
  std::vector<Stream> streams_;
};

// Each binding's counter lives at /bindingStateV1/<state key>/count.
absl::StatusOr<std::vector<Stream>> LoadStreams(const ::capture::Request::Open& open) {
  json::Parser parser;
  const std::string& state_json = open.state_json().empty() ? "{}" : open.state_json();
  auto state = parser.Parse(state_json);
  if (!state.ok()) return state.status();
  std::vector<Stream> streams;
  for (const auto& binding : open.capture().bindings()) {
    Stream stream;
    stream.state_key = binding.state_key();
    if (stream.state_key.empty()) {
      auto name = ResourceName(binding.resource_config_json());
      if (!name.ok()) return name.status();
      stream.state_key = *name;
    }
    auto count = json::Lookup(*state, json::Pointer({"bindingStateV1", stream.state_key, "count"}));
    if (count.has_value() && count->get(stream.next_id) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          StrCat("state of binding \"", stream.state_key, "\" has a count that is not an integer"));
    }
    streams.push_back(std::move(stream));
  }
  return streams;
}

}  // namespace

::capture::Response::Spec HelloWorldDriver::Spec() const {
  ::capture::Response::Spec spec;
  spec.set_config_schema_json(ConfigSchema());
  spec.set_resource_config_schema_json(ResourceSchema());
  spec.set_documentation_url("https://go.estuary.dev/source-hello-world");
  spec.add_resource_path_pointers("/name");
  return spec;
}

absl::StatusOr<::capture::Response::Discovered> HelloWorldDriver::Discover(
    const ::capture::Request::Discover& request, const Logger& log) {
  ::capture::Response::Discovered discovered;
  auto* binding = discovered.add_bindings();
  binding->set_recommended_name("greetings");
  binding->set_resource_config_json(R"({"name":"greetings"})");
  binding->set_document_schema_json(std::string(kDocumentSchema));
  binding->add_key("/id");
  binding->add_resource_path("greetings");
  return discovered;
}

absl::StatusOr<::capture::Response::Validated> HelloWorldDriver::Validate(
    const ::capture::Request::Validate& request, const Logger& log) {
  ::capture::Response::Validated validated;
  std::set<std::string> seen;
  for (int i = 0; i < request.bindings_size(); ++i) {
    auto name = ResourceName(request.bindings(i).resource_config_json());
    if (!name.ok()) return name.status();
    if (!seen.insert(*name).second) {
      return absl::InvalidArgumentError(StrCat("bindings ", i,
                                               " and an earlier one both use name \"", *name,
                                               "\"; each greeting stream needs its own name"));
    }
    validated.add_bindings()->add_resource_path(*name);
  }
  return validated;
}

absl::StatusOr<::capture::Response::Applied> HelloWorldDriver::Apply(
    const ::capture::Request::Apply& request, const Logger& log) {
  return ::capture::Response::Applied();  // Nothing to set up at a source of greetings.
}

absl::StatusOr<std::unique_ptr<runtime::Capture>> HelloWorldDriver::Open(
    const ::capture::Request::Open& request, const Logger& log) {
  auto config = ParseConfig(request.capture().config_json());
  if (!config.ok()) return config.status();
  auto streams = LoadStreams(request);
  if (!streams.ok()) return streams.status();
  for (const Stream& stream : *streams) {
    log.Info("resuming greetings", {LogField::Str("stateKey", stream.state_key),
                                    LogField::Int("nextId", stream.next_id)});
  }
  return std::make_unique<HelloWorldCapture>(std::move(*config), std::move(*streams));
}

}  // namespace connectors::hello_world
