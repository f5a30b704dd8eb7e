#include "libs/schema-gen/validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libs/schema-gen/schema.h"

namespace connectors::schema {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Every problem as "<path>: <message>", or the compile error when the schema is rejected.
std::vector<std::string> Problems(std::string_view schema, std::string_view instance) {
  absl::StatusOr<Validator> validator = Validator::Compile(schema);
  if (!validator.ok()) return {"compile: " + std::string(validator.status().message())};
  std::vector<std::string> problems;
  for (const Error& error : validator->Validate(instance)) problems.push_back(error.ToString());
  return problems;
}

std::string CompileError(std::string_view schema) {
  absl::StatusOr<Validator> validator = Validator::Compile(schema);
  EXPECT_EQ(validator.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(validator.status().message());
}

TEST(TypeTest, SingleType) {
  constexpr std::string_view kSchema = R"({"type":"string"})";
  EXPECT_THAT(Problems(kSchema, R"("hi")"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "5"), ElementsAre("(root): expected string, got number"));
  EXPECT_THAT(Problems(kSchema, "null"), ElementsAre("(root): expected string, got null"));
  EXPECT_THAT(Problems(kSchema, "{}"), ElementsAre("(root): expected string, got object"));
}

TEST(TypeTest, EachTypeName) {
  EXPECT_THAT(Problems(R"({"type":"boolean"})", "true"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"boolean"})", "[]"),
              ElementsAre("(root): expected boolean, got array"));
  EXPECT_THAT(Problems(R"({"type":"null"})", "null"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"array"})", "[1]"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"object"})", R"({"a":1})"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"object"})", R"("x")"),
              ElementsAre("(root): expected object, got string"));
  EXPECT_THAT(Problems(R"({"type":"number"})", "1.5"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"number"})", "18446744073709551615"), IsEmpty());
  EXPECT_THAT(Problems(R"({"type":"number"})", "false"),
              ElementsAre("(root): expected number, got boolean"));
}

TEST(TypeTest, IntegerMeansNoFractionalPart) {
  constexpr std::string_view kSchema = R"({"type":"integer"})";
  EXPECT_THAT(Problems(kSchema, "5"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "-5.0"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "1e3"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "5.5"), ElementsAre("(root): expected integer, got number"));
}

TEST(TypeTest, ListOfTypes) {
  constexpr std::string_view kSchema = R"({"type":["null","string"]})";
  EXPECT_THAT(Problems(kSchema, "null"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"("x")"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "1"), ElementsAre("(root): expected null or string, got number"));
}

TEST(TypeTest, NoTypeAcceptsAnything) {
  EXPECT_THAT(Problems("{}", R"([1,"a",{"b":null}])"), IsEmpty());
  EXPECT_THAT(Problems("true", "1"), IsEmpty());
  EXPECT_THAT(Problems("false", "1"), ElementsAre("(root): no value is allowed here"));
}

TEST(ObjectTest, PropertiesAndNestedPaths) {
  constexpr std::string_view kSchema = R"({
    "type":"object",
    "properties":{
      "port":{"type":"integer"},
      "credentials":{"type":"object","required":["user","password"],
                     "properties":{"user":{"type":"string"}}}
    }})";
  EXPECT_THAT(Problems(kSchema, R"({"port":5432,"credentials":{"user":"u","password":"p"}})"),
              IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"port":"5432","credentials":{"user":7}})"),
              ElementsAre("/port: expected integer, got string",
                          "/credentials: missing required property \"password\"",
                          "/credentials/user: expected string, got number"));
}

TEST(ObjectTest, RequiredAtRoot) {
  EXPECT_THAT(Problems(R"({"required":["a","b"]})", R"({"b":null})"),
              ElementsAre("(root): missing required property \"a\""));
  // Non-objects are not checked for properties.
  EXPECT_THAT(Problems(R"({"required":["a"]})", "3"), IsEmpty());
}

