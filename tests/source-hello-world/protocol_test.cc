// Runs the built source-hello-world binary as Flow's connector-init would: a fresh process per
// RPC, requests on stdin, responses on stdout, logs on stderr. Every RPC kind is driven in
// both codecs, and a whole session over gRPC with a real gRPC client.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "libs/connector/codec.h"
#include "libs/process/subprocess.h"
#include "proto/capture.grpc.pb.h"
#include "proto/capture.pb.h"

namespace connectors {
namespace {

using codec::Codec;
using process::Subprocess;

std::string BinaryPath() {
  const char* path = std::getenv("HELLO_WORLD_BINARY");
  return path != nullptr ? path : "source-hello-world/source-hello-world";
}

// One connector process speaking `codec` on its stdio.
class Connector {
 public:
  explicit Connector(Codec codec, std::vector<std::string> extra_args = {})
      : codec_(codec),
        process_(Start(codec, std::move(extra_args))),
        writer_(process_.stdin_fd(), codec),
        reader_(process_.stdout_fd(), codec, codec::UnknownKeys::kReject) {}

  void Send(const capture::Request& request) {
    ASSERT_TRUE(writer_.Write(request).ok());
    ASSERT_TRUE(writer_.Flush().ok());
  }
  // The next response, or nullopt at the end of output.
  std::optional<capture::Response> Receive() {
    capture::Response response;
    auto more = reader_.Next(&response);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) return std::nullopt;
    return response;
  }
  void CloseInput() { process_.CloseStdin(); }
  Subprocess& process() { return process_; }

  // Closes input, waits for exit, and returns {exit code, stderr}.
  std::pair<int, std::string> Finish() {
    process_.CloseStdin();
    std::string logs = process_.ReadAllStderr();
    auto code = process_.Wait(absl::Seconds(20));
    EXPECT_TRUE(code.ok()) << code.status();
    return {code.ok() ? *code : -1, logs};
  }

 private:
  static Subprocess Start(Codec codec, std::vector<std::string> extra_args) {
    process::SpawnOptions options;
    options.argv = {BinaryPath()};
    for (auto& arg : extra_args) options.argv.push_back(std::move(arg));
    options.env["FLOW_RUNTIME_CODEC"] = std::string(codec::CodecName(codec));
    options.env["LOG_LEVEL"] = "debug";
    auto process = Subprocess::Spawn(options);
    EXPECT_TRUE(process.ok()) << process.status();
    return std::move(*process);
  }

