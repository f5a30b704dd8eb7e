// Codec conformance: every frame vector of FLOW_PROTOCOL.md section 6.1, the JSON lines of
// sections 2.3 and 6.2, and malformed input of every kind.
#include "libs/connector/codec.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "proto/capture.pb.h"
#include "proto/materialize.pb.h"

namespace connectors::codec {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  std::string digits;
  for (char c : hex) {
    if (c != ' ') digits.push_back(c);
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ProtoFrame(const google::protobuf::Message& m) {
  std::string out;
  AppendFrame(Codec::kProto, m, &out);
  return Hex(out);
}

std::string JsonLine(const google::protobuf::Message& m) {
  std::string out;
  AppendFrame(Codec::kJson, m, &out);
  EXPECT_EQ(out.back(), '\n');
  out.pop_back();
  return out;
}

template <class M>
M FromJson(std::string json, UnknownKeys unknown = UnknownKeys::kIgnore) {
  M m;
  JsonMessageParser parser(unknown);
  auto status = parser.Parse(&json, &m);
  EXPECT_TRUE(status.ok()) << status;
  return m;
}

template <class M>
absl::Status JsonError(std::string json, UnknownKeys unknown = UnknownKeys::kIgnore) {
  M m;
  JsonMessageParser parser(unknown);
  return parser.Parse(&json, &m);
}

// A readable fd holding `bytes`, as stdin would.
int FdWith(std::string_view bytes) {
  int fd = memfd_create("input", 0);
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

TEST(ProtoFrames, CaptureVectors) {
  capture::Response opened;
  opened.mutable_opened()->set_explicit_acknowledgements(true);
  EXPECT_EQ(ProtoFrame(opened), "040000002a020801");

  capture::Response captured;
  captured.mutable_captured()->set_doc_json(R"({"a":1})");
  EXPECT_EQ(ProtoFrame(captured),
            "0b00000032091207"
            "7b2261223a317d");

  capture::Response checkpoint;
  checkpoint.mutable_checkpoint()->mutable_state()->set_updated_json(R"({"k":1})");
  checkpoint.mutable_checkpoint()->mutable_state()->set_merge_patch(true);
  EXPECT_EQ(ProtoFrame(checkpoint), "0f0000003a0d0a0b0a077b226b223a317d1001");

  capture::Request ack;
  ack.mutable_acknowledge()->set_checkpoints(1);
  EXPECT_EQ(ProtoFrame(ack), "0400000032020801");
  ack.mutable_acknowledge()->set_checkpoints(32);
  EXPECT_EQ(ProtoFrame(ack), "0400000032020820");

  capture::Request spec;
  spec.mutable_spec()->set_connector_type(flow::CaptureSpec::IMAGE);
  spec.mutable_spec()->set_config_json("{}");
  EXPECT_EQ(ProtoFrame(spec), "080000000a06080712027b7d");

  capture::Response spec_response;
  auto* s = spec_response.mutable_spec();
  s->set_protocol(3032023);
  s->set_config_schema_json("{}");
  s->set_resource_config_schema_json("{}");
  s->set_documentation_url("https://x");
  s->add_resource_path_pointers("/name");
  EXPECT_EQ(ProtoFrame(spec_response),
            "210000000a1f08d787b90112027b7d1a027b7d2209"
            "68747470733a2f2f783205"
            "2f6e616d65");
}

TEST(ProtoFrames, MaterializeVectors) {
  materialize::Request flush;
  flush.mutable_flush();
  EXPECT_EQ(ProtoFrame(flush), "020000003200");
  materialize::Request ack;
  ack.mutable_acknowledge();
  EXPECT_EQ(ProtoFrame(ack), "020000004a00");
  materialize::Request load;
  load.mutable_load()->set_binding(1);
  load.mutable_load()->set_key_packed(Unhex("02612d6b657900152a"));
  EXPECT_EQ(ProtoFrame(load), "0f0000002a0d08011a0902612d6b657900152a");

  materialize::Response r;
  r.mutable_opened();
  EXPECT_EQ(ProtoFrame(r), "020000002200");
  r.Clear();
  r.mutable_loaded()->set_binding(1);
  r.mutable_loaded()->set_doc_json(R"({"a":1})");
  EXPECT_EQ(ProtoFrame(r), "0d0000002a0b080112077b2261223a317d");
  r.Clear();
  r.mutable_flushed();
  EXPECT_EQ(ProtoFrame(r), "020000003200");
  r.Clear();
  r.mutable_started_commit();
  EXPECT_EQ(ProtoFrame(r), "020000003a00");
  r.Clear();
  r.mutable_acknowledged();
  EXPECT_EQ(ProtoFrame(r), "020000004200");
}

// The "rebuild from scratch" sentinel is an unknown field of consumer.Checkpoint: it must
// survive a parse and a re-serialisation byte for byte.
TEST(ProtoFrames, RuntimeCheckpointSentinelRoundTrips) {
  materialize::Response r;
  ASSERT_TRUE(
      r.mutable_opened()->mutable_runtime_checkpoint()->ParseFromString(Unhex("f8ffffff0f01")));
  EXPECT_EQ(ProtoFrame(r),
            "0a000000220"
            "80a06f8ffffff0f01");
}

TEST(ProtoFrames, InternalFieldVector) {
  flow::Projection projection;
  projection.set_field("Hi");
  projection.set_explicit_(true);
  capture::Response r;
  r.set_internal(projection.SerializeAsString());
  EXPECT_EQ(Hex(r.SerializeAsString()), "a20606120248691801");
}

TEST(CapturedFastPath, MatchesGeneralEncoding) {
  for (Codec codec : {Codec::kProto, Codec::kJson}) {
    for (uint32_t binding : {0u, 2u, 300u}) {
      const std::string doc = R"({"id":7,"message":"Hello \"world\""})";
      capture::Response r;
      r.mutable_captured()->set_binding(binding);
      r.mutable_captured()->set_doc_json(doc);
      std::string general, fast;
      AppendFrame(codec, r, &general);
      AppendCapturedFrame(codec, binding, doc, &fast);
      EXPECT_EQ(Hex(fast), Hex(general)) << CodecName(codec) << " binding " << binding;
    }
  }
  // Large documents need multi-byte length varints.
  const std::string big = "{\"s\":\"" + std::string(200000, 'x') + "\"}";
  capture::Response r;
  r.mutable_captured()->set_doc_json(big);
  std::string general, fast;
  AppendFrame(Codec::kProto, r, &general);
  AppendCapturedFrame(Codec::kProto, 0, big, &fast);
  EXPECT_EQ(fast, general);
}

// Connector responses of section 2.3: exact JSON text.
TEST(JsonLines, CaptureResponses) {
  const char* lines[] = {
      R"({"spec":{"protocol":3032023,"configSchema":{"config":"schema"},"resourceConfigSchema":{"resource":"schema"},"documentationUrl":"https://example/docs","resourcePathPointers":["/stream"]}})",
      R"({"discovered":{"bindings":[{"recommendedName":"recommended name","resourceConfig":{"resource":1234},"documentSchema":{"doc":"schema"},"key":["/key/ptr"],"disable":true,"resourcePath":["1234"]}]}})",
      R"({"validated":{"bindings":[{"resourcePath":["some","path"]}]}})",
      R"({"applied":{"actionDescription":"I did some stuff"}})",
      R"({"opened":{"explicitAcknowledgements":true}})",
      R"({"captured":{"binding":2,"doc":{"captured":"doc"}}})",
      R"({"sourcedSchema":{"binding":3,"documentSchema":{"format":"date-time","type":"string"}}})",
      R"({"checkpoint":{"state":{"updated":{"state":"update"},"mergePatch":true}}})",
  };
  for (const char* line : lines) {
    EXPECT_EQ(JsonLine(FromJson<capture::Response>(line, UnknownKeys::kReject)), line);
  }
}

TEST(JsonLines, MaterializeMessages) {
  const char* responses[] = {
      R"({"opened":{}})",
      R"({"acknowledged":{}})",
      R"({"loaded":{"binding":4,"doc":{"loaded":"doc"}}})",
      R"({"flushed":{}})",
      R"({"startedCommit":{"state":{"updated":{"state":"update"},"mergePatch":true}}})",
      R"({"validated":{"bindings":[{"constraints":{"opt_field":{"type":"FIELD_OPTIONAL","reason":"is optional"},"req_field":{"type":"FIELD_REQUIRED","reason":"is required"}},"resourcePath":["some","path"],"deltaUpdates":true}]}})",
  };
  for (const char* line : responses) {
    EXPECT_EQ(JsonLine(FromJson<materialize::Response>(line, UnknownKeys::kReject)), line);
  }
  const char* requests[] = {
      R"({"spec":{"connectorType":"IMAGE","config":{"spec":"config"}}})",
      R"({"acknowledge":{}})",
      R"({"load":{"binding":12,"key":[42,"hi"],"keyPacked":"VkseCQ=="}})",
      R"({"flush":{}})",
      R"({"store":{"binding":3,"key":[true,null],"keyPacked":"WhUA","values":[3.14159,"field!"],"valuesPacked":"PFs=","doc":{"full":"document"},"exists":true,"delete":true}})",
      R"({"startCommit":{"runtimeCheckpoint":{"sources":{"a/read/journal;suffix":{"readThrough":"12345","producers":[{"id":"AwkIBQc=","state":{"lastAck":"8675","begin":"1111"}},{"id":"BwxmKx0=","state":{"lastAck":"309","begin":"2222"}}]}},"ackIntents":{"an/ack/journal":"AwQCBQ=="}}}})",
  };
  for (const char* line : requests) {
    EXPECT_EQ(JsonLine(FromJson<materialize::Request>(line, UnknownKeys::kReject)), line);
  }
}

TEST(JsonLines, DecodedValuesAreTyped) {
  auto commit = FromJson<materialize::Request>(
      R"({"startCommit":{"runtimeCheckpoint":{"sources":{"j;s":{"readThrough":12345,"producers":[{"id":"AwkIBQc=","state":{"lastAck":"18446744073709551615","begin":"-5"}}]}}}}})");
  const auto& source = commit.start_commit().runtime_checkpoint().sources().at("j;s");
  EXPECT_EQ(source.read_through(), 12345);
  EXPECT_EQ(Hex(source.producers(0).id()), "0309080507");
  EXPECT_EQ(source.producers(0).state().last_ack(), 18446744073709551615ull);
  EXPECT_EQ(source.producers(0).state().begin(), -5);

  auto load =
      FromJson<materialize::Request>(R"({"load":{"binding":1,"keyPacked":"AmEta2V5AA=="}})");
  EXPECT_EQ(ProtoFrame(load), "0d0000002a0b08011a0702612d6b657900");

  // Proto field names are accepted on input, as the runtime accepts them.
  auto sourced = FromJson<capture::Response>(
      R"({"sourced_schema":{"binding":1,"schema_json":{"type":"object"}}})");
  EXPECT_EQ(sourced.sourced_schema().schema_json(), R"({"type":"object"})");
}

TEST(JsonLines, CaptureTranscriptOfSection62) {
  auto open = FromJson<capture::Request>(
      R"({"open":{"capture":{"name":"acmeCo/hello","connectorType":"IMAGE","config":{"rate":1},"bindings":[{"resourceConfig":{"name":"greetings"},"resourcePath":["greetings"],"collection":{"name":"acmeCo/greetings","key":["/id"],"uuidPtr":"/_meta/uuid","writeSchema":{"type":"object"}},"stateKey":"greetings"}],"intervalSeconds":300},"version":"0011223344556677","range":{"keyEnd":4294967295,"rClockEnd":4294967295},"state":{}}})");
  const auto& capture = open.open().capture();
  EXPECT_EQ(capture.name(), "acmeCo/hello");
  EXPECT_EQ(capture.connector_type(), flow::CaptureSpec::IMAGE);
  EXPECT_EQ(capture.config_json(), R"({"rate":1})");
  EXPECT_EQ(capture.bindings(0).collection().write_schema_json(), R"({"type":"object"})");
  EXPECT_EQ(capture.bindings(0).state_key(), "greetings");
  EXPECT_EQ(capture.interval_seconds(), 300u);
  EXPECT_EQ(open.open().range().key_end(), 0xFFFFFFFFu);
  EXPECT_EQ(open.open().state_json(), "{}");

  capture::Response captured;
  captured.mutable_captured()->set_doc_json(R"({"id":0,"message":"Hello 0"})");
  EXPECT_EQ(JsonLine(captured), R"({"captured":{"doc":{"id":0,"message":"Hello 0"}}})");
}

TEST(JsonLines, RawFieldsKeepTheirExactText) {
  auto r = FromJson<capture::Request>(R"({"spec":{"config":{ "b" : 1.50,"a":[1e3, "x\ny"] }}})");
  EXPECT_EQ(r.spec().config_json(), R"({ "b" : 1.50,"a":[1e3, "x\ny"] })");
  r = FromJson<capture::Request>(R"({"spec":{"config":"just a string"  }})");
  EXPECT_EQ(r.spec().config_json(), R"("just a string")");
  r = FromJson<capture::Request>(R"({"spec":{"config":12.5}})");
  EXPECT_EQ(r.spec().config_json(), "12.5");
  r = FromJson<capture::Request>(R"({"spec":{"config":null}})");
  EXPECT_EQ(r.spec().config_json(), "null");
}

TEST(JsonLines, EnumsTimestampsAndDurations) {
  materialize::Response validated;
  auto* binding = validated.mutable_validated()->add_bindings();
  (*binding->mutable_constraints())["f"].set_type(
      materialize::Response::Validated::Constraint::INCOMPATIBLE);
  const std::string line = JsonLine(validated);
  EXPECT_EQ(line, R"({"validated":{"bindings":[{"constraints":{"f":{"type":"UNSATISFIABLE"}}}]}})");
  EXPECT_EQ(
      FromJson<materialize::Response>(line).validated().bindings(0).constraints().at("f").type(),
      materialize::Response::Validated::Constraint::INCOMPATIBLE);
  EXPECT_EQ(FromJson<capture::Request>(R"({"spec":{"connectorType":7}})").spec().connector_type(),
            flow::CaptureSpec::IMAGE);

  auto flush = FromJson<materialize::Request>(
      R"({"flush":{"backfillCompletes":[{"binding":2,"timestamp":"2023-11-14T22:21:40.123+00:00"}]}})");
  EXPECT_EQ(flush.flush().backfill_completes(0).timestamp().seconds(), 1700000500);
  EXPECT_EQ(flush.flush().backfill_completes(0).timestamp().nanos(), 123000000);
  EXPECT_EQ(
      JsonLine(flush),
      R"({"flush":{"backfillCompletes":[{"binding":2,"timestamp":"2023-11-14T22:21:40.123Z"}]}})");

  flow::CaptureSpec spec;
  spec.mutable_shard_template()->mutable_max_txn_duration()->set_seconds(62);
  spec.mutable_shard_template()->mutable_max_txn_duration()->set_nanos(250000000);
  EXPECT_EQ(JsonLine(spec), R"({"shardTemplate":{"maxTxnDuration":"62.25s"}})");
  EXPECT_EQ(FromJson<flow::CaptureSpec>(R"({"shardTemplate":{"maxTxnDuration":"300s"}})")
                .shard_template()
                .max_txn_duration()
                .seconds(),
            300);
}

TEST(JsonLines, UnknownKeys) {
  EXPECT_TRUE(
      JsonError<capture::Request>(R"({"acknowledge":{"checkpoints":1,"statePatches":[]}})").ok());
  EXPECT_TRUE(JsonError<capture::Request>(R"({"someNewKind":{"x":{"y":[1,2]}}})").ok());
  auto status = JsonError<capture::Response>(R"({"opened":{"bogus":true}})", UnknownKeys::kReject);
  EXPECT_EQ(status.message(), R"(unknown field "bogus" in capture.Response.Opened)");
}

TEST(JsonLines, MalformedInputNamesTheProblem) {
  auto status = JsonError<capture::Request>(R"({"acknowledge":{"checkpoints":"many"}})");
  EXPECT_EQ(
      status.message(),
      R"(field capture.Request.Acknowledge.checkpoints: "many" is not a valid unsigned 32-bit integer)");
  status = JsonError<capture::Request>(R"({"acknowledge":{"checkpoints":true}})");
  EXPECT_EQ(status.message(),
            "field capture.Request.Acknowledge.checkpoints: expected integer, got boolean");
  status = JsonError<capture::Request>(R"({"acknowledge":{"checkpoints":4294967296}})");
  EXPECT_FALSE(status.ok());
  status = JsonError<capture::Request>(R"({"acknowledge":{"checkpoints":null}})");
  EXPECT_EQ(status.message(),
            "field capture.Request.Acknowledge.checkpoints: null is not allowed; omit the field");
  status = JsonError<capture::Request>(R"({"acknowledge":[]})");
  EXPECT_EQ(status.message(), "field capture.Request.acknowledge: expected object, got array");
  status = JsonError<capture::Request>(R"({"acknowledge":{}} trailing)");
  EXPECT_FALSE(status.ok());
  status = JsonError<capture::Request>(R"({"acknowledge":)");
  EXPECT_FALSE(status.ok());
  status = JsonError<capture::Request>(R"([1,2])");
  EXPECT_FALSE(status.ok());
  status = JsonError<materialize::Request>(R"({"load":{"keyPacked":"not base64!"}})");
  EXPECT_EQ(status.message(), "field materialize.Request.Load.key_packed: invalid base64");
  status = JsonError<materialize::Request>(R"({"spec":{"connectorType":"NOPE"}})");
  EXPECT_EQ(status.message(),
            R"(field materialize.Request.Spec.connector_type: unknown enum value "NOPE")");
  status = JsonError<materialize::Request>(
      R"({"flush":{"backfillBegins":[{"timestamp":"yesterday"}]}})");
  EXPECT_FALSE(status.ok());
}

TEST(FrameReader, ReadsProtoFramesBackToBack) {
  std::string input;
  capture::Request ack;
  for (uint32_t i = 1; i <= 3; ++i) {
    ack.mutable_acknowledge()->set_checkpoints(i);
    AppendFrame(Codec::kProto, ack, &input);
  }
  int fd = FdWith(input);
  FrameReader reader(fd, Codec::kProto, UnknownKeys::kIgnore);
  for (uint32_t i = 1; i <= 3; ++i) {
    auto more = reader.Next(&ack);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(ack.acknowledge().checkpoints(), i);
  }
  auto end = reader.Next(&ack);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  ::close(fd);
}

TEST(FrameReader, RejectsMalformedProtoFrames) {
  struct Case {
    std::string input;
    std::string error;
  } cases[] = {
      {Unhex("0400"), "input ended inside a frame's 4-byte length (2 bytes)"},
      {Unhex("0a000000 3202"), "input ended inside a frame: expected 10 bytes, got 2"},
      {Unhex("ffffff7f"), "frame length 2147483647 exceeds the maximum of 1024 bytes"},
      {Unhex("03000000 32ffff"), "malformed protobuf frame of 3 bytes for capture.Request"},
  };
  for (const auto& c : cases) {
    int fd = FdWith(c.input);
    FrameReader reader(fd, Codec::kProto, UnknownKeys::kIgnore, 1024);
    capture::Request r;
    auto result = reader.Next(&r);
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.status().message(), c.error);
    ::close(fd);
  }
}

