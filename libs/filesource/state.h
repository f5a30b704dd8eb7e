// Per-file capture state and shard assignment shared by file-like sources.
//
// State lives in the connector checkpoint as
//   {"bindingStateV1": {"<stateKey>": {"files": {"<file>": {
//       "etag": "...", "lastModified": "...", "records": 1200, "complete": false}}}}}
// and every checkpoint is a merge patch touching one file. `records` counts the documents of the
// file's current version already committed: a restart re-reads the file and skips that many,
// so the collection sees each (file, offset) once. A complete file with a known version is
// skipped (or answered 304 by a conditional request) until its version changes.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace connectors::filesource {

struct FileState {
  std::string etag;
  std::string last_modified;  // As the server sent it (an HTTP-date).
  uint64_t records = 0;
  bool complete = false;

  // Same content version: ETags equal when both are known, else Last-Modified equal.
  bool SameVersion(std::string_view other_etag, std::string_view other_last_modified) const;
};

struct BindingState {
  std::map<std::string, FileState, std::less<>> files;
};

// The state of binding `state_key` in a connector state document (missing: empty).
absl::StatusOr<BindingState> LoadBindingState(std::string_view state_json,
                                              std::string_view state_key);

// A merge patch setting one file's state.
std::string FileStatePatch(std::string_view state_key, std::string_view file,
                           const FileState& state);

// Which shard owns a file: a stable 32-bit hash of its path, compared with the shard's
// inclusive [key_begin, key_end] range, so shards split files and never records.
uint32_t ShardHash(std::string_view path);
inline bool InShard(std::string_view path, uint32_t key_begin, uint32_t key_end) {
  const uint32_t h = ShardHash(path);
  return h >= key_begin && h <= key_end;
}

}  // namespace connectors::filesource
