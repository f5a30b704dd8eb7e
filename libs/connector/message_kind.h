// Protocol Request/Response messages carry each kind as an independent sub-message field
// (not a proto oneof); exactly one must be set. This names the one that is.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace google::protobuf {
class Message;
}

namespace connectors::runtime {

// Returns the JSON name of the single kind set in `message` (e.g. "open", "startCommit").
// Errors when none or several are set.
absl::StatusOr<std::string_view> SingleKind(const google::protobuf::Message& message);

}  // namespace connectors::runtime
