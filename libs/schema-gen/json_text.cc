#include "libs/schema-gen/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "libs/json/writer.h"

namespace connectors::schema::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

template <typename T>
void AppendNumber(T value, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

// Doubles with an integral value in int64 range print as integers, so that 1 and 1.0 share one
// canonical text.
void AppendDouble(double value, std::string* out) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 9.2e18) {
    AppendNumber(static_cast<int64_t>(value), out);
  } else {
    AppendNumber(value, out);
  }
}

void AppendCanonical(element value, std::string* out);

void AppendObject(simdjson::dom::object object, std::string* out) {
  std::vector<std::pair<std::string_view, element>> fields;
  for (auto field : object) fields.emplace_back(field.key, field.value);
  std::sort(fields.begin(), fields.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    json::AppendQuoted(fields[i].first, out);
    out->push_back(':');
    AppendCanonical(fields[i].second, out);
  }
  out->push_back('}');
}

void AppendArray(simdjson::dom::array array, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (element item : array) {
    if (!first) out->push_back(',');
    first = false;
    AppendCanonical(item, out);
  }
  out->push_back(']');
}

void AppendCanonical(element value, std::string* out) {
  switch (value.type()) {
    case element_type::OBJECT:
      return AppendObject(value.get_object().value_unsafe(), out);
    case element_type::ARRAY:
      return AppendArray(value.get_array().value_unsafe(), out);
    case element_type::INT64:
      return AppendNumber(value.get_int64().value_unsafe(), out);
    case element_type::UINT64:
      return AppendNumber(value.get_uint64().value_unsafe(), out);
    case element_type::DOUBLE:
      return AppendDouble(value.get_double().value_unsafe(), out);
    case element_type::STRING:
      return json::AppendQuoted(value.get_string().value_unsafe(), out);
    case element_type::BOOL:
      out->append(value.get_bool().value_unsafe() ? "true" : "false");
      return;
    case element_type::NULL_VALUE:
      out->append("null");
      return;
  }
}

}  // namespace

simdjson::error_code ParseJson(simdjson::dom::parser& parser, std::string_view json,
                               element* root) {
  if (simdjson::error_code error = parser.allocate(json.size(), kMaxJsonDepth); error) {
    return error;
  }
  return parser.parse(json.data(), json.size()).get(*root);
}

std::string Canonical(element value) {
  std::string out;
  AppendCanonical(value, &out);
  return out;
}

bool IsNumber(element value) {
  const element_type type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 ||
         type == element_type::DOUBLE;
}

bool IsIntegral(element value) {
  if (value.type() != element_type::DOUBLE) return IsNumber(value);
  const double d = value.get_double().value_unsafe();
  return std::isfinite(d) && d == std::trunc(d);
}

long double NumberValue(element value) {
  switch (value.type()) {
    case element_type::INT64:
      return value.get_int64().value_unsafe();
    case element_type::UINT64:
      return value.get_uint64().value_unsafe();
    case element_type::DOUBLE:
      return value.get_double().value_unsafe();
    default:
      return 0;
  }
}

std::string_view TypeName(element value) {
  switch (value.type()) {
    case element_type::OBJECT:
      return "object";
    case element_type::ARRAY:
      return "array";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
    default:
      return "number";
  }
}

std::string Truncate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  // Back up over UTF-8 continuation bytes so a code point is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

size_t CodePoints(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace connectors::schema::internal