  Codec codec_;
  Subprocess process_;
  codec::FrameWriter writer_;
  codec::FrameReader reader_;
};

std::string LastLine(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  return trimmed.substr(trimmed.rfind('\n') + 1);
}

capture::Request OpenRequest(std::string config, std::string state) {
  capture::Request request;
  auto* open = request.mutable_open();
  auto* capture = open->mutable_capture();
  capture->set_name("acmeCo/hello");
  capture->set_connector_type(flow::CaptureSpec::IMAGE);
  capture->set_config_json(std::move(config));
  for (const char* name : {"greetings", "salutations"}) {
    auto* binding = capture->add_bindings();
    binding->set_resource_config_json(std::string(R"({"name":")") + name + "\"}");
    binding->add_resource_path(name);
    binding->set_state_key(name);
    binding->mutable_collection()->set_name(std::string("acmeCo/") + name);
    binding->mutable_collection()->add_key("/id");
  }
  open->mutable_range()->set_key_end(0xFFFFFFFF);
  open->mutable_range()->set_r_clock_end(0xFFFFFFFF);
  open->set_state_json(std::move(state));
  return request;
}

class HelloWorldProtocol : public testing::TestWithParam<Codec> {};

TEST_P(HelloWorldProtocol, Spec) {
  Connector connector(GetParam());
  capture::Request request;
  request.mutable_spec()->set_connector_type(flow::CaptureSpec::IMAGE);
  request.mutable_spec()->set_config_json("{}");
  connector.Send(request);
  auto response = connector.Receive();
  ASSERT_TRUE(response.has_value());
  ASSERT_TRUE(response->has_spec());
  EXPECT_EQ(response->spec().protocol(), 3032023u);
  EXPECT_NE(response->spec().config_schema_json().find(R"("greeting")"), std::string::npos);
  EXPECT_EQ(response->spec().resource_path_pointers(0), "/name");
  EXPECT_FALSE(connector.Receive().has_value());
  EXPECT_EQ(connector.Finish().first, 0);
}

TEST_P(HelloWorldProtocol, DiscoverValidateApply) {
  {
    Connector connector(GetParam());
    capture::Request request;
    request.mutable_discover()->set_config_json(R"({"greeting":"Hi"})");
    connector.Send(request);
    auto response = connector.Receive();
    ASSERT_TRUE(response.has_value() && response->has_discovered());
    ASSERT_EQ(response->discovered().bindings_size(), 1);
    const auto& binding = response->discovered().bindings(0);
    EXPECT_EQ(binding.recommended_name(), "greetings");
    EXPECT_EQ(binding.key(0), "/id");
    EXPECT_EQ(binding.resource_config_json(), R"({"name":"greetings"})");
    EXPECT_EQ(connector.Finish().first, 0);
  }
  {
    Connector connector(GetParam());
    capture::Request request;
    auto* validate = request.mutable_validate();
    validate->set_name("acmeCo/hello");
    validate->set_config_json("{}");
    validate->add_bindings()->set_resource_config_json(R"({"name":"a"})");
    validate->add_bindings()->set_resource_config_json(R"({"name":"b"})");
    connector.Send(request);
    auto response = connector.Receive();
    ASSERT_TRUE(response.has_value() && response->has_validated());
    ASSERT_EQ(response->validated().bindings_size(), 2);
    EXPECT_EQ(response->validated().bindings(1).resource_path(0), "b");
    EXPECT_EQ(connector.Finish().first, 0);
  }
  {
    Connector connector(GetParam());
    capture::Request request = OpenRequest("{}", "");
    capture::Request apply;
    *apply.mutable_apply()->mutable_capture() = request.open().capture();
    apply.mutable_apply()->set_version("v1");
    connector.Send(apply);
    auto response = connector.Receive();
    ASSERT_TRUE(response.has_value() && response->has_applied());
    EXPECT_EQ(connector.Finish().first, 0);
  }
}

TEST_P(HelloWorldProtocol, SessionResumesFromStateAndHonoursAcknowledgements) {
  Connector connector(GetParam());
  connector.Send(OpenRequest(R"({"interval_ms":1,"stop_after":3})",
                             R"({"bindingStateV1":{"greetings":{"count":5}}})"));
  auto opened = connector.Receive();
  ASSERT_TRUE(opened.has_value() && opened->has_opened());
  EXPECT_TRUE(opened->opened().explicit_acknowledgements());

  std::vector<std::pair<uint32_t, std::string>> documents;
  int checkpoints = 0;
  while (auto response = connector.Receive()) {
    if (response->has_captured()) {
      documents.emplace_back(response->captured().binding(), response->captured().doc_json());
      continue;
    }
    ASSERT_TRUE(response->has_checkpoint());
    ++checkpoints;
    capture::Request ack;
    ack.mutable_acknowledge()->set_checkpoints(1);
    connector.Send(ack);
  }
  // Three rounds over two bindings, one checkpoint per document.
  ASSERT_EQ(documents.size(), 6u);
  EXPECT_EQ(checkpoints, 6);
  for (size_t i = 0; i < documents.size(); ++i) {
    const auto& [binding, doc] = documents[i];
    EXPECT_EQ(binding, i % 2);
    // "greetings" resumes at 5; "salutations" has no state and starts at 0.
    const int id = static_cast<int>(i / 2) + (binding == 0 ? 5 : 0);
    EXPECT_EQ(doc.find(R"({"id":)" + std::to_string(id) + R"(,"message":"Hello #)" +
                       std::to_string(id) + "\""),
              0u)
        << doc;
  }
  EXPECT_EQ(connector.Finish().first, 0);
}

TEST_P(HelloWorldProtocol, StopSignalEndsTheSessionAfterACheckpoint) {
  Connector connector(GetParam());
  connector.Send(OpenRequest(R"({"interval_ms":20})", "{}"));
  ASSERT_TRUE(connector.Receive().has_value());
  std::optional<capture::Response> last;
  for (int i = 0; i < 4; ++i) last = connector.Receive();
  ASSERT_TRUE(connector.process().Signal(SIGTERM).ok());
  while (auto response = connector.Receive()) last = response;
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(last->has_checkpoint()) << "the last response must close its documents";
  auto [code, logs] = connector.Finish();
  EXPECT_EQ(code, 0) << logs;
}

TEST_P(HelloWorldProtocol, InvalidConfigFailsWithAnErrorNamingTheField) {
  Connector connector(GetParam());
  connector.Send(OpenRequest(R"({"interval_ms":-5,"greeting":""})", "{}"));
  EXPECT_FALSE(connector.Receive().has_value());
  auto [code, logs] = connector.Finish();
  EXPECT_EQ(code, 1);
  const std::string last = LastLine(logs);
  EXPECT_NE(last.find(R"("level":"error")"), std::string::npos) << last;
  EXPECT_NE(last.find("endpoint config is invalid: /greeting: "), std::string::npos) << last;
  EXPECT_NE(last.find("/interval_ms: must be >= 0, got -5"), std::string::npos) << last;
}

TEST_P(HelloWorldProtocol, BadResourceConfigNamesTheBinding) {
  Connector connector(GetParam());
  capture::Request request;
  auto* validate = request.mutable_validate();
  validate->set_config_json("{}");
  validate->add_bindings()->set_resource_config_json(R"({"name":"ok"})");
  validate->add_bindings()->set_resource_config_json(R"({"name":"not ok!"})");
  connector.Send(request);
  EXPECT_FALSE(connector.Receive().has_value());
  auto [code, logs] = connector.Finish();
  EXPECT_EQ(code, 1);
  EXPECT_NE(LastLine(logs).find("resource config of binding 1 is invalid: /name"),
            std::string::npos)
      << logs;
}

TEST_P(HelloWorldProtocol, AcknowledgingMoreThanWasCheckpointedIsAProtocolError) {
  Connector connector(GetParam());
  connector.Send(OpenRequest(R"({"interval_ms":100000})", "{}"));
  ASSERT_TRUE(connector.Receive().has_value());  // Opened
  ASSERT_TRUE(connector.Receive().has_value());  // Document of binding 0
  capture::Request ack;
  ack.mutable_acknowledge()->set_checkpoints(5);
  connector.Send(ack);
  while (connector.Receive().has_value()) {
  }
  auto [code, logs] = connector.Finish();
  EXPECT_EQ(code, 1);
  EXPECT_NE(LastLine(logs).find("Acknowledge of 5 checkpoints"), std::string::npos) << logs;
}

INSTANTIATE_TEST_SUITE_P(Codecs, HelloWorldProtocol, testing::Values(Codec::kJson, Codec::kProto),
                         [](const auto& info) {
                           return std::string(codec::CodecName(info.param));
                         });

// Malformed input of each codec ends the process with an error line, never a crash.
TEST(HelloWorldMalformedInput, EndsWithAClearError) {
  struct Case {
    Codec codec;
    std::string input;
    std::string error;
  } cases[] = {
      {Codec::kJson, "{\"spec\":\n", "invalid JSON"},
      {Codec::kJson, "{\"spec\":{},\"open\":{}}\n", R"(sets both \"spec\" and \"open\")"},
      {Codec::kJson, "{}\n", "is empty: no kind is set"},
      {Codec::kJson, "{\"acknowledge\":{\"checkpoints\":\"x\"}}\n", "checkpoints"},
      {Codec::kJson, "{\"acknowledge\":{}}\n", "expected Spec, Discover, Validate, Apply or Open"},
      {Codec::kProto, std::string("\x05\x00\x00\x00\x0a", 5), "input ended inside a frame"},
      {Codec::kProto, std::string("\xff\xff\xff\x7f", 4), "exceeds the maximum"},
      {Codec::kProto, std::string("\x02\x00", 2), "4-byte length"},
      {Codec::kProto, std::string("\x04\x00\x00\x00\x0a\x00\x2a\x00", 8), "sets both"},
  };
  for (const auto& c : cases) {
    Connector connector(c.codec);
    ASSERT_EQ(::write(connector.process().stdin_fd(), c.input.data(), c.input.size()),
              static_cast<ssize_t>(c.input.size()));
    auto [code, logs] = connector.Finish();
    EXPECT_EQ(code, 1) << c.input;
    EXPECT_NE(LastLine(logs).find(c.error), std::string::npos) << c.error << " in: " << logs;
  }
}

// The same driver served over gRPC, with a real gRPC client.
class GrpcServer {
 public:
  GrpcServer() {
    process::SpawnOptions options;
    options.argv = {BinaryPath(), "--grpc-listen=127.0.0.1:0", "--log-level=info"};
    auto process = Subprocess::Spawn(options);
    EXPECT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    // The "serving gRPC" log line carries the port the server picked.
    std::string logs;
    char c;
    while (address_.empty() && ::read(process_.stderr_fd(), &c, 1) == 1) {
      logs.push_back(c);
      const auto at = logs.find(R"("address":")");
      if (c == '\n' && at != std::string::npos) {
        const auto begin = at + 11;
        address_ = logs.substr(begin, logs.find('"', begin) - begin);
      }
    }
  }
  const std::string& address() const { return address_; }
  Subprocess& process() { return process_; }