TEST(ObjectTest, AdditionalPropertiesFalse) {
  constexpr std::string_view kSchema = R"({"properties":{"a":{}},"additionalProperties":false})";
  EXPECT_THAT(Problems(kSchema, R"({"a":1})"), IsEmpty());
  EXPECT_THAT(
      Problems(kSchema, R"({"a":1,"b":2,"c\"d":3})"),
      ElementsAre("(root): unexpected property \"b\"", "(root): unexpected property \"c\\\"d\""));
}

TEST(ObjectTest, AdditionalPropertiesSchema) {
  constexpr std::string_view kSchema =
      R"({"properties":{"a":{}},"additionalProperties":{"type":"string"}})";
  EXPECT_THAT(Problems(kSchema, R"({"a":1,"b":"x","c/d~":2})"),
              ElementsAre("/c~1d~0: expected string, got number"));
  EXPECT_THAT(Problems(R"({"additionalProperties":true})", R"({"x":1})"), IsEmpty());
}

TEST(ValueTest, Enum) {
  constexpr std::string_view kSchema = R"({"enum":["a",1,null,{"k":[1,2]}]})";
  EXPECT_THAT(Problems(kSchema, R"("a")"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "1.0"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({ "k" : [1, 2.0] })"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"("b")"),
              ElementsAre(R"((root): must be one of ["a",1,null,{"k":[1,2]}], got "b")"));
}

TEST(ValueTest, Const) {
  constexpr std::string_view kSchema = R"({"const":{"b":1,"a":[true]}})";
  EXPECT_THAT(Problems(kSchema, R"({"a":[true],"b":1})"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"a":[false],"b":1})"),
              ElementsAre(R"((root): must equal {"a":[true],"b":1}, got {"a":[false],"b":1})"));
}

TEST(NumberTest, InclusiveBounds) {
  constexpr std::string_view kSchema = R"({"minimum":0,"maximum":10.5})";
  EXPECT_THAT(Problems(kSchema, "0"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "10.5"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "-5"), ElementsAre("(root): must be >= 0, got -5"));
  EXPECT_THAT(Problems(kSchema, "11"), ElementsAre("(root): must be <= 10.5, got 11"));
  EXPECT_THAT(Problems(kSchema, R"("-5")"), IsEmpty());  // Bounds apply to numbers only.
}

TEST(NumberTest, ExclusiveBounds) {
  constexpr std::string_view kSchema = R"({"exclusiveMinimum":0,"exclusiveMaximum":1})";
  EXPECT_THAT(Problems(kSchema, "0.5"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "0"), ElementsAre("(root): must be > 0, got 0"));
  EXPECT_THAT(Problems(kSchema, "1.0"), ElementsAre("(root): must be < 1, got 1"));
}

TEST(NumberTest, Draft4BooleanExclusiveBounds) {
  constexpr std::string_view kSchema =
      R"({"minimum":1,"exclusiveMinimum":true,"maximum":3,"exclusiveMaximum":false})";
  EXPECT_THAT(Problems(kSchema, "3"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "1"), ElementsAre("(root): must be > 1, got 1"));
}

TEST(NumberTest, LargeIntegersCompareExactly) {
  // 2^53 + 1 rounds to 2^53 as a double; the comparison must not.
  EXPECT_THAT(Problems(R"({"maximum":9007199254740992})", "9007199254740993"),
              ElementsAre("(root): must be <= 9007199254740992, got 9007199254740993"));
  EXPECT_THAT(Problems(R"({"minimum":18446744073709551614})", "18446744073709551615"), IsEmpty());
}

TEST(StringTest, LengthCountsCodePoints) {
  constexpr std::string_view kSchema = R"({"minLength":2,"maxLength":3})";
  EXPECT_THAT(Problems(kSchema, R"("héé")"), IsEmpty());  // 5 bytes, 3 code points.
  EXPECT_THAT(Problems(kSchema, R"("😀")"),
              ElementsAre("(root): must have at least 2 characters, got 1"));
  EXPECT_THAT(Problems(kSchema, R"("abcd")"),
              ElementsAre("(root): must have at most 3 characters, got 4"));
  EXPECT_THAT(Problems(R"({"minLength":1})", R"("")"),
              ElementsAre("(root): must have at least 1 character, got 0"));
}

