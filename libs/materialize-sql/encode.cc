#include "libs/materialize-sql/encode.h"

#include <cmath>

#include "libs/base/strings.h"
#include "libs/json/writer.h"

namespace connectors::sql {
namespace {

void AppendDoubleText(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "Infinity" : "-Infinity");
  } else {
    json::AppendDouble(value, out);
  }
}

// The element as compact JSON text (byte strings hold JSON objects/arrays already).
void AppendJsonText(const tuple::Element& e, std::string* json) {
  using K = tuple::Element::Kind;
  switch (e.kind()) {
    case K::kNil:
      json->append("null");
      break;
    case K::kBool:
      json->append(e.bool_value() ? "true" : "false");
      break;
    case K::kInt:
      StrAppend(json, e.int_value());
      break;
    case K::kUint:
      StrAppend(json, e.uint_value());
      break;
    case K::kDouble:
      if (std::isfinite(e.double_value())) {
        json::AppendDouble(e.double_value(), json);
      } else {
        json->append("null");
      }
      break;
    case K::kString:
      json::AppendQuoted(e.string_value(), json);
      break;
    case K::kBytes:
      json->append(e.string_value());
      break;
    case K::kTuple: {
      json->push_back('[');
      bool first = true;
      for (const auto& inner : e.tuple_value()) {
        if (!first) json->push_back(',');
        first = false;
        AppendJsonText(inner, json);
      }
      json->push_back(']');
      break;
    }
  }
}

absl::Status Mismatch(const tuple::Element& e, std::string_view want) {
  static constexpr std::string_view kNames[] = {
      "a null",   "a boolean", "an integer",         "an integer",
      "a number", "a string",  "an object or array", "a tuple"};
  return absl::InvalidArgumentError(
      StrCat(kNames[static_cast<int>(e.kind())], " value cannot be stored as ", want));
}

}  // namespace

void AppendCopyText(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\0':
        break;
      default:
        out->push_back(c);
    }
  }
}

absl::Status AppendCopyValue(const tuple::Element& e, ValueKind kind, std::string* out) {
  using K = tuple::Element::Kind;
  if (e.is_nil()) {
    AppendCopyNull(out);
    return absl::OkStatus();
  }
  switch (kind) {
    case ValueKind::kInteger:
      if (e.kind() == K::kInt) return StrAppend(out, e.int_value()), absl::OkStatus();
      if (e.kind() == K::kUint) return StrAppend(out, e.uint_value()), absl::OkStatus();
      if (e.kind() == K::kDouble && std::trunc(e.double_value()) == e.double_value()) {
        AppendDoubleText(e.double_value(), out);
        return absl::OkStatus();
      }
      return Mismatch(e, "an integer");
    case ValueKind::kNumber:
    case ValueKind::kNumericText:
      if (e.kind() == K::kInt) return StrAppend(out, e.int_value()), absl::OkStatus();
      if (e.kind() == K::kUint) return StrAppend(out, e.uint_value()), absl::OkStatus();
      if (e.kind() == K::kDouble) return AppendDoubleText(e.double_value(), out), absl::OkStatus();
      if (e.kind() == K::kString && kind == ValueKind::kNumericText) {
        AppendCopyText(e.string_value(), out);
        return absl::OkStatus();
      }
      return Mismatch(e, "a number");
    case ValueKind::kBoolean:
      if (e.kind() == K::kBool) return out->append(e.bool_value() ? "t" : "f"), absl::OkStatus();
      return Mismatch(e, "a boolean");
    case ValueKind::kText:
      if (e.kind() == K::kString) return AppendCopyText(e.string_value(), out), absl::OkStatus();
      return Mismatch(e, "a string");
    case ValueKind::kJson:
    case ValueKind::kDocument: {
      std::string json;
      AppendJsonText(e, &json);
      AppendCopyText(json, out);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown value kind");
}

}  // namespace connectors::sql
