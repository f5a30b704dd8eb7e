#include "libs/tuple/tuple_json.h"

#include "absl/strings/escaping.h"

namespace connectors::tuple {

absl::Status AppendJson(const simdjson::dom::element& value, std::string* out) {
  switch (value.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      AppendNil(out);
      return absl::OkStatus();
    case simdjson::dom::element_type::BOOL:
      AppendBool(value.get_bool().value_unsafe(), out);
      return absl::OkStatus();
    case simdjson::dom::element_type::INT64:
      AppendInt(value.get_int64().value_unsafe(), out);
      return absl::OkStatus();
    case simdjson::dom::element_type::UINT64:
      AppendUint(value.get_uint64().value_unsafe(), out);
      return absl::OkStatus();
    case simdjson::dom::element_type::DOUBLE:
      AppendDouble(value.get_double().value_unsafe(), out);
      return absl::OkStatus();
    case simdjson::dom::element_type::STRING:
      AppendString(value.get_string().value_unsafe(), out);
      return absl::OkStatus();
    case simdjson::dom::element_type::ARRAY:
    case simdjson::dom::element_type::OBJECT: {
      // Compact JSON escapes every control character, so the text never contains 0x00 and can
      // be written straight into the byte string's framing.
      out->push_back('\x01');
      json::Writer writer(out);
      json::WriteElement(value, writer, /*sort_keys=*/true);
      out->push_back('\x00');
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("tuple: JSON value of unknown type");
}

namespace {

// Whether `bytes` starts (after JSON whitespace) like an object or array; a cheap filter
// before a full parse.
bool LooksLikeContainer(std::string_view bytes) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (bytes[first] == '{' || bytes[first] == '[');
}

}  // namespace

void WriteJson(const Element& element, json::Writer& writer, json::Parser& parser) {
  switch (element.kind()) {
    case Element::Kind::kNil:
      writer.Null();
      return;
    case Element::Kind::kBool:
      writer.Bool(element.bool_value());
      return;
    case Element::Kind::kInt:
      writer.Int(element.int_value());
      return;
    case Element::Kind::kUint:
      writer.Uint(element.uint_value());
      return;
    case Element::Kind::kDouble:
      writer.Double(element.double_value());
      return;
    case Element::Kind::kString:
      writer.String(element.string_value());
      return;
    case Element::Kind::kBytes: {
      const std::string& bytes = element.string_value();
      if (LooksLikeContainer(bytes)) {
        absl::StatusOr<simdjson::dom::element> parsed = parser.Parse(bytes);
        // The parse guarantees the bytes are one complete, valid JSON value.
        if (parsed.ok() && (parsed->is_object() || parsed->is_array())) {
          writer.Raw(bytes);
          return;
        }
      }
      writer.String(absl::Base64Escape(bytes));
      return;
    }
    case Element::Kind::kTuple:
      writer.BeginArray();
      for (const Element& child : element.tuple_value()) WriteJson(child, writer, parser);
      writer.EndArray();
      return;
  }
}

void WriteJson(const Element& element, json::Writer& writer) {
  json::Parser parser;
  WriteJson(element, writer, parser);
}

}  // namespace connectors::tuple
