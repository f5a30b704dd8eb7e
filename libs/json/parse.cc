#include "libs/json/parse.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace connectors::json {

absl::StatusOr<simdjson::dom::element> Parser::Parse(std::string_view text) {
  // realloc_if_needed: the caller's bytes carry no simdjson padding, so they are copied into
  // the parser's own (reused) padded buffer.
  simdjson::dom::element root;
  const simdjson::error_code error =
      parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  if (error != simdjson::SUCCESS) {
    // simdjson's DOM parser reports what went wrong but not where.
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSON (", text.size(), "-byte document): ", simdjson::error_message(error)));
  }
  return root;
}

void WriteElement(const simdjson::dom::element& value, Writer& writer, bool sort_keys) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY: {
      // Copy the array out of the simdjson_result first: iterating value_unsafe() of a temporary
      // result would iterate a destroyed object.
      const simdjson::dom::array array = value.get_array().value_unsafe();
      writer.BeginArray();
      for (simdjson::dom::element child : array) {
        WriteElement(child, writer, sort_keys);
      }
      writer.EndArray();
      return;
    }
    case simdjson::dom::element_type::OBJECT: {
      const simdjson::dom::object object = value.get_object().value_unsafe();
      writer.BeginObject();
      if (!sort_keys) {
        for (const simdjson::dom::key_value_pair& field : object) {
          writer.Key(field.key);
          WriteElement(field.value, writer, sort_keys);
        }
      } else {
        std::vector<simdjson::dom::key_value_pair> fields(object.begin(), object.end());
        // string_view compares bytes as unsigned char, i.e. Unicode code point order for UTF-8.
        std::stable_sort(fields.begin(), fields.end(),
                         [](const auto& a, const auto& b) { return a.key < b.key; });
        for (const simdjson::dom::key_value_pair& field : fields) {
          writer.Key(field.key);
          WriteElement(field.value, writer, sort_keys);
        }
      }
      writer.EndObject();
      return;
    }
    case simdjson::dom::element_type::INT64:
      writer.Int(value.get_int64().value_unsafe());
      return;
    case simdjson::dom::element_type::UINT64:
      writer.Uint(value.get_uint64().value_unsafe());
      return;
    case simdjson::dom::element_type::DOUBLE:
      writer.Double(value.get_double().value_unsafe());
      return;
    case simdjson::dom::element_type::STRING:
      writer.String(value.get_string().value_unsafe());
      return;
    case simdjson::dom::element_type::BOOL:
      writer.Bool(value.get_bool().value_unsafe());
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      writer.Null();
      return;
  }
}

std::string ToJson(const simdjson::dom::element& value, bool sort_keys) {
  std::string out;
  Writer writer(&out);
  WriteElement(value, writer, sort_keys);
  return out;
}

}  // namespace connectors::json
