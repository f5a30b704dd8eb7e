#include "libs/json/merge_patch.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"

namespace connectors::json {
namespace {

std::string Apply(std::string_view target, std::string_view patch) {
  absl::StatusOr<std::string> result = ApplyMergePatch(target, patch);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : "<error>";
}

struct Example {
  std::string_view target;
  std::string_view patch;
  std::string_view result;
};

// RFC 7396 Appendix A, in order.
TEST(MergePatchTest, Rfc7396AppendixA) {
  const Example examples[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const Example& e : examples) {
    EXPECT_EQ(Apply(e.target, e.patch), e.result) << e.target << " + " << e.patch;
  }
}

// The worked example of RFC 7396 section 3.
TEST(MergePatchTest, Rfc7396Section3Example) {
  constexpr std::string_view kTarget = R"({
    "title": "Goodbye!",
    "author" : {
      "givenName" : "John",
      "familyName" : "Doe"
    },
    "tags":[ "example", "sample" ],
    "content": "This will be unchanged"
  })";
  constexpr std::string_view kPatch = R"({
    "title": "Hello!",
    "phoneNumber": "+01-123-456-7890",
    "author": {
      "familyName": null
    },
    "tags": [ "example" ]
  })";
  EXPECT_EQ(Apply(kTarget, kPatch),
            R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],)"
            R"("content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})");
}

TEST(MergePatchTest, AbsentTarget) {
  EXPECT_EQ(Apply("", R"({"a":1,"b":null,"c":{"d":null,"e":[null]}})"),
            R"({"a":1,"c":{"e":[null]}})");
  EXPECT_EQ(Apply("  \n", "[1]"), "[1]");
  EXPECT_EQ(Apply("", "null"), "null");
  EXPECT_EQ(Apply("null", R"({"a":1})"), R"({"a":1})");
}

TEST(MergePatchTest, EmptyPatchObjectKeepsTarget) {
  EXPECT_EQ(Apply(R"({"b":2, "a":{"x":[1, 2.5]}})", "{}"), R"({"b":2,"a":{"x":[1,2.5]}})");
  EXPECT_EQ(Apply("7", "{}"), "{}");
}

TEST(MergePatchTest, KeepsTargetOrderAndAppendsNewKeysInPatchOrder) {
  EXPECT_EQ(Apply(R"({"z":1,"m":2,"a":3})", R"({"y":9,"a":4,"b":null,"c":5,"z":null})"),
            R"({"m":2,"a":4,"y":9,"c":5})");
}

TEST(MergePatchTest, DeepMerge) {
  EXPECT_EQ(Apply(R"({"s":{"bindingStateV1":{"x":{"cursor":1,"done":false}}}})",
                  R"({"s":{"bindingStateV1":{"x":{"cursor":2},"y":{"cursor":0}}}})"),
            R"({"s":{"bindingStateV1":{"x":{"cursor":2,"done":false},"y":{"cursor":0}}}})");
}

TEST(MergePatchTest, NumbersAndStringsSurvive) {
  EXPECT_EQ(Apply(R"({"big":18446744073709551615,"neg":-9223372036854775808,"f":1.0})",
                  R"({"s":"line\nbreak \"q\" é"})"),
            R"({"big":18446744073709551615,"neg":-9223372036854775808,"f":1.0,)"
            R"("s":"line\nbreak \"q\" é"})");
}

TEST(MergePatchTest, DuplicatePatchKeysLastWins) {
  EXPECT_EQ(Apply(R"({"a":0})", R"({"a":1,"a":2})"), R"({"a":2})");
  EXPECT_EQ(Apply(R"({})", R"({"a":1,"a":2})"), R"({"a":2})");
  EXPECT_EQ(Apply(R"({"a":0})", R"({"a":1,"a":null})"), R"({})");
}

TEST(MergePatchTest, LargeObjectsUseTheIndex) {
  // More members than the linear-scan threshold, on both sides.
  std::string target = "{";
  std::string patch = "{";
  std::string expected = "{";
  for (int i = 0; i < 100; ++i) {
    const std::string k = "\"k" + std::to_string(i) + "\"";
    target += (i ? "," : "") + k + ":" + std::to_string(i);
    if (i % 3 == 0) {
      patch += (patch.size() > 1 ? "," : "") + k + ":null";
    } else if (i % 3 == 1) {
      patch += (patch.size() > 1 ? "," : "") + k + ":\"x\"";
      expected += (expected.size() > 1 ? "," : "") + k + ":\"x\"";
    } else {
      expected += (expected.size() > 1 ? "," : "") + k + ":" + std::to_string(i);
    }
  }
  for (int i = 0; i < 20; ++i) {
    patch += ",\"new" + std::to_string(i) + "\":" + std::to_string(i);
    expected += ",\"new" + std::to_string(i) + "\":" + std::to_string(i);
  }
  EXPECT_EQ(Apply(target + "}", patch + ",\"k1\":\"x\"}"), expected + "}");
}

TEST(MergePatchTest, MalformedDocuments) {
  absl::StatusOr<std::string> result = ApplyMergePatch(R"({"a":)", "{}");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("merge patch target"), absl::string_view::npos);

  result = ApplyMergePatch("{}", "{,}");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("merge patch: invalid JSON"), absl::string_view::npos);

  EXPECT_FALSE(ApplyMergePatch("{}", "").ok());
}

TEST(MergePatchTest, WriteMergePatchWithinALargerDocument) {
  Parser target_parser;
  Parser patch_parser;
  absl::StatusOr<simdjson::dom::element> target = target_parser.Parse(R"({"a":1,"b":2})");
  absl::StatusOr<simdjson::dom::element> patch = patch_parser.Parse(R"({"b":null,"c":3})");
  ASSERT_TRUE(target.ok() && patch.ok());
  std::string out;
  Writer writer(&out);
  writer.BeginObject().Key("state");
  WriteMergePatch(&*target, *patch, writer);
  writer.Key("fresh");
  WriteMergePatch(nullptr, *patch, writer);
  writer.EndObject();
  EXPECT_EQ(out, R"({"state":{"a":1,"c":3},"fresh":{"c":3}})");
}

// Applying patches one after another equals folding them (what the runtime does within a
// transaction); this exercises repeated application on our own output.
TEST(MergePatchTest, SequentialApplication) {
  std::string state = "{}";
  for (std::string_view patch : {R"({"a":{"x":1}})", R"({"a":{"y":2}})", R"({"b":[1]})",
                                 R"({"a":{"x":null}})", R"({"b":null,"c":true})"}) {
    state = Apply(state, patch);
  }
  EXPECT_EQ(state, R"({"a":{"y":2},"c":true})");
}

}  // namespace
}  // namespace connectors::json