 private:
  Subprocess process_ = std::move(*Subprocess::Spawn({{"true"}}));
  std::string address_;
};

TEST(HelloWorldGrpc, SpecAndSessionOverGrpc) {
  GrpcServer server;
  ASSERT_FALSE(server.address().empty());
  {  // The client's channel closes before the server is stopped.
    auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
    auto stub = capture::Connector::NewStub(channel);

    {
      grpc::ClientContext context;
      auto stream = stub->Capture(&context);
      capture::Request request;
      request.mutable_spec();
      ASSERT_TRUE(stream->Write(request));
      stream->WritesDone();
      capture::Response response;
      ASSERT_TRUE(stream->Read(&response));
      EXPECT_EQ(response.spec().protocol(), 3032023u);
      EXPECT_FALSE(stream->Read(&response));
      EXPECT_TRUE(stream->Finish().ok());
    }
    {
      grpc::ClientContext context;
      auto stream = stub->Capture(&context);
      ASSERT_TRUE(stream->Write(OpenRequest(R"({"interval_ms":1})", "{}")));
      capture::Response response;
      ASSERT_TRUE(stream->Read(&response));
      ASSERT_TRUE(response.has_opened());
      int documents = 0;
      for (int checkpoints = 0; checkpoints < 6;) {
        ASSERT_TRUE(stream->Read(&response));
        if (response.has_captured()) {
          ++documents;
        } else {
          ASSERT_TRUE(response.has_checkpoint());
          ++checkpoints;
          capture::Request ack;
          ack.mutable_acknowledge()->set_checkpoints(1);
          ASSERT_TRUE(stream->Write(ack));
        }
      }
      EXPECT_EQ(documents, 6);
      // Closing our side ends the session; the server finishes its unit of work.
      stream->WritesDone();
      while (stream->Read(&response)) {
      }
      const grpc::Status status = stream->Finish();
      EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    }
  }
  {  // A session that ends on its own (stop_after) finishes with OK, not a cancellation.
    auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
    auto stub = capture::Connector::NewStub(channel);
    grpc::ClientContext context;
    auto stream = stub->Capture(&context);
    ASSERT_TRUE(stream->Write(OpenRequest(R"({"interval_ms":1,"stop_after":2})", "{}")));
    capture::Response response;
    int checkpoints = 0;
    while (stream->Read(&response)) {
      if (!response.has_checkpoint()) continue;
      ++checkpoints;
      capture::Request ack;
      ack.mutable_acknowledge()->set_checkpoints(1);
      stream->Write(ack);
    }
    EXPECT_EQ(checkpoints, 4);
    const grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  }
  ASSERT_TRUE(server.process().Signal(SIGTERM).ok());
  auto code = server.process().Wait(absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace connectors