TEST(StringTest, PatternIsAnUnanchoredSearch) {
  EXPECT_THAT(Problems(R"({"pattern":"a+"})", R"("caat")"), IsEmpty());
  EXPECT_THAT(Problems(R"({"pattern":"^[a-z_]+$"})", R"("Users")"),
              ElementsAre(R"((root): must match pattern "^[a-z_]+$", got "Users")"));
  EXPECT_THAT(Problems(R"({"pattern":"^\\d{2}$"})", R"("42")"), IsEmpty());
  EXPECT_THAT(Problems(R"({"pattern":"x"})", "5"), IsEmpty());
}

TEST(StringTest, PatternHandlesLongInputs) {
  const std::string certificate = "\"" + std::string(200000, 'A') + "\"";
  EXPECT_THAT(Problems(R"({"pattern":"^[A-Za-z0-9+/=\\s-]+$"})", certificate), IsEmpty());
}

TEST(StringTest, PatternMatchingStaysPolynomial) {
  // A backtracking matcher needs about 2^40 steps to reject this.
  EXPECT_THAT(Problems(R"({"pattern":"^(a*)*b$"})", "\"" + std::string(40, 'a') + "\""),
              ElementsAre(HasSubstr("must match pattern")));
}

TEST(StringTest, Format) {
  EXPECT_THAT(Problems(R"({"format":"date-time"})", R"("2024-01-31T09:30:00Z")"), IsEmpty());
  EXPECT_THAT(Problems(R"({"format":"date-time"})", R"("2024-01-31 09:30")"),
              ElementsAre("(root): must be an RFC 3339 date-time such as 2024-01-31T09:30:00Z, "
                          "got \"2024-01-31 09:30\""));
  EXPECT_THAT(Problems(R"({"format":"no-such-format"})", R"("anything")"), IsEmpty());
  EXPECT_THAT(Problems(R"({"format":"date"})", "20240131"), IsEmpty());  // Strings only.
}

TEST(ArrayTest, ItemsAndCounts) {
  constexpr std::string_view kSchema =
      R"({"properties":{"tags":{"items":{"type":"string"},"minItems":1,"maxItems":2}}})";
  EXPECT_THAT(Problems(kSchema, R"({"tags":["a","b"]})"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"tags":[]})"),
              ElementsAre("/tags: must have at least 1 item, got 0"));
  EXPECT_THAT(Problems(kSchema, R"({"tags":["a",2,"c"]})"),
              ElementsAre("/tags: must have at most 2 items, got 3",
                          "/tags/1: expected string, got number"));
}

TEST(ArrayTest, UniqueItemsUsesJsonEquality) {
  constexpr std::string_view kSchema = R"({"uniqueItems":true})";
  EXPECT_THAT(Problems(kSchema, R"([1,"1",[1],{"a":1}])"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"([1,2,1.0])"),
              ElementsAre("(root): must not contain duplicates, but items 0 and 2 are equal"));
  EXPECT_THAT(Problems(kSchema, R"([{"a":1,"b":2},{"b":2,"a":1}])"),
              ElementsAre("(root): must not contain duplicates, but items 0 and 1 are equal"));
}

TEST(CombinatorTest, AllOf) {
  EXPECT_THAT(Problems(R"({"allOf":[{"type":"integer"},{"minimum":3}]})", "2"),
              ElementsAre("(root): must be >= 3, got 2"));
}

TEST(CombinatorTest, AnyOf) {
  constexpr std::string_view kSchema = R"({"anyOf":[{"type":"string"},{"minimum":3}]})";
  EXPECT_THAT(Problems(kSchema, R"("x")"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "4"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "2"),
              ElementsAre("(root): must match at least one of the 2 anyOf options"));
}

TEST(CombinatorTest, OneOfWithoutDiscriminator) {
  constexpr std::string_view kSchema =
      R"({"oneOf":[{"type":"integer"},{"minimum":3},{"type":"string"}]})";
  EXPECT_THAT(Problems(kSchema, "2"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, "2.5"),
              ElementsAre("(root): must match exactly one of the 3 oneOf options, but matches "
                          "none"));
  EXPECT_THAT(Problems(kSchema, "4"),
              ElementsAre("(root): must match exactly one of the 3 oneOf options, but matches "
                          "options 0, 1"));
}

