#include "libs/connector/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/connector/capture_loop.h"
#include "libs/connector/materialize_loop.h"
#include "proto/capture.grpc.pb.h"
#include "proto/materialize.grpc.pb.h"

namespace connectors::runtime {
namespace {

constexpr absl::Duration kDrainTimeout = absl::Seconds(30);

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
  // Waits until every session has ended, or `timeout`. True when none is left.
  bool WaitUntilEmpty(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mu_);
    while (!active_.empty() && absl::Now() < deadline) {
      lock.unlock();
      absl::SleepFor(absl::Milliseconds(20));
      lock.lock();
    }
    return active_.empty();
  }

 private:
  std::mutex mu_;
  std::set<StopSignal*> active_;
  bool stopping_ = false;
};

// One RPC served with gRPC's callback API, bridged to the blocking Stream interface the
// protocol loops use. The loop runs on a thread of its own; reads and writes are handed to the
// reactor one at a time. Unlike the synchronous API, the RPC can finish with a read still
// outstanding, so a session that ends on its own (a capture exiting after a checkpoint)
// returns OK rather than cancelling the call.
template <class Base, class Request, class Response>
class Session final : public Base, public grpc::ServerBidiReactor<Request, Response> {
 public:
  using Serve = std::function<absl::Status(Base& stream, StopSignal& stop)>;

  Session(Sessions& sessions, const Logger& log, Serve serve) : sessions_(sessions), log_(log) {
    sessions_.Add(&stop_);
    std::thread([this, serve = std::move(serve)] { Run(serve); }).detach();
  }

  // Stream, called from the session's thread.
  absl::StatusOr<bool> Read(Request* request, bool interruptible) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!read_in_flight_ && !read_done_ && !reads_cancelled_) {
      read_in_flight_ = true;
      this->StartRead(&incoming_);
    }
    while (true) {
      if (interruptible && stop_.stopped()) return absl::CancelledError("stop requested");
      if (has_incoming_) {
        request->Swap(&incoming_);
        has_incoming_ = false;
        return true;
      }
      if (read_done_ || reads_cancelled_) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(interruptible ? 50 : 1000));
    }
  }

  absl::Status Write(const Response& response) override {
    std::unique_lock<std::mutex> lock(mu_);
    outgoing_ = response;
    write_in_flight_ = true;
    this->StartWrite(&outgoing_);
    cv_.wait(lock, [this] { return !write_in_flight_; });
    if (write_ok_) return absl::OkStatus();
    return absl::UnavailableError("the gRPC client went away");
  }

  absl::Status Flush() override { return absl::OkStatus(); }

  void CancelReads() override {
    std::lock_guard<std::mutex> lock(mu_);
    reads_cancelled_ = true;
    cv_.notify_all();
  }

  // Reactor callbacks, on gRPC's threads; they never block.
  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    read_in_flight_ = false;
    if (ok) {
      has_incoming_ = true;
    } else {
      read_done_ = true;
    }
    cv_.notify_all();
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    write_ok_ = ok;
    cv_.notify_all();
  }
  void OnCancel() override {
    stop_.Stop();
    CancelReads();
  }
  void OnDone() override {
    std::unique_lock<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
    const bool finished = thread_finished_;
    lock.unlock();
    if (finished) delete this;
  }

 private:
  void Run(const Serve& serve) {
    const absl::Status status = serve(*this, stop_);
    sessions_.Remove(&stop_);
    grpc::Status result = grpc::Status::OK;
    if (!status.ok()) {
      log_.Error(MessageOf(status));
      result = grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                            std::string(MessageOf(status)));
    }
    this->Finish(result);
    // The reactor may be deleted once both OnDone has run and this thread is done with it.
    std::unique_lock<std::mutex> lock(mu_);
    thread_finished_ = true;
    const bool done = done_;
    lock.unlock();
    if (done) delete this;
  }

  Sessions& sessions_;
  const Logger& log_;
  StopSignal stop_;

  std::mutex mu_;
  std::condition_variable cv_;
  Request incoming_;
  bool has_incoming_ = false;
  bool read_in_flight_ = false;
  bool read_done_ = false;
  bool reads_cancelled_ = false;
  Response outgoing_;
  bool write_in_flight_ = false;
  bool write_ok_ = true;
  bool done_ = false;
  bool thread_finished_ = false;
};

using CaptureSession = Session<CaptureStream, ::capture::Request, ::capture::Response>;
using MaterializeSession =
    Session<MaterializeStream, ::materialize::Request, ::materialize::Response>;

class CaptureService final : public ::capture::Connector::CallbackService {
 public:
  CaptureService(CaptureDriver& driver, const ConfigCheck& configs, const Logger& log)
      : driver_(driver), configs_(configs), log_(log) {}

  grpc::ServerBidiReactor<::capture::Request, ::capture::Response>* Capture(
      grpc::CallbackServerContext*) override {
    return new CaptureSession(sessions, log_, [this](CaptureStream& stream, StopSignal& stop) {
      return ServeCapture(driver_, configs_, stream, stop, log_);
    });
  }

  Sessions sessions;

 private:
  CaptureDriver& driver_;
  const ConfigCheck& configs_;
  const Logger& log_;
};

class MaterializeService final : public ::materialize::Connector::CallbackService {
 public:
  MaterializeService(MaterializeDriver& driver, const ConfigCheck& configs, const Logger& log)
      : driver_(driver), configs_(configs), log_(log) {}

  grpc::ServerBidiReactor<::materialize::Request, ::materialize::Response>* Materialize(
      grpc::CallbackServerContext*) override {
    return new MaterializeSession(sessions, log_, [this](MaterializeStream& stream, StopSignal&) {
      return ServeMaterialize(driver_, configs_, stream, log_);
    });
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
  // Sessions finish their current unit of work; then idle client connections are cut at once
  // rather than waited on (a graceful shutdown would wait seconds for each idle channel).
  if (!sessions.WaitUntilEmpty(kDrainTimeout)) log.Warn("sessions still running; cancelling them");
  server->Shutdown(std::chrono::system_clock::now());
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
