// Connector images run the way Flow runs them: built on the base image with podman, started
// with `podman run -i`, spoken to in the codec their label names. When podman cannot run
// containers on this machine every test here is skipped with a loud message (and counted as
// skipped by ./scripts/test.sh), never silently passed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/connector/codec.h"
#include "libs/json/parse.h"
#include "libs/process/subprocess.h"
#include "proto/capture.grpc.pb.h"
#include "proto/capture.pb.h"
#include "proto/materialize.pb.h"
#include "tests/harness/http_file_server.h"
#include "tests/harness/postgres.h"

namespace connectors {
namespace {

namespace fs = std::filesystem;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion, feeding `input` to its stdin.
Output RunCommand(std::vector<std::string> argv, std::string_view input = "",
                  absl::Duration timeout = absl::Minutes(5)) {
  process::SpawnOptions options;
  options.argv = std::move(argv);
  auto child = process::Subprocess::Spawn(options);
  Output result;
  if (!child.ok()) {
    result.err = std::string(MessageOf(child.status()));
    return result;
  }
  if (!input.empty()) {
    [[maybe_unused]] ssize_t n = ::write(child->stdin_fd(), input.data(), input.size());
  }
  child->CloseStdin();
  char buf[65536];
  for (ssize_t n; (n = ::read(child->stdout_fd(), buf, sizeof(buf))) > 0;)
    result.out.append(buf, n);
  result.err = child->ReadAllStderr();
  auto code = child->Wait(timeout);
  result.code = code.ok() ? *code : -1;
  return result;
}

std::vector<std::string> Podman(std::vector<std::string> args) {
  std::vector<std::string> argv = {"podman"};
  if (::access("/usr/sbin/runc", X_OK) == 0) {
    argv.insert(argv.end(), {"--runtime=/usr/sbin/runc", "--cgroup-manager=cgroupfs"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string Runfile(const std::string& path) { return fs::absolute(path).string(); }

// Why podman cannot run containers here, or empty when it can.
std::string PodmanUnavailable() {
  Output version = RunCommand(Podman({"--version"}));
  if (version.code != 0) return "podman is not installed (" + version.err + ")";
  return "";
}

struct Connector {
  std::string name;
  std::string protocol;  // "capture" or "materialize".
};

class Images : public testing::TestWithParam<Connector> {
 protected:
  static void SetUpTestSuite() {
    ::setenv("CONTAINERS_CONF", Runfile("tools/podman/containers.conf").c_str(), 0);
    unavailable_ = PodmanUnavailable();
    if (!unavailable_.empty()) return;
    // Builds the base image unless the current one was made from today's packages.txt.
    Output base = RunCommand({Runfile("base-image/build.sh"), "--if-stale"}, "", absl::Minutes(10));
    if (base.code != 0) unavailable_ = "the base image could not be built: " + base.err;
  }

  void SetUp() override {
    if (!unavailable_.empty()) {
      std::cerr << "\n***** IMAGE TESTS SKIPPED: " << unavailable_ << " *****\n\n";
      GTEST_SKIP() << "IMAGE TESTS SKIPPED: " << unavailable_;
    }
    const std::string& connector = GetParam().name;
    image_ = "localhost/" + connector + ":test-" + std::to_string(::getpid());
    const fs::path context = fs::path(std::getenv("TEST_TMPDIR")) / ("ctx-" + connector);
    fs::create_directories(context);
    fs::copy_file(Runfile(connector + "/Dockerfile"), context / "Dockerfile",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(Runfile(connector + "/" + connector), context / connector,
                  fs::copy_options::overwrite_existing);
    std::ifstream version_file(Runfile(connector + "/VERSION"));
    std::getline(version_file, version_);
    Output build = RunCommand(Podman({"build", "--quiet", "--build-arg", "VERSION=" + version_,
                                      "-t", image_, context.string()}));
    ASSERT_EQ(build.code, 0) << build.err;
  }

  void TearDown() override {
    if (!image_.empty()) RunCommand(Podman({"rmi", "--force", image_}));
  }

  std::string Label(const std::string& name) {
    Output out = RunCommand(Podman(
        {"image", "inspect", "--format", "{{index .Config.Labels \"" + name + "\"}}", image_}));
    EXPECT_EQ(out.code, 0) << out.err;
    while (!out.out.empty() && out.out.back() == '\n') out.out.pop_back();
    return out.out;
  }

  // One unary RPC through `podman run -i`, in the codec the label names.
  template <class Request, class Response>
  Response UnaryRpc(const Request& request) {
    const codec::Codec codec = codec::CodecFromEnvironment(Label("FLOW_RUNTIME_CODEC").c_str());
    std::string input;
    codec::AppendFrame(codec, request, &input);
    Output out = RunCommand(Podman({"run", "--rm", "-i", "--network=host", image_}), input);
    EXPECT_EQ(out.code, 0) << out.err;
    int fd = memfd_create("out", 0);
    EXPECT_EQ(::write(fd, out.out.data(), out.out.size()), static_cast<ssize_t>(out.out.size()));
    ::lseek(fd, 0, SEEK_SET);
    codec::FrameReader reader(fd, codec, codec::UnknownKeys::kReject);
    Response response;
    auto more = reader.Next(&response);
    EXPECT_TRUE(more.ok() && *more) << (more.ok() ? "no response" : more.status().ToString());
    ::close(fd);
    return response;
  }

  static std::string unavailable_;
  std::string image_;
  std::string version_;
};

std::string Images::unavailable_;

TEST_P(Images, LabelsDeclareProtocolCodecAndVersion) {
  EXPECT_EQ(Label("FLOW_RUNTIME_PROTOCOL"), GetParam().protocol);
  const std::string codec = Label("FLOW_RUNTIME_CODEC");
  EXPECT_TRUE(codec == "json" || codec == "proto") << codec;
  EXPECT_EQ(Label("dev.estuary.version"), version_);
  Output size = RunCommand(Podman({"image", "inspect", "--format", "{{.Size}}", image_}));
  std::cerr << GetParam().name << " image size: " << std::stoll(size.out) / 1000000 << " MB\n";
  Output user = RunCommand(Podman({"image", "inspect", "--format", "{{.Config.User}}", image_}));
  EXPECT_EQ(user.out, "connector\n") << "connectors run as the non-root user";
}

TEST_P(Images, SpecAsFlowRunsThem) {
  const absl::Time start = absl::Now();
  uint32_t protocol = 0;
  if (GetParam().protocol == "capture") {
    capture::Request spec;
    spec.mutable_spec()->set_connector_type(flow::CaptureSpec::IMAGE);
    protocol = UnaryRpc<capture::Request, capture::Response>(spec).spec().protocol();
  } else {
    materialize::Request spec;
    spec.mutable_spec()->set_connector_type(flow::MaterializationSpec::IMAGE);
    protocol = UnaryRpc<materialize::Request, materialize::Response>(spec).spec().protocol();
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(protocol, 3032023u);
  std::cerr << GetParam().name << ": Spec through podman run took " << took << "\n";
  EXPECT_LT(took, absl::Seconds(5)) << "container start plus Spec";
}

// Captures discover what their source holds, reached through the container's network.
class CaptureImages : public Images {};
class HelloWorldImage : public Images {};

TEST_P(CaptureImages, DiscoverThroughTheContainerNetwork) {
  capture::Request discover;
  std::optional<harness::Postgres> postgres;
  std::optional<harness::HttpFileServer> http;
  if (GetParam().name == "source-postgres") {
    auto started = harness::Postgres::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    postgres = std::move(*started);
    ASSERT_TRUE(postgres->Exec("CREATE TABLE public.widgets (id INT PRIMARY KEY, name TEXT)").ok());
    discover.mutable_discover()->set_config_json(
        "{\"address\":\"127.0.0.1:" + std::to_string(postgres->port()) + "\",\"user\":\"" +
        postgres->user() + "\",\"password\":\"" + postgres->password() +
        "\",\"database\":\"postgres\"}");
  } else if (GetParam().name == "source-http-file") {
    auto started = harness::HttpFileServer::Start();
    ASSERT_TRUE(started.ok()) << started.status();
    http.emplace(std::move(*started));
    std::ofstream(fs::path(http->root()) / "widgets.csv") << "id,name\n1,sprocket\n";
    discover.mutable_discover()->set_config_json("{\"url\":\"" + http->url("widgets.csv") + "\"}");
  } else {
    discover.mutable_discover()->set_config_json("{}");
  }
  capture::Response response = UnaryRpc<capture::Request, capture::Response>(discover);
  ASSERT_GT(response.discovered().bindings_size(), 0);
  if (postgres.has_value()) {
    EXPECT_EQ(response.discovered().bindings(0).recommended_name(), "public/widgets");
  }
}

TEST_P(Images, BinaryInsideStartsFast) {
  // The connector alone, without the container start: --help exits at once.
  Output out =
      RunCommand(Podman({"run", "--rm", "--entrypoint", "/bin/sh", image_, "-c",
                         "start=$(date +%s%N); /connector/" + GetParam().name +
                             " --help >/dev/null; echo $(( ($(date +%s%N) - start) / 1000000 ))"}));
  ASSERT_EQ(out.code, 0) << out.err;
  const int ms = std::stoi(out.out);
  std::cerr << GetParam().name << " binary startup: " << ms << " ms\n";
  EXPECT_LT(ms, 1000);
  Output ldd = RunCommand(Podman(
      {"run", "--rm", "--entrypoint", "/usr/bin/ldd", image_, "/connector/" + GetParam().name}));
  EXPECT_EQ(ldd.out.find("not found"), std::string::npos) << ldd.out;
}

TEST_P(CaptureImages, ServesGrpcWhenAskedByEnvironment) {
  const std::string port = std::to_string(20000 + (::getpid() % 20000));
  Output started = RunCommand(Podman({"run", "-d", "--rm", "--network=host", "-e",
                                      "CONNECTOR_GRPC_LISTEN=127.0.0.1:" + port, image_}));
  ASSERT_EQ(started.code, 0) << started.err;
  std::string container = started.out.substr(0, started.out.find('\n'));
  auto channel = grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials());
  ASSERT_TRUE(
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)));
  auto stub = capture::Connector::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->Capture(&context);
  capture::Request request;
  request.mutable_spec();
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  capture::Response response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.spec().protocol(), 3032023u);
  EXPECT_TRUE(stream->Finish().ok());
  // SIGTERM reaches the connector even as PID 1 of its container, and it stops promptly.
  const absl::Time stopping = absl::Now();
  Output stopped = RunCommand(Podman({"stop", "--time", "20", container}));
  EXPECT_EQ(stopped.code, 0) << stopped.err;
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(5)) << "stopped by SIGTERM, not the timeout";
}

// flow-local reaches the image through a `connector: {image}` endpoint, as a catalog names it.
TEST_P(HelloWorldImage, CaptureThroughFlowLocal) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "flow-local";
  fs::create_directories(dir);
  std::ofstream(dir / "catalog.yaml") << "captures:\n  acmeCo/hello:\n    endpoint:\n"
                                         "      connector:\n        image: "
                                      << image_
                                      << "\n"
                                         "        config: {interval_ms: 1, stop_after: 3}\n"
                                         "    bindings:\n      - resource: {name: greetings}\n"
                                         "        target: acmeCo/greetings\n"
                                         "collections:\n  acmeCo/greetings:\n    key: [/id]\n"
                                         "    schema: {type: object, required: [id]}\n";
  Output out = RunCommand({Runfile(std::getenv("FLOW_LOCAL_BINARY")), "capture", "--task",
                           "acmeCo/hello", "--once", "--catalog", (dir / "catalog.yaml").string()});
  ASSERT_EQ(out.code, 0) << out.err;
  std::ifstream journal(dir / ".flow-local" / "collections" / "acmeCo%2Fgreetings.jsonl");
  std::stringstream text;
  text << journal.rdbuf();
  EXPECT_NE(text.str().find(R"("id":2,)"), std::string::npos) << text.str();
}

std::string TestName(const testing::TestParamInfo<Connector>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

const Connector kHelloWorld{"source-hello-world", "capture"};
const Connector kSourcePostgres{"source-postgres", "capture"};

const Connector kSourceHttpFile{"source-http-file", "capture"};

INSTANTIATE_TEST_SUITE_P(Connectors, Images,
                         testing::Values(kHelloWorld, kSourcePostgres, kSourceHttpFile,
                                         Connector{"materialize-postgres", "materialize"},
                                         Connector{"materialize-google-pubsub", "materialize"}),
                         TestName);
INSTANTIATE_TEST_SUITE_P(Captures, CaptureImages,
                         testing::Values(kHelloWorld, kSourcePostgres, kSourceHttpFile), TestName);
INSTANTIATE_TEST_SUITE_P(SelfContained, HelloWorldImage, testing::Values(kHelloWorld), TestName);

}  // namespace
}  // namespace connectors