TEST(CombinatorTest, Not) {
  EXPECT_THAT(Problems(R"({"not":{"type":"null"}})", "1"), IsEmpty());
  EXPECT_THAT(Problems(R"({"not":{"type":"null"}})", "null"),
              ElementsAre("(root): must not match the \"not\" schema"));
}

TEST(CombinatorTest, IfThenElse) {
  constexpr std::string_view kSchema = R"({
    "if":{"properties":{"mode":{"const":"ssh"}},"required":["mode"]},
    "then":{"required":["host"]},
    "else":{"properties":{"host":false}}})";
  EXPECT_THAT(Problems(kSchema, R"({"mode":"ssh","host":"h"})"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"mode":"ssh"})"),
              ElementsAre("(root): missing required property \"host\""));
  EXPECT_THAT(Problems(kSchema, R"({"mode":"none","host":"h"})"),
              ElementsAre("/host: no value is allowed here"));
  EXPECT_THAT(Problems(R"({"if":{"type":"string"}})", "1"), IsEmpty());
}

// The shape OneOf() produces, written by hand as connectors' older schemas are.
constexpr std::string_view kCredentials = R"({
  "type":"object",
  "properties":{"credentials":{
    "type":"object",
    "discriminator":{"propertyName":"auth_type"},
    "oneOf":[
      {"title":"User Name and Password","type":"object","required":["auth_type","password"],
       "properties":{"auth_type":{"type":"string","const":"UserPassword"},
                     "password":{"type":"string","secret":true,"minLength":8}}},
      {"title":"Access Token","type":"object","required":["auth_type","token"],
       "properties":{"auth_type":{"type":"string","const":"AccessToken"},
                     "token":{"type":"string"}}}]}}})";

TEST(DiscriminatorTest, SelectsTheBranchAndReportsItsErrors) {
  EXPECT_THAT(Problems(kCredentials,
                       R"({"credentials":{"auth_type":"UserPassword","password":"12345678"}})"),
              IsEmpty());
  EXPECT_THAT(Problems(kCredentials, R"({"credentials":{"auth_type":"AccessToken"}})"),
              ElementsAre("/credentials: missing required property \"token\""));
  EXPECT_THAT(
      Problems(kCredentials, R"({"credentials":{"auth_type":"UserPassword","password":"short"}})"),
      ElementsAre("/credentials/password: must have at least 8 characters"));
}

TEST(DiscriminatorTest, UnknownOrMissingValueNamesTheAllowedValues) {
  EXPECT_THAT(Problems(kCredentials, R"({"credentials":{"auth_type":"Kerberos"}})"),
              ElementsAre("/credentials/auth_type: must be one of "
                          "[\"UserPassword\",\"AccessToken\"], got \"Kerberos\""));
  EXPECT_THAT(Problems(kCredentials, R"({"credentials":{"token":"t"}})"),
              ElementsAre("/credentials: missing required property \"auth_type\" (one of "
                          "[\"UserPassword\",\"AccessToken\"])"));
}

TEST(DiscriminatorTest, BranchesBehindRefs) {
  constexpr std::string_view kSchema = R"({
    "$defs":{"a":{"properties":{"kind":{"enum":["a"]},"n":{"type":"integer"}}},
             "b":{"properties":{"kind":{"const":"b"}}}},
    "discriminator":{"propertyName":"kind"},
    "oneOf":[{"$ref":"#/$defs/a"},{"$ref":"#/$defs/b"}]})";
  EXPECT_THAT(Problems(kSchema, R"({"kind":"a","n":"x"})"),
              ElementsAre("/n: expected integer, got string"));
  EXPECT_THAT(Problems(kSchema, R"({"kind":"b","n":"x"})"), IsEmpty());
}

TEST(DiscriminatorTest, BranchesWithoutConstFallBackToPlainOneOf) {
  constexpr std::string_view kSchema = R"({
    "discriminator":{"propertyName":"kind"},
    "oneOf":[{"properties":{"kind":{"const":"a"}},"required":["kind"]},
             {"properties":{"n":{"type":"integer"}},"required":["n"]}]})";
  EXPECT_THAT(Problems(kSchema, R"({"n":1})"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"kind":"a","n":1})"),
              ElementsAre("(root): must match exactly one of the 2 oneOf options, but matches "
                          "options 0, 1"));
}

