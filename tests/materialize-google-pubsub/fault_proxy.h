// An HTTP proxy in front of the Pub/Sub emulator that injects failures, for retry tests. It
// listens on 127.0.0.1 at a kernel-chosen port in a thread of the test and forwards every
// request to the emulator, except that queued faults apply to the next publish requests:
//   kTooManyRequests  answers 429 RESOURCE_EXHAUSTED with Retry-After (quota exceeded);
//   kUnavailable      answers 503 UNAVAILABLE;
//   kSlow             waits `slow_delay` before forwarding (a client timeout then retries);
//   kDropBefore       closes the connection mid-answer without forwarding;
//   kDropAfter        forwards (the messages are published), then closes mid-answer: the
//                     client cannot know, retries, and the messages exist twice.
// Faults can also be permanent for one topic (403 PERMISSION_DENIED, 429 forever), and every
// request can be required to carry a bearer token that a predicate accepts (else 401).
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::testing {

class FaultProxy {
 public:
  enum class Fault { kTooManyRequests, kUnavailable, kSlow, kDropBefore, kDropAfter };

  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(int upstream_port);
  ~FaultProxy();

  std::string url() const;        // http://127.0.0.1:PORT
  std::string host_port() const;  // 127.0.0.1:PORT

  // Queues `fault` for the next `count` publish requests.
  void Inject(Fault fault, int count = 1);
  void set_slow_delay(absl::Duration delay) { slow_delay_ = delay; }
  void set_retry_after_seconds(int seconds) { retry_after_seconds_ = seconds; }
  // Every request naming this topic is answered 403 PERMISSION_DENIED.
  void DenyTopic(std::string topic);
  // Every publish is answered 429 from now on.
  void ExhaustQuota(bool on) { quota_exhausted_ = on; }
  // Requests whose bearer token `valid` rejects are answered 401 UNAUTHENTICATED.
  void RequireBearer(std::function<bool(const std::string&)> valid);

  int publish_requests() const { return publish_requests_.load(); }
  int faults_injected() const { return faults_injected_.load(); }
  int unauthenticated() const { return unauthenticated_.load(); }
  // Most messages seen in one publish request (forwarded or not).
  int max_messages_per_publish() const { return max_messages_.load(); }

 private:
  struct Impl;
  FaultProxy();
  std::unique_ptr<Impl> impl_;
  std::atomic<int> publish_requests_ = 0;
  std::atomic<int> faults_injected_ = 0;
  std::atomic<int> unauthenticated_ = 0;
  std::atomic<int> max_messages_ = 0;
  std::atomic<bool> quota_exhausted_ = false;
  std::atomic<int> retry_after_seconds_ = 1;
  absl::Duration slow_delay_ = absl::Seconds(2);
};

}  // namespace connectors::testing
