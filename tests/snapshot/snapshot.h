// Snapshot assertions for scenario tests: the normalised output of a test is compared with a
// checked-in file, and volatile values (timestamps, UUIDs, LSNs, ports...) are masked first so
// snapshots stay stable. To accept new output, run ./scripts/update-snapshots.sh, which reruns
// the tests with SNAPSHOT_UPDATE_DIR set to the workspace and rewrites the files in place.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace connectors::snapshot {

struct Mask {
  std::string pattern;      // ECMAScript regular expression.
  std::string replacement;  // e.g. "<timestamp>".
};

// RFC 3339 timestamps, UUIDs and durations in seconds ("elapsedSeconds": 1.23).
std::vector<Mask> DefaultMasks();

// Applies `masks` in order.
std::string Normalize(std::string_view text, const std::vector<Mask>& masks);

// Compares `actual` (normalised with `masks`) with the snapshot file at `path`, relative to the
// workspace (e.g. "tests/source-hello-world/snapshots/session.snap"). The file must be listed in
// the test's `data`. Records a GoogleTest failure showing a line diff on mismatch.
void ExpectMatches(const std::string& path, std::string_view actual,
                   const std::vector<Mask>& masks = DefaultMasks());

}  // namespace connectors::snapshot