TEST(DiscriminatorTest, DuplicateValuesAreACompileError) {
  EXPECT_EQ(CompileError(R"({"discriminator":{"propertyName":"k"},
      "oneOf":[{"properties":{"k":{"const":"a"}}},{"properties":{"k":{"const":"a"}}}]})"),
            "invalid schema at (root): oneOf branches 0 and 1 share discriminator value \"a\"");
}

TEST(RefTest, DefsAndDefinitions) {
  constexpr std::string_view kSchema = R"({
    "$defs":{"port":{"type":"integer","maximum":65535}},
    "definitions":{"host":{"type":"string","minLength":1}},
    "properties":{"port":{"$ref":"#/$defs/port"},"host":{"$ref":"#/definitions/host"}}})";
  EXPECT_THAT(Problems(kSchema, R"({"port":5432,"host":"db"})"), IsEmpty());
  EXPECT_THAT(Problems(kSchema, R"({"port":70000,"host":""})"),
              ElementsAre("/port: must be <= 65535, got 70000",
                          "/host: must have at least 1 character, got 0"));
}

TEST(RefTest, SiblingKeywordsStillApply) {
  EXPECT_THAT(
      Problems(R"({"$defs":{"n":{"type":"integer"}},"$ref":"#/$defs/n","minimum":5})", "4.5"),
      ElementsAre("(root): must be >= 5, got 4.5", "(root): expected integer, got number"));
}

TEST(RefTest, RecursiveSchemas) {
  constexpr std::string_view kTree = R"({
    "type":"object","required":["name"],
    "properties":{"name":{"type":"string"},"children":{"items":{"$ref":"#"}}}})";
  EXPECT_THAT(Problems(kTree, R"({"name":"a","children":[{"name":"b","children":[]}]})"),
              IsEmpty());
  EXPECT_THAT(Problems(kTree, R"({"name":"a","children":[{"children":[{"name":1}]}]})"),
              ElementsAre("/children/0: missing required property \"name\"",
                          "/children/0/children/0/name: expected string, got number"));
}

TEST(RefTest, EscapedPointers) {
  constexpr std::string_view kSchema =
      R"({"$defs":{"a/b":{"type":"string"},"c d":{"type":"null"}},
          "properties":{"x":{"$ref":"#/$defs/a~1b"},"y":{"$ref":"#/$defs/c%20d"}}})";
  EXPECT_THAT(Problems(kSchema, R"({"x":1,"y":null})"),
              ElementsAre("/x: expected string, got number"));
}

TEST(RefTest, DeepRecursionWithinLimits) {
  constexpr std::string_view kNested = R"({"$defs":{"n":{"items":{"$ref":"#/$defs/n"}}},
                                           "$ref":"#/$defs/n"})";
  const std::string instance = std::string(200, '[') + std::string(200, ']');
  EXPECT_THAT(Problems(kNested, instance), IsEmpty());
}

TEST(RefTest, CyclesWithoutProgressAreRejected) {
  EXPECT_EQ(CompileError(R"({"$ref":"#"})"),
            "invalid schema at (root): $ref cycle: the schema refers back to itself without "
            "descending into a property or item");
  EXPECT_THAT(
      CompileError(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"allOf":[{"$ref":"#/$defs/a"}]}},
                              "$ref":"#/$defs/a"})"),
      HasSubstr("$ref cycle"));
}

