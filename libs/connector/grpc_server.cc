#include "libs/connector/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <set>

#include "libs/base/strings.h"
#include "libs/connector/capture_loop.h"
#include "libs/connector/materialize_loop.h"
#include "proto/capture.grpc.pb.h"
#include "proto/materialize.grpc.pb.h"

namespace connectors::runtime {
namespace {

constexpr absl::Duration kDrainTimeout = absl::Seconds(30);

template <class Base, class Request, class Response>
class GrpcStream : public Base {
 public:
  GrpcStream(grpc::ServerContext* context, grpc::ServerReaderWriter<Response, Request>* stream,
             const StopSignal& stop)
      : context_(context), stream_(stream), stop_(stop) {}

  absl::StatusOr<bool> Read(Request* request, bool interruptible) override {
    if (interruptible && stop_.stopped()) return absl::CancelledError("stop requested");
    return stream_->Read(request);
  }
  absl::Status Write(const Response& response) override {
    if (stream_->Write(response)) return absl::OkStatus();
    return absl::UnavailableError("the gRPC client went away");
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  // A sync gRPC handler may not return while another thread is blocked in Read.
  void CancelReads() override { context_->TryCancel(); }

 private:
  grpc::ServerContext* context_;
  grpc::ServerReaderWriter<Response, Request>* stream_;
  const StopSignal& stop_;
};

using GrpcCaptureStream = GrpcStream<CaptureStream, ::capture::Request, ::capture::Response>;
using GrpcMaterializeStream =
    GrpcStream<MaterializeStream, ::materialize::Request, ::materialize::Response>;

// Stop signals of the sessions in flight, so a process stop reaches each of them.
class Sessions {
 public:
  void Add(StopSignal* stop) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) stop->Stop();
    active_.insert(stop);
  }
  void Remove(StopSignal* stop) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(stop);
  }
  void StopAll() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (StopSignal* stop : active_) stop->Stop();
  }

 private:
  std::mutex mu_;
  std::set<StopSignal*> active_;
  bool stopping_ = false;
};

grpc::Status ToGrpc(const absl::Status& status, const Logger& log) {
  if (status.ok()) return grpc::Status::OK;
  log.Error(MessageOf(status));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(MessageOf(status)));
}

// Runs one session with its own stop signal registered in `sessions`.
template <class Stream, class Serve>
grpc::Status RunSession(Sessions& sessions, const Logger& log, Serve serve, auto* context,
                        auto* rw) {
  StopSignal stop;
  sessions.Add(&stop);
  Stream stream(context, rw, stop);
  absl::Status status = serve(stream, stop);
  sessions.Remove(&stop);
  return ToGrpc(status, log);
}

class CaptureService final : public ::capture::Connector::Service {
 public:
  CaptureService(CaptureDriver& driver, const ConfigCheck& configs, const Logger& log)
      : driver_(driver), configs_(configs), log_(log) {}

  grpc::Status Capture(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<::capture::Response, ::capture::Request>* rw) override {
    return RunSession<GrpcCaptureStream>(
        sessions, log_,
        [&](GrpcCaptureStream& stream, StopSignal& stop) {
          return ServeCapture(driver_, configs_, stream, stop, log_);
        },
        context, rw);
  }

  Sessions sessions;

 private:
  CaptureDriver& driver_;
  const ConfigCheck& configs_;
  const Logger& log_;
};

class MaterializeService final : public ::materialize::Connector::Service {
 public:
  MaterializeService(MaterializeDriver& driver, const ConfigCheck& configs, const Logger& log)
      : driver_(driver), configs_(configs), log_(log) {}

  grpc::Status Materialize(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<::materialize::Response, ::materialize::Request>* rw) override {
    return RunSession<GrpcMaterializeStream>(
        sessions, log_,
        [&](GrpcMaterializeStream& stream, StopSignal&) {
          return ServeMaterialize(driver_, configs_, stream, log_);
        },
        context, rw);
  }

  Sessions sessions;

 private:
  MaterializeDriver& driver_;
  const ConfigCheck& configs_;
  const Logger& log_;
};

absl::Status Serve(const std::string& address, grpc::Service& service, Sessions& sessions,
                   StopSignal& stop, const Logger& log) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  // connector-init lifts message size limits; documents may be up to 16 MB and more.
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  // Pollers notice shutdown at their next timeout; the default makes a stop take seconds.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 100);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        StrCat("cannot listen for gRPC on \"", address, "\" (expected HOST:PORT)"));
  }
  const std::string host = address.substr(0, address.rfind(':'));
  log.Info("serving gRPC", {LogField::Str("address", StrCat(host, ":", port))});
  while (!stop.WaitFor(absl::Hours(1))) {
  }
  log.Info("stopping gRPC server; draining sessions");
  sessions.StopAll();
  server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(kDrainTimeout));
  server->Wait();
  return absl::OkStatus();
}

}  // namespace

absl::Status ServeCaptureGrpc(const std::string& address, CaptureDriver& driver,
                              const ConfigCheck& configs, StopSignal& stop, const Logger& log) {
  CaptureService service(driver, configs, log);
  return Serve(address, service, service.sessions, stop, log);
}

absl::Status ServeMaterializeGrpc(const std::string& address, MaterializeDriver& driver,
                                  const ConfigCheck& configs, StopSignal& stop, const Logger& log) {
  MaterializeService service(driver, configs, log);
  return Serve(address, service, service.sessions, stop, log);
}

}  // namespace connectors::runtime
