#include "libs/json/pointer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/json/parse.h"

namespace connectors::json {
namespace {

// The example document of RFC 6901 section 5.
constexpr std::string_view kRfcDocument = R"({
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8
})";

class PointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<simdjson::dom::element> root = parser_.Parse(kRfcDocument);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = *root;
  }

  // Compact JSON of the value at `text`, or the error's code name.
  std::string At(std::string_view text) {
    absl::StatusOr<Pointer> pointer = Pointer::Parse(text);
    if (!pointer.ok()) return "parse error";
    absl::StatusOr<simdjson::dom::element> value = Resolve(root_, *pointer);
    if (!value.ok()) return absl::StatusCodeToString(value.status().code());
    return ToJson(*value);
  }

  Parser parser_;
  simdjson::dom::element root_;
};

TEST_F(PointerTest, Rfc6901Section5) {
  EXPECT_EQ(At(""), R"({"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,)"
                    R"("i\\j":5,"k\"l":6," ":7,"m~n":8})");
  EXPECT_EQ(At("/foo"), R"(["bar","baz"])");
  EXPECT_EQ(At("/foo/0"), R"("bar")");
  EXPECT_EQ(At("/"), "0");
  EXPECT_EQ(At("/a~1b"), "1");
  EXPECT_EQ(At("/c%d"), "2");
  EXPECT_EQ(At("/e^f"), "3");
  EXPECT_EQ(At("/g|h"), "4");
  EXPECT_EQ(At("/i\\j"), "5");
  EXPECT_EQ(At("/k\"l"), "6");
  EXPECT_EQ(At("/ "), "7");
  EXPECT_EQ(At("/m~0n"), "8");
}

TEST_F(PointerTest, AbsentValuesAreNotFound) {
  EXPECT_EQ(At("/missing"), "NOT_FOUND");
  EXPECT_EQ(At("/foo/2"), "NOT_FOUND");
  EXPECT_EQ(At("/foo/-"), "NOT_FOUND");
  EXPECT_EQ(At("/foo/99999999999999999999999"), "NOT_FOUND");
  EXPECT_EQ(At("/foo/0/x"), "NOT_FOUND");  // Into a string.
  EXPECT_EQ(At("/ /0"), "NOT_FOUND");      // Into a number.
  EXPECT_EQ(At("/a~1b/"), "NOT_FOUND");
  EXPECT_EQ(At("/a/b"), "NOT_FOUND");  // "a/b" is one member, spelled /a~1b.
  EXPECT_EQ(At("//"), "NOT_FOUND");
}

TEST_F(PointerTest, MalformedArrayIndices) {
  for (std::string_view text :
       {"/foo/01", "/foo/00", "/foo/x", "/foo/+1", "/foo/-1", "/foo/", "/foo/1.0", "/foo/ 1"}) {
    EXPECT_EQ(At(text), "INVALID_ARGUMENT") << text;
  }
  EXPECT_EQ(At("/foo/1"), R"("baz")");
}

TEST_F(PointerTest, ErrorMessagesNameThePointer) {
  absl::StatusOr<Pointer> pointer = Pointer::Parse("/foo/7");
  ASSERT_TRUE(pointer.ok());
  absl::StatusOr<simdjson::dom::element> value = Resolve(root_, *pointer);
  EXPECT_EQ(value.status().message(), "JSON pointer \"/foo/7\": index 7 is out of range");
  value = Resolve(root_, Pointer({"nope"}));
  EXPECT_EQ(value.status().message(), "JSON pointer \"/nope\": no member \"nope\"");
}

TEST_F(PointerTest, Lookup) {
  std::optional<simdjson::dom::element> value = Lookup(root_, Pointer({"foo", "1"}));
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(ToJson(*value), R"("baz")");
  EXPECT_FALSE(Lookup(root_, Pointer({"foo", "2"})).has_value());
  EXPECT_FALSE(Lookup(root_, Pointer({"foo", "01"})).has_value());
  EXPECT_FALSE(Lookup(root_, Pointer({"nope"})).has_value());
  EXPECT_TRUE(Lookup(root_, Pointer()).has_value());
}

TEST(PointerParseTest, Tokens) {
  using Tokens = std::vector<std::string>;
  auto tokens = [](std::string_view text) {
    absl::StatusOr<Pointer> pointer = Pointer::Parse(text);
    EXPECT_TRUE(pointer.ok()) << text << ": " << pointer.status();
    return pointer.ok() ? pointer->tokens() : Tokens{"<error>"};
  };
  EXPECT_EQ(tokens(""), Tokens{});
  EXPECT_EQ(tokens("/"), Tokens{""});
  EXPECT_EQ(tokens("//"), (Tokens{"", ""}));
  EXPECT_EQ(tokens("/a/b/"), (Tokens{"a", "b", ""}));
  EXPECT_EQ(tokens("/a~1b/m~0n"), (Tokens{"a/b", "m~n"}));
  // "~01" is "~" then "1", not "/": unescaping is a single left-to-right pass.
  EXPECT_EQ(tokens("/~01"), Tokens{"~1"});
  EXPECT_EQ(tokens("/~10"), Tokens{"/0"});
  EXPECT_EQ(tokens("/é"), Tokens{"é"});
}

TEST(PointerParseTest, Errors) {
  for (std::string_view bad : {"a", "a/b", "#/a", "/~", "/a~", "/~2", "/a~x/b", "/~~0"}) {
    absl::StatusOr<Pointer> pointer = Pointer::Parse(bad);
    ASSERT_FALSE(pointer.ok()) << bad;
    EXPECT_EQ(pointer.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Pointer::Parse("/ab~2").status().message(),
            "JSON pointer \"/ab~2\": bad escape at offset 3 ('~' must be followed by '0' or '1')");
  EXPECT_EQ(Pointer::Parse("x").status().message(),
            "JSON pointer \"x\" must be empty or start with '/'");
}

TEST(PointerParseTest, EscapeAndRoundTrip) {
  EXPECT_EQ(EscapeToken("a/b~c"), "a~1b~0c");
  EXPECT_EQ(EscapeToken("~/"), "~0~1");
  EXPECT_EQ(EscapeToken(""), "");
  for (std::string_view text : {"", "/", "/a~1b/m~0n/0", "/~0~1/~1~0//x"}) {
    absl::StatusOr<Pointer> pointer = Pointer::Parse(text);
    ASSERT_TRUE(pointer.ok());
    EXPECT_EQ(pointer->ToString(), text);
  }
  Pointer built;
  built.Push("a/b").Push("~").Push("0");
  EXPECT_EQ(built.ToString(), "/a~1b/~0/0");
  absl::StatusOr<Pointer> reparsed = Pointer::Parse(built.ToString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(*reparsed, built);
  EXPECT_TRUE(Pointer().is_root());
}

}  // namespace
}  // namespace connectors::json