TEST(RefTest, UnsupportedOrDanglingRefs) {
  EXPECT_EQ(CompileError(R"({"properties":{"a":{"$ref":"#/$defs/missing"}}})"),
            "invalid schema at /properties/a: $ref \"#/$defs/missing\" does not resolve");
  EXPECT_EQ(CompileError(R"({"$ref":"https://example.com/s.json"})"),
            "invalid schema at (root): $ref \"https://example.com/s.json\" is not supported: "
            "only \"#\" and \"#/...\" pointers into the same document are");
  EXPECT_THAT(CompileError(R"({"$ref":"#anchor"})"), HasSubstr("is not supported"));
}

TEST(SecretTest, ValuesAreNeverEchoed) {
  constexpr std::string_view kSchema = R"({"properties":{
    "password":{"type":"string","secret":true,"pattern":"^[a-z]+$","minLength":20},
    "key":{"airbyte_secret":true,"enum":["x"]},
    "token":{"secret":true,"const":"y"},
    "pin":{"secret":true,"maximum":10}}})";
  const std::vector<std::string> problems =
      Problems(kSchema, R"({"password":"Hunter2","key":"s3cr3t","token":"t0k3n","pin":1234})");
  EXPECT_THAT(problems, ElementsAre("/password: must have at least 20 characters",
                                    "/password: must match pattern \"^[a-z]+$\"",
                                    "/key: must be one of [\"x\"]", "/token: must equal \"y\"",
                                    "/pin: must be <= 10"));
}

TEST(SecretTest, SecretReachedThroughRefOrEnclosingObject) {
  constexpr std::string_view kSchema = R"({
    "$defs":{"pw":{"type":"string","pattern":"^x"}},
    "properties":{
      "a":{"$ref":"#/$defs/pw","secret":true},
      "b":{"secret":"true","properties":{"inner":{"pattern":"^x"}}}}})";
  EXPECT_THAT(Problems(kSchema, R"({"a":"hunter2","b":{"inner":"hunter3"}})"),
              ElementsAre("/a: must match pattern \"^x\"", "/b/inner: must match pattern \"^x\""));
}

TEST(MessageTest, EchoedValuesAreTruncated) {
  const std::string value(100, 'v');
  EXPECT_THAT(
      Problems(R"({"maxLength":3,"pattern":"^x"})", "\"" + value + "\""),
      ElementsAre("(root): must have at most 3 characters, got 100",
                  "(root): must match pattern \"^x\", got \"" + std::string(63, 'v') + "..."));
}

TEST(MessageTest, AnnotationsAreIgnored) {
  constexpr std::string_view kSchema = R"({
    "$schema":"https://json-schema.org/draft/2020-12/schema","title":"T","description":"D",
    "properties":{"a":{"type":"string","default":5,"order":"1","x-anything":{"k":1},
                       "examples":[1],"advanced":true,"multiline":true,"nonsensitive":true}}})";
  EXPECT_THAT(Problems(kSchema, R"({"a":"x"})"), IsEmpty());
}

TEST(MessageTest, CheckJoinsEveryProblem) {
  absl::StatusOr<Validator> validator = Validator::Compile(R"({"properties":{
      "interval_ms":{"type":"integer","minimum":0},"greeting":{"type":"string"}}})");
  ASSERT_TRUE(validator.ok());
  EXPECT_TRUE(validator->Check(R"({"interval_ms":1})", "endpoint config").ok());
  const absl::Status status =
      validator->Check(R"({"greeting":5,"interval_ms":-5})", "endpoint config");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "endpoint config is invalid: /interval_ms: must be >= 0, got -5; "
            "/greeting: expected string, got number");
}

TEST(InstanceTest, MalformedJson) {
  EXPECT_THAT(Problems("{}", R"({"a":)"), ElementsAre(HasSubstr("(root): not valid JSON: ")));
  EXPECT_THAT(Problems("{}", ""), ElementsAre(HasSubstr("(root): not valid JSON: ")));
  EXPECT_THAT(Problems("{}", std::string(300, '[') + std::string(300, ']')),
              ElementsAre(HasSubstr("(root): not valid JSON: ")));
}

