#include "materialize-google-pubsub/publisher.h"

#include <algorithm>
#include <functional>

#include "libs/auth/jwt.h"
#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors::pubsub {
namespace {

constexpr std::string_view kIdentifierAttribute = "identifier";
constexpr std::string_view kOpAttribute = "op";

void AppendMessage(const Message& message, std::string* body) {
  body->reserve(body->size() + auth::Base64Length(message.data.size()) + 64 +
                message.identifier.size() + message.ordering_key.size());
  body->append(R"({"data":")");
  auth::AppendBase64(message.data, body);
  body->push_back('"');
  if (!message.identifier.empty() || !message.op.empty()) {
    body->append(R"(,"attributes":{)");
    bool first = true;
    for (const auto& [key, value] : {std::pair{kIdentifierAttribute, message.identifier},
                                     std::pair{kOpAttribute, message.op}}) {
      if (value.empty()) continue;
      if (!first) body->push_back(',');
      first = false;
      json::AppendQuoted(key, body);
      body->push_back(':');
      json::AppendQuoted(value, body);
    }
    body->push_back('}');
  }
  if (!message.ordering_key.empty()) {
    body->append(R"(,"orderingKey":)");
    json::AppendQuoted(message.ordering_key, body);
  }
  body->push_back('}');
}

}  // namespace

http::RetryPolicy PublisherOptions::DefaultPublishRetry() {
  http::RetryPolicy policy;
  policy.max_attempts = 12;
  policy.initial_backoff = absl::Milliseconds(250);
  policy.max_backoff = absl::Seconds(60);
  return policy;
}

size_t MessageBytes(const Message& message) {
  size_t bytes = message.data.size() + message.ordering_key.size();
  if (!message.identifier.empty()) bytes += kIdentifierAttribute.size() + message.identifier.size();
  if (!message.op.empty()) bytes += kOpAttribute.size() + message.op.size();
  return bytes;
}

Publisher::Publisher(Endpoint endpoint, std::vector<std::string> topics, PublisherOptions options,
                     const Logger& log)
    : endpoint_(std::move(endpoint)),
      topics_(std::move(topics)),
      options_(std::move(options)),
      log_(log),
      lanes_(std::max(1, options_.lanes)) {
  for (int lane = 0; lane < static_cast<int>(lanes_.size()); ++lane) {
    workers_.emplace_back([this, lane] { Work(lane); });
  }
}

Publisher::~Publisher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cancelled_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
}

absl::Status Publisher::Add(size_t topic, const Message& message) {
  const size_t bytes = MessageBytes(message);
  if (bytes > kMaxMessageBytes) {
    return absl::InvalidArgumentError(StrCat(
        "a message of ", bytes, " bytes is over Pub/Sub's limit of ", kMaxMessageBytes, " bytes"));
  }
  const int lane =
      message.ordering_key.empty()
          ? -1
          : static_cast<int>(std::hash<std::string_view>{}(message.ordering_key) % lanes_.size());
  Batch& batch = open_[{topic, lane}];
  batch.topic = topic;
  if (batch.messages > 0 && (batch.messages + 1 > options_.max_messages ||
                             batch.bytes + bytes > options_.max_request_bytes)) {
    std::unique_lock lock(mu_);
    Seal(batch, lane >= 0 ? lane : LeastBusyLane(), lock);
  }
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
  }
  batch.body.append(batch.messages == 0 ? R"({"messages":[)" : ",");
  AppendMessage(message, &batch.body);
  ++batch.messages;
  batch.bytes += bytes;
  return absl::OkStatus();
}

void Publisher::Seal(Batch& batch, int lane, std::unique_lock<std::mutex>& lock) {
  batch.body.append("]}");
  changed_.wait(lock, [&] {
    return !failure_.ok() ||
           lanes_[lane].queue.size() < static_cast<size_t>(std::max(1, options_.queue_depth));
  });
  if (failure_.ok()) {
    lanes_[lane].queue.push_back(std::move(batch));
    changed_.notify_all();
  }
  const size_t topic = batch.topic;
  batch = Batch{};
  batch.topic = topic;
}

int Publisher::LeastBusyLane() const {
  int best = 0;
  size_t best_load = SIZE_MAX;
  for (int i = 0; i < static_cast<int>(lanes_.size()); ++i) {
    const size_t load = lanes_[i].queue.size() + (lanes_[i].busy ? 1 : 0);
    if (load < best_load) best = i, best_load = load;
  }
  return best;
}

absl::Status Publisher::Flush() {
  std::unique_lock lock(mu_);
  for (auto& [key, batch] : open_) {
    if (batch.messages > 0) Seal(batch, key.second >= 0 ? key.second : LeastBusyLane(), lock);
  }
  changed_.wait(lock, [&] {
    if (!failure_.ok()) return true;
    return std::all_of(lanes_.begin(), lanes_.end(),
                       [](const Lane& lane) { return lane.queue.empty() && !lane.busy; });
  });
  return failure_;
}

PublisherStats Publisher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Publisher::Work(int lane) {
  std::string topic;  // Of the batch in flight, for retry logs.
  http::RetryPolicy retry = options_.retry;
  retry.on_retry = [this, &topic, lane](int attempt, std::string_view why, absl::Duration wait) {
    log_.Warn("retrying a Pub/Sub publish request",
              {LogField::Str("topic", topic), LogField::Int("lane", lane),
               LogField::Int("attempt", attempt), LogField::Str("reason", why),
               LogField::Int("wait_ms", absl::ToInt64Milliseconds(wait))});
  };
  retry.cancelled = &cancelled_;
  PubsubClient client(endpoint_, retry);
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !lanes_[lane].queue.empty(); });
    if (lanes_[lane].queue.empty()) return;  // Stopping with nothing left.
    Batch batch = std::move(lanes_[lane].queue.front());
    lanes_[lane].queue.pop_front();
    if (!failure_.ok()) {
      changed_.notify_all();
      continue;  // The transaction failed already: drop what is left.
    }
    lanes_[lane].busy = true;
    lock.unlock();
    topic = topics_[batch.topic];
    const absl::Status status =
        client.Publish(topic, batch.body, batch.messages, options_.request_timeout);
    lock.lock();
    lanes_[lane].busy = false;
    if (status.ok()) {
      stats_.messages += batch.messages;
      ++stats_.requests;
      stats_.max_request_messages = std::max<uint64_t>(stats_.max_request_messages, batch.messages);
      stats_.max_request_bytes = std::max<uint64_t>(stats_.max_request_bytes, batch.bytes);
    } else if (failure_.ok()) {
      failure_ = status;
      cancelled_ = true;
    }
    changed_.notify_all();
  }
}

}  // namespace connectors::pubsub
