// The sqlcapture engine: a runtime::Capture that backfills tables in key-ordered chunks while
// streaming replication, fencing every chunk with a watermark so that each table is consistent
// at every checkpoint, and that resumes from its checkpoint after a crash at any point.
//
// Per chunk: scan up to `chunk_size` rows after the binding's cursor (emitted as creates), ask
// the database for its current position F, write a watermark, stream changes until a commit
// ending at or past F, then checkpoint once. The scan ran at READ COMMITTED before F was read,
// so every change it could have missed or overtaken commits at or before F and is emitted
// after the chunk's rows, inside the same checkpoint. Precise bindings drop changes to keys
// beyond the cursor (the scan will read them later); other modes emit every change, which
// reduces to the same result.
//
// When no binding is backfilling, changes stream with a checkpoint per source commit. The
// server is told a position is processed only after the runtime acknowledges the checkpoint
// that contains it.
//
// Checkpoint state (RFC 7396 merge patches after an initial full state):
//   {"cursor": "<position text>",
//    "bindingStateV1": {"<state key>": {"mode": "Backfill|UnfilteredBackfill|KeylessBackfill|
//                       Active", "scanned": "<base64 cursor>"|null, "backfilled": <rows>}}}
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libs/connector/capture.h"
#include "libs/sqlcapture/database.h"

namespace connectors::sqlcapture {

struct BindingSpec {
  uint32_t index = 0;     // Binding index of the Open request (documents go there).
  std::string state_key;  // Runtime-supplied key of the binding's state.
  int table = 0;          // Index into the engine's tables.
  BackfillMode mode = BackfillMode::kAutomatic;
  int64_t priority = 0;  // Higher priorities finish their backfills first.
};

struct EngineOptions {
  int64_t chunk_size = 50000;
  // Checkpoints the runtime may have outstanding before the engine waits for acknowledgements.
  uint64_t max_unacknowledged = 64;
  // Fences must be reached within this time (the watermark commit is overdue otherwise).
  absl::Duration fence_timeout = absl::Minutes(5);
  // Adds "tag" to every document's /_meta/source when non-empty.
  std::string source_tag;
};

// Parses the state, validating it strictly; fails with InvalidArgument naming the problem.
class Engine final : public runtime::Capture {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(std::unique_ptr<Database> db,
                                                        std::vector<TableSpec> tables,
                                                        std::vector<BindingSpec> bindings,
                                                        std::string_view state_json,
                                                        EngineOptions options);
  ~Engine() override;

  bool explicit_acknowledgements() const override { return true; }
  absl::Status Run(runtime::CaptureSession& session) override;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Standard base64 with padding, used for cursors in the state (and by databases for bytes).
std::string Base64Encode(std::string_view bytes);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace connectors::sqlcapture
