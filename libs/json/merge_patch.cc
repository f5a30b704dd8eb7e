#include "libs/json/merge_patch.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/json/parse.h"

namespace connectors::json {
namespace {

// Below this many patch members a linear scan beats building a hash index.
constexpr size_t kIndexThreshold = 8;

// The members of one patch object with O(1) lookup by name (last occurrence wins).
class PatchMembers {
 public:
  explicit PatchMembers(const simdjson::dom::object& object)
      : members_(object.begin(), object.end()), superseded_(members_.size(), false) {
    if (members_.size() > kIndexThreshold) {
      index_.reserve(members_.size());
      for (size_t i = 0; i < members_.size(); ++i) {
        auto [it, inserted] = index_.try_emplace(members_[i].key, i);
        if (!inserted) {
          superseded_[it->second] = true;
          it->second = i;
        }
      }
    } else {
      for (size_t i = 0; i < members_.size(); ++i) {
        for (size_t j = i + 1; j < members_.size(); ++j) {
          if (members_[i].key == members_[j].key) {
            superseded_[i] = true;
            break;
          }
        }
      }
    }
  }

  // Index of the winning member named `key`, or -1.
  ptrdiff_t Find(std::string_view key) const {
    if (!index_.empty()) {
      auto it = index_.find(key);
      return it == index_.end() ? -1 : static_cast<ptrdiff_t>(it->second);
    }
    for (size_t i = members_.size(); i-- > 0;) {
      if (members_[i].key == key) return static_cast<ptrdiff_t>(i);
    }
    return -1;
  }

  size_t size() const { return members_.size(); }
  const simdjson::dom::key_value_pair& member(size_t i) const { return members_[i]; }
  bool superseded(size_t i) const { return superseded_[i]; }

 private:
  std::vector<simdjson::dom::key_value_pair> members_;
  // True for a member whose name appears again later in the patch.
  std::vector<bool> superseded_;
  absl::flat_hash_map<std::string_view, size_t> index_;
};

}  // namespace

void WriteMergePatch(const simdjson::dom::element* target, const simdjson::dom::element& patch,
                     Writer& writer) {
  if (!patch.is_object()) {
    WriteElement(patch, writer, /*sort_keys=*/false);
    return;
  }
  const PatchMembers members(patch.get_object().value_unsafe());
  std::vector<bool> applied(members.size(), false);
  writer.BeginObject();
  if (target != nullptr && target->is_object()) {
    const simdjson::dom::object target_object = target->get_object().value_unsafe();
    for (const simdjson::dom::key_value_pair& field : target_object) {
      const ptrdiff_t i = members.Find(field.key);
      if (i < 0) {
        writer.Key(field.key);
        WriteElement(field.value, writer, /*sort_keys=*/false);
        continue;
      }
      applied[i] = true;
      const simdjson::dom::element& value = members.member(i).value;
      if (value.is_null()) continue;
      writer.Key(field.key);
      WriteMergePatch(&field.value, value, writer);
    }
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const simdjson::dom::key_value_pair& member = members.member(i);
    if (applied[i] || members.superseded(i) || member.value.is_null()) continue;
    writer.Key(member.key);
    // Merging into an absent value drops nulls nested anywhere in the patch value.
    WriteMergePatch(nullptr, member.value, writer);
  }
  writer.EndObject();
}

absl::StatusOr<std::string> ApplyMergePatch(std::string_view target_json,
                                            std::string_view patch_json) {
  // Two parsers: the target's elements must stay valid while the patch is parsed.
  Parser target_parser;
  Parser patch_parser;
  const bool has_target = target_json.find_first_not_of(" \t\r\n") != std::string_view::npos;
  simdjson::dom::element target;
  if (has_target) {
    absl::StatusOr<simdjson::dom::element> parsed = target_parser.Parse(target_json);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("merge patch target: ", parsed.status().message()));
    }
    target = *parsed;
  }
  absl::StatusOr<simdjson::dom::element> patch = patch_parser.Parse(patch_json);
  if (!patch.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("merge patch: ", patch.status().message()));
  }
  std::string out;
  out.reserve(target_json.size() + patch_json.size());
  Writer writer(&out);
  WriteMergePatch(has_target ? &target : nullptr, *patch, writer);
  return out;
}

}  // namespace connectors::json
