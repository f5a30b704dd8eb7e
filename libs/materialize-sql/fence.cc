#include "libs/materialize-sql/fence.h"

#include "absl/strings/escaping.h"
#include "libs/base/strings.h"
#include "libs/materialize-sql/sql.h"

namespace connectors::sql {
namespace {

absl::StatusOr<Fence> Install(Client& client, Fence fence) {
  const std::optional<std::string> range[] = {fence.materialization, StrCat(fence.key_begin),
                                              StrCat(fence.key_end)};
  if (auto n = client.ExecParams(FenceBump(fence.checkpoints), range); !n.ok()) return n.status();
  auto rows = QueryAll(client, FenceSelectCovering(fence.checkpoints), range);
  if (!rows.ok()) return rows.status();
  std::string encoded;
  bool exact = false;
  if (!rows->empty()) {
    const auto& row = rows->front();
    exact = *row[0] == StrCat(fence.key_begin) && *row[1] == StrCat(fence.key_end);
    fence.fence = std::stoll(*row[2]);
    encoded = *row[3];
    std::string bytes;
    if (!absl::Base64Unescape(encoded, &bytes) || !fence.checkpoint.ParseFromString(bytes)) {
      return absl::DataLossError(StrCat("the checkpoint stored in ", fence.checkpoints, " for ",
                                        fence.materialization, " cannot be decoded"));
    }
  }
  if (!exact) {
    const std::optional<std::string> insert[] = {range[0], range[1], range[2], StrCat(fence.fence),
                                                 encoded};
    if (auto n = client.ExecParams(FenceInsert(fence.checkpoints), insert); !n.ok()) {
      return n.status();
    }
  }
  return fence;
}

}  // namespace

absl::StatusOr<Fence> InstallFence(Client& client, std::string_view checkpoints,
                                   std::string_view materialization, uint32_t key_begin,
                                   uint32_t key_end) {
  Fence fence;
  fence.checkpoints = std::string(checkpoints);
  fence.materialization = std::string(materialization);
  fence.key_begin = key_begin;
  fence.key_end = key_end;
  if (auto s = client.Exec("BEGIN"); !s.ok()) return s;
  auto installed = Install(client, std::move(fence));
  if (!installed.ok()) {
    (void)client.Exec("ROLLBACK");
    return installed.status();
  }
  if (auto s = client.Exec("COMMIT"); !s.ok()) return s;
  return installed;
}

absl::Status CommitFence(Client& client, const Fence& fence,
                         const consumer::Checkpoint& checkpoint) {
  const std::optional<std::string> params[] = {absl::Base64Escape(checkpoint.SerializeAsString()),
                                               fence.materialization, StrCat(fence.key_begin),
                                               StrCat(fence.key_end), StrCat(fence.fence)};
  auto updated = client.ExecParams(FenceCommit(fence.checkpoints), params);
  if (!updated.ok()) return updated.status();
  if (*updated != 1) {
    return absl::FailedPreconditionError(
        StrCat("this instance of ", fence.materialization, " (key range ", fence.key_begin, "-",
               fence.key_end,
               ") was fenced off by a newer instance; its transaction was "
               "rolled back"));
  }
  return absl::OkStatus();
}

}  // namespace connectors::sql
