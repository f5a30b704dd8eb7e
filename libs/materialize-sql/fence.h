// The fence protocol (materializations.md section 2): the destination keeps, per
// (materialization, key range), a fence counter and the last runtime checkpoint. Open bumps
// every overlapping row's fence and adopts the narrowest covering row's checkpoint; each commit
// writes its checkpoint only where the fence is still ours, in the same transaction as the
// data, so a zombie instance commits nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/materialize-sql/client.h"
#include "proto/consumer.pb.h"

namespace connectors::sql {

struct Fence {
  std::string checkpoints;  // Quoted identifier of the checkpoints table.
  std::string materialization;
  uint32_t key_begin = 0;
  uint32_t key_end = 0;
  int64_t fence = 0;
  // The stored runtime checkpoint; empty for a range nothing covered yet (start from scratch).
  consumer::Checkpoint checkpoint;
};

// Installs the fence in its own transaction.
absl::StatusOr<Fence> InstallFence(Client& client, std::string_view checkpoints,
                                   std::string_view materialization, uint32_t key_begin,
                                   uint32_t key_end);

// Within the caller's open transaction: records `checkpoint` if the fence still holds, else
// fails with FailedPrecondition ("fenced off") and the caller must roll back.
absl::Status CommitFence(Client& client, const Fence& fence,
                         const consumer::Checkpoint& checkpoint);

}  // namespace connectors::sql
