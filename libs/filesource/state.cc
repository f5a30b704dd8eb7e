#include "libs/filesource/state.h"

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"

namespace connectors::filesource {

bool FileState::SameVersion(std::string_view other_etag,
                            std::string_view other_last_modified) const {
  if (!etag.empty() && !other_etag.empty()) return etag == other_etag;
  if (!last_modified.empty() && !other_last_modified.empty()) {
    return last_modified == other_last_modified;
  }
  return false;  // Nothing identifies the content: assume it changed.
}

absl::StatusOr<BindingState> LoadBindingState(std::string_view state_json,
                                              std::string_view state_key) {
  BindingState out;
  if (state_json.empty()) return out;
  json::Parser parser;
  auto root = parser.Parse(state_json);
  if (!root.ok()) return root.status();
  simdjson::dom::object files;
  if ((*root)["bindingStateV1"][state_key]["files"].get(files) != simdjson::SUCCESS) return out;
  for (auto field : files) {
    FileState state;
    std::string_view text;
    if (field.value["etag"].get(text) == simdjson::SUCCESS) state.etag = std::string(text);
    if (field.value["lastModified"].get(text) == simdjson::SUCCESS) {
      state.last_modified = std::string(text);
    }
    uint64_t records = 0;
    if (field.value["records"].get(records) == simdjson::SUCCESS) state.records = records;
    bool complete = false;
    if (field.value["complete"].get(complete) == simdjson::SUCCESS) state.complete = complete;
    out.files[std::string(field.key)] = std::move(state);
  }
  return out;
}

std::string FileStatePatch(std::string_view state_key, std::string_view file,
                           const FileState& state) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject().Key("bindingStateV1").BeginObject().Key(state_key).BeginObject();
  w.Key("files").BeginObject().Key(file).BeginObject();
  // Explicit nulls remove validators a newer version no longer has (merge patch semantics).
  w.Key("etag");
  state.etag.empty() ? w.Null() : w.String(state.etag);
  w.Key("lastModified");
  state.last_modified.empty() ? w.Null() : w.String(state.last_modified);
  w.Key("records").Uint(state.records);
  w.Key("complete").Bool(state.complete);
  w.EndObject().EndObject().EndObject().EndObject().EndObject();
  return out;
}

uint32_t ShardHash(std::string_view path) {
  // FNV-1a over the bytes, then a 64-bit finaliser so every output bit depends on every input
  // bit; the top 32 bits are the key.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : path) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return uint32_t(h >> 32);
}

}  // namespace connectors::filesource