TEST(FrameReader, ReadsJsonLines) {
  int fd = FdWith("{\"acknowledge\":{\"checkpoints\":2}}\n\n{\"acknowledge\":{}}\n");
  FrameReader reader(fd, Codec::kJson, UnknownKeys::kIgnore);
  capture::Request r;
  ASSERT_TRUE(*reader.Next(&r));
  EXPECT_EQ(r.acknowledge().checkpoints(), 2u);
  ASSERT_TRUE(*reader.Next(&r));
  EXPECT_TRUE(r.has_acknowledge());
  EXPECT_FALSE(*reader.Next(&r));
  ::close(fd);
}

TEST(FrameReader, RejectsMalformedJsonLines) {
  struct Case {
    std::string input;
    std::string error;
  } cases[] = {
      {"{\"acknowledge\":{}}",
       "input ended inside a JSON message (18 bytes without a terminating newline)"},
      {"{\"acknowledge\":{\n", ""},
      {"not json\n", ""},
      {std::string(2000, ' ') + "x", "JSON message line exceeds the maximum of 1024 bytes"},
  };
  for (const auto& c : cases) {
    int fd = FdWith(c.input);
    FrameReader reader(fd, Codec::kJson, UnknownKeys::kIgnore, 1024);
    capture::Request r;
    auto result = reader.Next(&r);
    EXPECT_FALSE(result.ok()) << c.input;
    if (!c.error.empty()) EXPECT_EQ(result.status().message(), c.error);
    ::close(fd);
  }
}

TEST(FrameReader, InterruptFdCancelsAWaitingRead) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int interrupt[2];
  ASSERT_EQ(::pipe(interrupt), 0);
  ASSERT_EQ(::write(interrupt[1], "x", 1), 1);
  FrameReader reader(fds[0], Codec::kJson, UnknownKeys::kIgnore);
  capture::Request r;
  auto result = reader.Next(&r, interrupt[0]);
  EXPECT_TRUE(absl::IsCancelled(result.status()));
  for (int fd : {fds[0], fds[1], interrupt[0], interrupt[1]}) ::close(fd);
}

}  // namespace
}  // namespace connectors::codec
