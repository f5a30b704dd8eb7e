#include "libs/materialize-sql/dialect.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace connectors::sql {

FieldShape ShapeOf(const flow::Projection& projection) {
  FieldShape shape;
  shape.field = projection.field();
  shape.ptr = projection.ptr();
  shape.is_key = projection.is_primary_key();
  shape.is_root = projection.ptr().empty();
  const auto& inference = projection.inference();
  bool has_null = false;
  for (const auto& type : inference.types()) {
    if (type == "null") {
      has_null = true;
    } else {
      shape.types.push_back(type);
    }
  }
  std::sort(shape.types.begin(), shape.types.end());
  shape.nullable = has_null || inference.exists() != flow::Inference::MUST;
  shape.has_default = !inference.default_json().empty();
  shape.format = inference.string().format();
  shape.content_encoding = inference.string().content_encoding();
  const auto& numeric = inference.numeric();
  constexpr double kMax = 9223372036854775807.0, kMin = -9223372036854775808.0;
  shape.exceeds_int64 = (numeric.has_maximum() && numeric.maximum() > kMax) ||
                        (numeric.has_minimum() && numeric.minimum() < kMin);
  return shape;
}

std::string_view SingleType(const FieldShape& shape) {
  if (shape.types.size() == 1) return shape.types[0];
  // An integer that may also be written as a float is still a number.
  if (shape.types == std::vector<std::string>{"integer", "number"}) return "number";
  return "";
}

bool IsCompatible(std::string_view existing_type, const ColumnType& type) {
  const std::string lower =
      absl::AsciiStrToLower(absl::string_view(existing_type.data(), existing_type.size()));
  if (lower == absl::AsciiStrToLower(type.ddl)) return true;
  return std::find(type.compatible.begin(), type.compatible.end(), lower) != type.compatible.end();
}

}  // namespace connectors::sql
