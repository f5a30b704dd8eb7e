// Batched, concurrent publishing with Pub/Sub's limits enforced here (the emulator does not
// answer an over-sized request at all, and the service rejects it):
//   * a request holds at most 1,000 messages and 10,000,000 bytes of messages (data,
//     attribute keys and values, ordering key);
//   * a message is at most 10,000,000 bytes (MessageBytes; Add refuses larger ones).
// Sealed batches go to `lanes` workers, each with its own connection and one request in
// flight. A message with an ordering key always goes to the lane its key hashes to, and a
// lane publishes its batches in order and retries a failing one before the next, so per-key
// order holds. Messages without a key go to the least busy lane.
//
// Memory is bounded: Add blocks while the chosen lane already has `queue_depth` batches
// waiting, so at most lanes * (queue_depth + 1) batches plus the open ones exist.
//
// Flush seals every open batch and returns once every message added so far is acknowledged by
// Pub/Sub, or with the first failure (retryable failures are retried with backoff first).
// After a failure the publisher stays failed: Add and Flush return that error.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "libs/auth/http/client.h"
#include "libs/connector/logging.h"
#include "materialize-google-pubsub/pubsub_client.h"

namespace connectors::pubsub {

inline constexpr size_t kMaxMessagesPerRequest = 1000;
inline constexpr size_t kMaxRequestBytes = 10'000'000;
inline constexpr size_t kMaxMessageBytes = 10'000'000;

struct PublisherOptions {
  int lanes = 4;
  int queue_depth = 2;
  size_t max_messages = kMaxMessagesPerRequest;
  size_t max_request_bytes = kMaxRequestBytes;
  absl::Duration request_timeout = absl::Seconds(120);
  http::RetryPolicy retry = DefaultPublishRetry();

  // Quota errors can last a while: up to 12 attempts over about four minutes.
  static http::RetryPolicy DefaultPublishRetry();
};

struct Message {
  std::string_view data;
  std::string_view identifier;    // "identifier" attribute when not empty.
  std::string_view op;            // "op" attribute when not empty.
  std::string_view ordering_key;  // Empty: none.
};

// What a message counts against Pub/Sub's size limits.
size_t MessageBytes(const Message& message);

struct PublisherStats {
  uint64_t messages = 0;  // Acknowledged by Pub/Sub.
  uint64_t requests = 0;
  uint64_t max_request_messages = 0;
  uint64_t max_request_bytes = 0;
};

class Publisher {
 public:
  Publisher(Endpoint endpoint, std::vector<std::string> topics, PublisherOptions options,
            const Logger& log);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Queues `message` for topics[topic]; it is copied. InvalidArgument if it is too large.
  absl::Status Add(size_t topic, const Message& message);
  absl::Status Flush();
  PublisherStats stats() const;

 private:
  struct Batch {
    size_t topic = 0;
    std::string body;
    size_t messages = 0;
    size_t bytes = 0;
  };
  struct Lane {
    std::deque<Batch> queue;
    bool busy = false;
  };

  // Moves `batch` to a lane's queue, waiting for room. Requires mu_ held through `lock`.
  void Seal(Batch& batch, int lane, std::unique_lock<std::mutex>& lock);
  int LeastBusyLane() const;
  void Work(int lane);

  const Endpoint endpoint_;
  const std::vector<std::string> topics_;
  const PublisherOptions options_;
  const Logger& log_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Lane> lanes_;
  // Open batches by (topic, lane); lane -1 holds messages without an ordering key.
  std::map<std::pair<size_t, int>, Batch> open_;
  absl::Status failure_;
  bool stopping_ = false;
  // Set with failure_ or stopping_: requests in flight stop retrying.
  std::atomic<bool> cancelled_ = false;
  PublisherStats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace connectors::pubsub
