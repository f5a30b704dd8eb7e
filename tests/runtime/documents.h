// What the runtime does to every captured document before it enters a collection: checks it is
// a JSON object valid against the collection's write schema (formats such as date-time
// included), stamps a time-ordered /_meta/uuid as Flow does, and extracts its packed key.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/json/parse.h"
#include "libs/schema-gen/validator.h"
#include "proto/flow.pb.h"

namespace connectors::local {

struct CollectionDocument {
  std::string doc_json;    // With /_meta/uuid.
  std::string key_packed;  // FoundationDB tuple of the collection key.
  bool is_delete = false;  // /_meta/op is "d".
};

// Time-based (version 1) UUIDs whose timestamps never go backwards within a process.
class UuidClock {
 public:
  UuidClock();
  std::string Next();

 private:
  uint64_t node_;
  std::atomic<uint64_t> last_ticks_{0};
};

class DocumentChecker {
 public:
  static absl::StatusOr<DocumentChecker> Create(const flow::CollectionSpec& collection);

  absl::StatusOr<CollectionDocument> Check(std::string_view doc_json, UuidClock& uuids);

 private:
  DocumentChecker(std::string collection, std::vector<std::string> key, schema::Validator v)
      : collection_(std::move(collection)), key_(std::move(key)), validator_(std::move(v)) {}

  std::string collection_;
  std::vector<std::string> key_;
  schema::Validator validator_;
  json::Parser parser_;
};

// The packed key of a document for key pointers `key` (missing locations pack as null).
absl::StatusOr<std::string> PackKey(const simdjson::dom::element& doc,
                                    const std::vector<std::string>& key);

}  // namespace connectors::local
