#include "tests/runtime/connector.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "libs/base/strings.h"
#include "libs/connector/codec.h"
#include "libs/connector/message_kind.h"
#include "libs/json/parse.h"
#include "libs/process/subprocess.h"
#include "proto/capture.grpc.pb.h"
#include "proto/materialize.grpc.pb.h"

namespace connectors::local {
namespace {

using codec::Codec;

// Relays a connector's stderr, one log record per line, and remembers the last message: that
// is what a failing connector reports (FLOW_PROTOCOL.md section 1.7).
class LogRelay {
 public:
  LogRelay(int fd, std::string task, const Logger& log)
      : task_(std::move(task)), log_(log), thread_([this, fd] { Relay(fd); }) {}
  ~LogRelay() { Join(); }

  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string last_message() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_message_;
  }

 private:
  void Relay(int fd) {
    std::string pending;
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        Emit(pending.substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
    if (!pending.empty()) Emit(pending);
  }

  void Emit(const std::string& line) {
    if (line.empty()) return;
    LogLevel level = LogLevel::kWarn;
    std::string message = line;
    auto parsed = parser_.Parse(line);
    if (parsed.ok() && parsed->is_object()) {
      std::string_view text;
      if ((*parsed)["message"].get(text) == simdjson::SUCCESS ||
          (*parsed)["msg"].get(text) == simdjson::SUCCESS) {
        message = std::string(text);
      }
      std::string_view level_name;
      if ((*parsed)["level"].get(level_name) == simdjson::SUCCESS) {
        std::string lower(level_name);
        for (char& c : lower) c = static_cast<char>(std::tolower(c));
        if (auto l = ParseLogLevel(lower == "fatal" || lower == "panic" ? "error" : lower);
            l.ok()) {
          level = *l;
        }
      }
    }
    std::string fields;
    if (parsed.ok() && parsed->is_object()) {
      simdjson::dom::element object;
      if ((*parsed)["fields"].get(object) == simdjson::SUCCESS && object.is_object()) {
        fields = json::ToJson(object);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_message_ = message;
    }
    if (fields.empty()) {
      log_.Log(level, message, {LogField::Str("task", task_)});
    } else {
      log_.Log(level, message, {LogField::Str("task", task_), LogField::Json("connector", fields)});
    }
  }

  const std::string task_;
  const Logger& log_;
  json::Parser parser_;
  mutable std::mutex mu_;
  std::string last_message_;
  std::thread thread_;
};

std::string KindName(const google::protobuf::Message& m) {
  auto kind = runtime::SingleKind(m);
  return kind.ok() ? std::string(*kind) : std::string(MessageOf(kind.status()));
}

template <class Request, class Response>
class ProcessRpc final : public ConnectorRpc<Request, Response> {
 public:
  ProcessRpc(process::Subprocess child, Codec codec, std::string task, const Logger& log)
      : child_(std::move(child)),
        task_(task),
        writer_(child_.stdin_fd(), codec),
        reader_(child_.stdout_fd(), codec, codec::UnknownKeys::kReject),
        relay_(child_.stderr_fd(), std::move(task), log) {}

  absl::Status Send(const Request& request) override {
    absl::Status status = writer_.Write(request);
    if (status.ok()) status = writer_.Flush();
    if (status.ok()) return status;
    return Failure(StrCat("could not send ", KindName(request), " to the connector"));
  }

  absl::StatusOr<bool> Receive(Response* response) override {
    auto more = reader_.Next(response);
    if (!more.ok()) {
      return absl::FailedPreconditionError(
          StrCat("connector ", task_, " sent an invalid response: ", MessageOf(more.status())));
    }
    if (*more) {
      if (auto kind = runtime::SingleKind(*response); !kind.ok()) {
        return absl::FailedPreconditionError(
            StrCat("connector ", task_, " protocol error: ", MessageOf(kind.status())));
      }
    }
    return more;
  }

  void CloseSend() override { child_.CloseStdin(); }

  absl::Status Finish() override {
    child_.CloseStdin();
    auto code = child_.Wait();
    relay_.Join();
    if (!code.ok()) return code.status();
    if (*code == 0) return absl::OkStatus();
    return Failure(StrCat("exited with code ", *code));
  }

 private:
  absl::Status Failure(std::string_view what) {
    // The connector has usually exited already; its final log line explains why.
    if (child_.Wait(absl::Seconds(5)).ok()) relay_.Join();
    const std::string last = relay_.last_message();
    return absl::UnavailableError(
        StrCat("connector ", task_, " ", what, ": ",
               last.empty() ? "connector exited with no log output" : last));
  }

  process::Subprocess child_;
  std::string task_;
  codec::FrameWriter writer_;
  codec::FrameReader reader_;
  LogRelay relay_;
};

template <class Stub, class Request, class Response>
class GrpcRpc final : public ConnectorRpc<Request, Response> {
 public:
  GrpcRpc(const std::string& address, std::string task,
          std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> (Stub::*open)(
              grpc::ClientContext*))
      : task_(std::move(task)),
        stub_(Stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        stream_((stub_.*open)(&context_)) {}

  absl::Status Send(const Request& request) override {
    if (stream_->Write(request)) return absl::OkStatus();
    return Finish().ok() ? absl::UnavailableError(StrCat("connector ", task_, " closed its stream"))
                         : Finish();
  }
  absl::StatusOr<bool> Receive(Response* response) override {
    if (!stream_->Read(response)) return false;
    if (auto kind = runtime::SingleKind(*response); !kind.ok()) {
      return absl::FailedPreconditionError(
          StrCat("connector ", task_, " protocol error: ", MessageOf(kind.status())));
    }
    return true;
  }
  void CloseSend() override {
    if (!closed_) stream_->WritesDone();
    closed_ = true;
  }
  absl::Status Finish() override {
    if (finished_) return finish_status_;
    CloseSend();
    const grpc::Status status = stream_->Finish();
    finished_ = true;
    if (!status.ok()) {
      finish_status_ =
          absl::UnavailableError(StrCat("connector ", task_, " failed: ", status.error_message()));
    }
    return finish_status_;
  }

 private:
  std::string task_;
  grpc::ClientContext context_;
  Stub stub_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  bool closed_ = false;
  bool finished_ = false;
  absl::Status finish_status_;
};

// podman and the global flags this machine needs.
std::vector<std::string> PodmanCommand() {
  if (::access("/usr/sbin/runc", X_OK) != 0) return {"podman"};
  return {"podman", "--runtime=/usr/sbin/runc", "--cgroup-manager=cgroupfs"};
}

// The codec an image asks for, as connector-init decides it: the FLOW_RUNTIME_CODEC label,
// else the image's environment; "json" selects JSON and anything else proto.
absl::StatusOr<Codec> ImageCodec(const std::string& image) {
  process::SpawnOptions options;
  options.argv = PodmanCommand();
  options.argv.insert(options.argv.end(),
                      {"image", "inspect", "--format", "{{json .Config}}", image});
  auto child = process::Subprocess::Spawn(options);
  if (!child.ok()) return child.status();
  child->CloseStdin();
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(child->stdout_fd(), buf, sizeof(buf))) > 0;) out.append(buf, n);
  const std::string err = child->ReadAllStderr();
  auto code = child->Wait();
  if (!code.ok() || *code != 0) {
    return absl::NotFoundError(StrCat("cannot inspect image ", image, ": ", err));
  }
  json::Parser parser;
  auto config = parser.Parse(out);
  if (!config.ok()) return config.status();
  std::string_view label;
  if ((*config)["Labels"]["FLOW_RUNTIME_CODEC"].get(label) == simdjson::SUCCESS) {
    return label == "json" ? Codec::kJson : Codec::kProto;
  }
  simdjson::dom::array env;
  if ((*config)["Env"].get(env) == simdjson::SUCCESS) {
    for (auto entry : env) {
      std::string_view text;
      if (entry.get(text) == simdjson::SUCCESS && text == "FLOW_RUNTIME_CODEC=json") {
        return Codec::kJson;
      }
    }
  }
  return Codec::kProto;
}

absl::StatusOr<process::Subprocess> SpawnConnector(const Endpoint& endpoint, const Logger& log,
                                                   Codec* codec) {
  process::SpawnOptions options;
  options.env = endpoint.env;
  const std::string level = log.Enabled(LogLevel::kDebug) ? "debug" : "info";
  options.env.emplace("LOG_LEVEL", level);
  options.env.emplace("LOG_FORMAT", "json");
  if (endpoint.kind == Endpoint::Kind::kLocal) {
    options.argv = endpoint.command;
    *codec = endpoint.protobuf ? Codec::kProto : Codec::kJson;
    options.env["FLOW_RUNTIME_CODEC"] = std::string(codec::CodecName(*codec));
  } else {
    auto image_codec = ImageCodec(endpoint.image);
    if (!image_codec.ok()) return image_codec.status();
    *codec = *image_codec;
    // As Flow runs images: stdin/stdout attached, the codec from the image, the host's network
    // (so tests reach loopback services). Machines whose podman needs runc and cgroupfs get
    // them, as scripts get them from tools/podman/podman.sh.
    options.argv = PodmanCommand();
    options.argv.insert(options.argv.end(),
                        {"run", "--rm", "-i", "--network=host", "--log-driver=none", "-e",
                         StrCat("LOG_LEVEL=", level), "-e", "LOG_FORMAT=json"});
    for (const auto& [name, value] : endpoint.env) {
      options.argv.push_back("-e");
      options.argv.push_back(StrCat(name, "=", value));
    }
    options.argv.push_back(endpoint.image);
  }
  return process::Subprocess::Spawn(options);
}

template <class Request, class Response, class Stub>
absl::StatusOr<std::unique_ptr<ConnectorRpc<Request, Response>>> Start(
    const Endpoint& endpoint, const std::string& task, const Logger& log,
    std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> (Stub::*open)(
        grpc::ClientContext*)) {
  if (endpoint.kind == Endpoint::Kind::kGrpc) {
    return std::make_unique<GrpcRpc<Stub, Request, Response>>(endpoint.address, task, open);
  }
  Codec codec = Codec::kJson;
  auto child = SpawnConnector(endpoint, log, &codec);
  if (!child.ok()) {
    return absl::Status(child.status().code(), StrCat("cannot start connector of ", task, ": ",
                                                      MessageOf(child.status())));
  }
  return std::make_unique<ProcessRpc<Request, Response>>(std::move(*child), codec, task, log);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaptureRpc>> StartCaptureRpc(const Endpoint& endpoint,
                                                            const std::string& task,
                                                            const Logger& log) {
  return Start<capture::Request, capture::Response, capture::Connector::Stub>(
      endpoint, task, log, &capture::Connector::Stub::Capture);
}

absl::StatusOr<std::unique_ptr<MaterializeRpc>> StartMaterializeRpc(const Endpoint& endpoint,
                                                                    const std::string& task,
                                                                    const Logger& log) {
  return Start<materialize::Request, materialize::Response, materialize::Connector::Stub>(
      endpoint, task, log, &materialize::Connector::Stub::Materialize);
}

template <class Request, class Response>
absl::StatusOr<Response> Unary(ConnectorRpc<Request, Response>& rpc, const Request& request) {
  if (auto status = rpc.Send(request); !status.ok()) return status;
  rpc.CloseSend();
  Response response;
  auto more = rpc.Receive(&response);
  if (!more.ok()) return more.status();
  Response extra;
  auto again = *more ? rpc.Receive(&extra) : absl::StatusOr<bool>(false);
  if (auto status = rpc.Finish(); !status.ok()) return status;
  if (!*more) {
    return absl::FailedPreconditionError(
        StrCat("connector sent no response to ", KindName(request)));
  }
  if (!again.ok()) return again.status();
  if (*again) {
    return absl::FailedPreconditionError(
        StrCat("connector sent a second response (", KindName(extra), ") to ", KindName(request)));
  }
  return response;
}

template absl::StatusOr<capture::Response> Unary(CaptureRpc&, const capture::Request&);
template absl::StatusOr<materialize::Response> Unary(MaterializeRpc&, const materialize::Request&);

}  // namespace connectors::local
