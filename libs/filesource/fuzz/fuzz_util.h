// Shared by the filesource fuzz targets: splitting an input into a chunk size and a payload,
// and collecting documents, so each target can check that chunking never changes the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "libs/filesource/document.h"

namespace connectors::filesource::fuzz {

struct Input {
  uint8_t selector = 0;  // Target-specific choices.
  size_t chunk = 1;      // 1..16 bytes per chunk, to exercise every boundary.
  std::string payload;
};

inline Input Split(const uint8_t* data, size_t size) {
  Input in;
  if (size >= 1) in.selector = data[0];
  if (size >= 2) in.chunk = 1 + data[1] % 16;
  if (size > 2) in.payload.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  return in;
}

class CollectSink final : public RecordSink {
 public:
  absl::Status Record(uint64_t offset, std::string_view doc) override {
    if (offset != docs.size()) std::abort();  // Offsets are dense and ordered.
    docs.emplace_back(doc);
    return absl::OkStatus();
  }
  std::vector<std::string> docs;
};

// The same documents and status whatever the chunking, or abort (a finding).
inline void ExpectSame(const absl::Status& a, const std::vector<std::string>& docs_a,
                       const absl::Status& b, const std::vector<std::string>& docs_b) {
  if (a.code() != b.code() || a.message() != b.message() || docs_a != docs_b) std::abort();
}

}  // namespace connectors::filesource::fuzz
