// RFC 7396 JSON Merge Patch, as the Flow runtime applies connector state checkpoints: objects
// merge recursively, a null member deletes, any non-object patch replaces the target outright.
// The result is streamed to compact JSON: target members keep their order, members new to the
// target follow in patch order. Names are expected to be unique within an object; if a patch
// repeats one, its last occurrence wins.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/json/writer.h"

namespace connectors::json {

// Applies `patch_json` to `target_json` and returns compact JSON text. An empty (or all
// whitespace) target means "absent", which merges like null. Either document failing to parse
// gives InvalidArgument.
absl::StatusOr<std::string> ApplyMergePatch(std::string_view target_json,
                                            std::string_view patch_json);

// DOM form of ApplyMergePatch for callers that already hold parsed documents. `target` may be
// null (absent). Writes exactly one value.
void WriteMergePatch(const simdjson::dom::element* target, const simdjson::dom::element& patch,
                     Writer& writer);

}  // namespace connectors::json
