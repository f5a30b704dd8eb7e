#include "libs/json/parse.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/json/writer.h"

namespace connectors::json {
namespace {

std::string Canonical(std::string_view text, bool sort_keys) {
  Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(text);
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return "";
  return ToJson(*root, sort_keys);
}

TEST(ParserTest, ParsesScalarsAndContainers) {
  Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(R"( {"a":[1,2]} )");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_TRUE(root->is_object());
  root = parser.Parse("42");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->type(), simdjson::dom::element_type::INT64);
}

TEST(ParserTest, ReusableAcrossDocuments) {
  Parser parser;
  for (int i = 0; i < 3; ++i) {
    const std::string text = "[" + std::string(1000 * i, ' ') + std::to_string(i) + "]";
    absl::StatusOr<simdjson::dom::element> root = parser.Parse(text);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(ToJson(*root), "[" + std::to_string(i) + "]");
  }
}

TEST(ParserTest, DoesNotReadPastTheView) {
  // The view ends before "garbage"; parsing must only see "[1]".
  const std::string text = "[1]garbage";
  Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(std::string_view(text).substr(0, 3));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(ToJson(*root), "[1]");
}

TEST(ParserTest, MalformedInputsAreInvalidArgument) {
  Parser parser;
  for (std::string_view bad : {"", "   ", "{", "[1,]", R"({"a" 1})", R"({"a":1,})", "tru", "[1 2]",
                               "1 2", R"("unterminated)", R"("\x")", "\"\xff\"", "01", "NaN",
                               "18446744073709551616", "{'a':1}"}) {
    absl::StatusOr<simdjson::dom::element> root = parser.Parse(bad);
    ASSERT_FALSE(root.ok()) << "accepted: " << bad;
    EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(root.status().message().find("invalid JSON"), absl::string_view::npos);
  }
  absl::StatusOr<simdjson::dom::element> root = parser.Parse("[1,]");
  EXPECT_EQ(root.status().message(),
            "invalid JSON (4-byte document): The JSON document has an improper structure: "
            "missing or superfluous commas, braces, missing keys, etc.");
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  Parser parser;
  EXPECT_FALSE(parser.Parse(deep).ok());
}

TEST(WriteElementTest, CompactsWhitespaceAndKeepsOrder) {
  EXPECT_EQ(Canonical(R"( { "b" : 1 , "a" : [ true , false , null ] } )", false),
            R"({"b":1,"a":[true,false,null]})");
}

TEST(WriteElementTest, SortsKeysRecursively) {
  EXPECT_EQ(Canonical(R"({"tru":true,"other":"value","nested":{"z":1,"a":{"y":2,"b":3}},
                          "arr":[{"k":1,"c":2}]})",
                      true),
            R"({"arr":[{"c":2,"k":1}],"nested":{"a":{"b":3,"y":2},"z":1},"other":"value",)"
            R"("tru":true})");
}

TEST(WriteElementTest, SortsKeysBytewise) {
  // Uppercase sorts before lowercase; a prefix before its extensions; multi-byte UTF-8 after
  // ASCII (bytes compare unsigned).
  EXPECT_EQ(Canonical(R"({"é":1,"b":2,"B":3,"ba":4,"":5,"~":6})", true),
            R"({"":5,"B":3,"b":2,"ba":4,"~":6,"é":1})");
}

TEST(WriteElementTest, DuplicateKeysKeepTheirOrderWhenSorted) {
  EXPECT_EQ(Canonical(R"({"b":1,"a":1,"b":2})", true), R"({"a":1,"b":1,"b":2})");
}

TEST(WriteElementTest, NumbersKeepTheirType) {
  EXPECT_EQ(Canonical("[1,-1,1.0,-0,-0.0,1e2,1.5E-7,9223372036854775807,-9223372036854775808,"
                      "9223372036854775808,18446744073709551615,3.14159]",
                      false),
            "[1,-1,1.0,0,-0.0,100.0,1.5e-7,9223372036854775807,-9223372036854775808,"
            "9223372036854775808,18446744073709551615,3.14159]");
}

TEST(WriteElementTest, StringsAreReescaped) {
  EXPECT_EQ(Canonical(R"(["\u0041\u00e9\n\"\\\/\u0000\ud83d\ude00"])", false),
            "[\"A\xc3\xa9\\n\\\"\\\\/\\u0000\xf0\x9f\x98\x80\"]");
}

TEST(WriteElementTest, ScalarsAtTopLevel) {
  EXPECT_EQ(Canonical("null", true), "null");
  EXPECT_EQ(Canonical("\"s\"", true), "\"s\"");
  EXPECT_EQ(Canonical("  7  ", true), "7");
}

TEST(WriteElementTest, WritesIntoEnclosingWriter) {
  Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(R"({"b":1,"a":2})");
  ASSERT_TRUE(root.ok());
  std::string out;
  Writer writer(&out);
  writer.BeginArray().Int(0);
  WriteElement(*root, writer, /*sort_keys=*/true);
  WriteElement(*root, writer, /*sort_keys=*/false);
  writer.EndArray();
  EXPECT_EQ(out, R"([0,{"a":2,"b":1},{"b":1,"a":2}])");
}

}  // namespace
}  // namespace connectors::json
