#include "tests/runtime/documents.h"

#include <random>

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple_json.h"

namespace connectors::local {
namespace {

// 100-ns intervals between the UUID epoch (1582-10-15) and the Unix epoch.
constexpr uint64_t kGregorianOffset = 0x01B21DD213814000ull;

std::string Hex(uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[i] = kDigits[value & 0xF];
  return out;
}

}  // namespace

UuidClock::UuidClock() {
  std::random_device random;
  // A random node id with the multicast bit set, as RFC 4122 asks of non-MAC node ids.
  node_ = ((uint64_t{random()} << 32) | random()) & 0xFFFFFFFFFFFFull;
  node_ |= 0x010000000000ull;
}

std::string UuidClock::Next() {
  const uint64_t now =
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()) / 100) + kGregorianOffset;
  uint64_t last = last_ticks_.load();
  uint64_t ticks;
  do {
    ticks = std::max(now, last + 1);
  } while (!last_ticks_.compare_exchange_weak(last, ticks));
  const uint64_t time_low = ticks & 0xFFFFFFFF;
  const uint64_t time_mid = (ticks >> 32) & 0xFFFF;
  const uint64_t time_hi = ((ticks >> 48) & 0x0FFF) | 0x1000;
  const uint64_t clock_seq = 0x8000 | ((ticks >> 60) & 0x3FFF);
  return StrCat(Hex(time_low, 8), "-", Hex(time_mid, 4), "-", Hex(time_hi, 4), "-",
                Hex(clock_seq, 4), "-", Hex(node_, 12));
}

absl::StatusOr<std::string> PackKey(const simdjson::dom::element& doc,
                                    const std::vector<std::string>& key) {
  std::string packed;
  for (const auto& ptr : key) {
    auto pointer = json::Pointer::Parse(ptr);
    if (!pointer.ok()) return pointer.status();
    auto value = json::Lookup(doc, *pointer);
    if (!value.has_value()) {
      packed.push_back('\0');
      continue;
    }
    if (auto status = tuple::AppendJson(*value, &packed); !status.ok()) return status;
  }
  return packed;
}

absl::StatusOr<DocumentChecker> DocumentChecker::Create(const flow::CollectionSpec& collection) {
  auto validator = schema::Validator::Compile(collection.write_schema_json());
  if (!validator.ok()) {
    return absl::InvalidArgumentError(
        StrCat("schema of collection ", collection.name(), ": ", MessageOf(validator.status())));
  }
  return DocumentChecker(collection.name(), {collection.key().begin(), collection.key().end()},
                         std::move(*validator));
}

absl::StatusOr<CollectionDocument> DocumentChecker::Check(std::string_view doc_json,
                                                          UuidClock& uuids) {
  auto doc = parser_.Parse(doc_json);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return absl::InvalidArgumentError(
        StrCat("document for ", collection_, " is not a JSON object"));
  }
  if (auto status = validator_.Check(doc_json, StrCat("document for ", collection_));
      !status.ok()) {
    return status;
  }
  CollectionDocument out;
  auto key = PackKey(*doc, key_);
  if (!key.ok()) return key.status();
  out.key_packed = std::move(*key);

  json::Writer w(&out.doc_json);
  w.BeginObject();
  w.Key("_meta").BeginObject().Key("uuid").String(uuids.Next());
  simdjson::dom::object meta;
  if ((*doc)["_meta"].get(meta) == simdjson::SUCCESS) {
    for (auto [name, value] : meta) {
      if (name == "uuid") continue;
      w.Key(name);
      json::WriteElement(value, w, /*sort_keys=*/false);
      std::string_view op;
      if (name == "op" && value.get(op) == simdjson::SUCCESS && op == "d") out.is_delete = true;
    }
  }
  w.EndObject();
  simdjson::dom::object fields;
  if (doc->get(fields) != simdjson::SUCCESS) return absl::InternalError("object expected");
  for (auto [name, value] : fields) {
    if (name == "_meta") continue;
    w.Key(name);
    json::WriteElement(value, w, /*sort_keys=*/false);
  }
  w.EndObject();
  return out;
}

}  // namespace connectors::local
