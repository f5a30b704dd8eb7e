#include "libs/materialize-sql/encode.h"

#include <gtest/gtest.h>

namespace connectors::sql {
namespace {

using tuple::Element;

std::string Encoded(const Element& e, ValueKind kind) {
  std::string out;
  auto s = AppendCopyValue(e, kind, &out);
  return s.ok() ? out : "error: " + std::string(s.message());
}

TEST(Encode, EscapesCopyText) {
  std::string out;
  AppendCopyText(std::string("a\tb\nc\\d\re", 10) + std::string(1, '\0') + "f", &out);
  EXPECT_EQ(out, "a\\tb\\nc\\\\d\\ref");
}

TEST(Encode, ValuesByKind) {
  EXPECT_EQ(Encoded(Element::Nil(), ValueKind::kInteger), "\\N");
  EXPECT_EQ(Encoded(Element::Int(-42), ValueKind::kInteger), "-42");
  EXPECT_EQ(Encoded(Element::Uint(18446744073709551615u), ValueKind::kNumericText),
            "18446744073709551615");
  EXPECT_EQ(Encoded(Element::Double(1.5), ValueKind::kNumber), "1.5");
  EXPECT_EQ(Encoded(Element::Int(3), ValueKind::kNumber), "3");
  EXPECT_EQ(Encoded(Element::Bool(true), ValueKind::kBoolean), "t");
  EXPECT_EQ(Encoded(Element::String("x\ty"), ValueKind::kText), "x\\ty");
  EXPECT_EQ(Encoded(Element::String("12.50"), ValueKind::kNumericText), "12.50");
  EXPECT_EQ(Encoded(Element::String("a\"b"), ValueKind::kJson), "\"a\\\\\"b\"");
  EXPECT_EQ(Encoded(Element::Bytes(R"({"a":1})"), ValueKind::kJson), R"({"a":1})");
  EXPECT_EQ(Encoded(Element::Int(7), ValueKind::kJson), "7");
}

TEST(Encode, RejectsMismatchedTypes) {
  EXPECT_EQ(Encoded(Element::String("7"), ValueKind::kInteger),
            "error: a string value cannot be stored as an integer");
  EXPECT_EQ(Encoded(Element::Double(1.5), ValueKind::kInteger),
            "error: a number value cannot be stored as an integer");
  EXPECT_EQ(Encoded(Element::Int(1), ValueKind::kBoolean),
            "error: an integer value cannot be stored as a boolean");
}

}  // namespace
}  // namespace connectors::sql