TEST(CompileTest, MalformedSchemas) {
  EXPECT_THAT(CompileError(R"({"type":)"), HasSubstr("schema is not valid JSON: "));
  EXPECT_EQ(CompileError("3"), "invalid schema at (root): a schema must be an object or a boolean");
  EXPECT_EQ(CompileError(R"({"type":"strnig"})"),
            "invalid schema at (root): unknown type \"strnig\"");
  EXPECT_EQ(CompileError(R"({"type":7})"),
            "invalid schema at (root): \"type\" must be a string or an array of strings");
  EXPECT_EQ(CompileError(R"({"properties":{"a":{"minimum":"0"}}})"),
            "invalid schema at /properties/a: \"minimum\" must be a number");
  EXPECT_EQ(CompileError(R"({"minLength":-1})"),
            "invalid schema at (root): \"minLength\" must be a non-negative integer");
  EXPECT_EQ(CompileError(R"({"required":"a"})"),
            "invalid schema at (root): \"required\" must be an array of strings");
  EXPECT_EQ(CompileError(R"({"properties":[]})"),
            "invalid schema at (root): \"properties\" must be an object");
  EXPECT_EQ(CompileError(R"({"anyOf":[]})"),
            "invalid schema at (root): \"anyOf\" must be a non-empty array");
  EXPECT_EQ(CompileError(R"({"items":[{}]})"),
            "invalid schema at (root): array-form \"items\" (tuple validation) is not supported");
  EXPECT_EQ(CompileError(R"({"discriminator":"kind"})"),
            "invalid schema at (root): \"discriminator\" must be an object with a "
            "\"propertyName\"");
  EXPECT_EQ(CompileError(R"({"oneOf":[{"not":7}]})"),
            "invalid schema at /oneOf/0/not: a schema must be an object or a boolean");
  EXPECT_EQ(CompileError(R"({"pattern":"(a)\\1"})"),
            "invalid schema at (root): regular expression \"(a)\\1\" uses back-references, "
            "which are not supported");
  EXPECT_THAT(CompileError(R"({"properties":{"a":{"pattern":"(unclosed"}}})"),
              HasSubstr("invalid schema at /properties/a: invalid regular expression "
                        "\"(unclosed\": "));
}

TEST(BuilderIntegrationTest, GoodAndBadConfigs) {
  const Schema config =
      Object("Hello World", "Emits greetings.")
          .Property("greeting", String("Greeting", "Text of each message.").Default("Hello"))
          .Property("interval_ms", Integer("Interval", "Milliseconds between messages.").Minimum(0))
          .Property("started_at", String("Start", "When to start.").Format("date-time"))
          .Property(
              "credentials",
              OneOf("Authentication", "How to authenticate.", "auth_type", "UserPassword",
                    {{"User Name and Password", "UserPassword",
                      Object()
                          .Property("user", String("User"))
                          .Property("password", String("Password").Secret())
                          .Required({"user", "password"})},
                     {"Access Token", "AccessToken",
                      Object().Property("token", String("Token").Secret()).Required({"token"})}}))
          .Required({"credentials"});
  absl::StatusOr<Validator> validator = Validator::Compile(config.ToJson());
  ASSERT_TRUE(validator.ok()) << validator.status();

  EXPECT_THAT(validator->Validate(R"({
      "greeting":"Hi","interval_ms":10,"started_at":"2024-02-29T23:59:60Z",
      "credentials":{"auth_type":"AccessToken","token":"abc"},
      "sops":{"mac":"..."}})"),
              IsEmpty());

  const absl::Status status = validator->Check(R"({
      "greeting":5,"interval_ms":-5,"started_at":"yesterday",
      "credentials":{"auth_type":"UserPassword","user":"u","password":7,"extra":"x"}})",
                                               "endpoint config");
  EXPECT_EQ(status.message(),
            "endpoint config is invalid: /greeting: expected string, got number; "
            "/interval_ms: must be >= 0, got -5; "
            "/started_at: must be an RFC 3339 date-time such as 2024-01-31T09:30:00Z, got "
            "\"yesterday\"; "
            "/credentials/password: expected string, got number; "
            "/credentials: unexpected property \"extra\"");
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("7")));
}

TEST(ValidatorTest, CopiesShareTheCompiledSchema) {
  absl::StatusOr<Validator> compiled = Validator::Compile(R"({"type":"string"})");
  ASSERT_TRUE(compiled.ok());
  const Validator copy = *compiled;
  compiled = Validator::Compile("{}");
  EXPECT_THAT(copy.Validate("1"), ElementsAre(Error{"", "expected string, got number"}));
}

}  // namespace
}  // namespace connectors::schema
