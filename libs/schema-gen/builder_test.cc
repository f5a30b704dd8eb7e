#include <gtest/gtest.h>

#include <string>

#include "libs/schema-gen/schema.h"
#include "libs/schema-gen/validator.h"

namespace connectors::schema {
namespace {

// Snapshots are written one key group per line for review; the output itself has no spaces
// or newlines.
std::string Snapshot(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

Schema HelloWorld() {
  return Object("Hello World", "Emits greetings.")
      .Property("greeting", String("Greeting", "Text of each message.").Default("Hello").Order(0))
      .Property("interval_ms", Integer("Interval", "Milliseconds between messages.")
                                   .Minimum(0)
                                   .Default(1000)
                                   .Order(1)
                                   .Nonsensitive())
      .Property("password", String("Password", "Your password.").Secret().Order(2))
      .Property("advanced",
                Object("Advanced", "Options you rarely need.")
                    .Property("shout", Boolean("Shout", "Upper-case every message.").Order(0))
                    .Property("tags", Array("Tags", "Labels added to each message.",
                                            String().Enum({"a", "b"}))
                                          .MaxItems(2)
                                          .UniqueItems()
                                          .Order(1))
                    .Property("ratio", Number("Ratio", "Fraction of messages to keep.")
                                           .ExclusiveMinimum(0)
                                           .Maximum(1.5)
                                           .Nullable()
                                           .Order(2))
                    .Advanced()
                    .Order(3))
      .Required({"password"});
}

TEST(BuilderTest, RepresentativeSchemaSnapshot) {
  EXPECT_EQ(HelloWorld().ToJson(),
            Snapshot({
                R"({"$schema":"https://json-schema.org/draft/2020-12/schema",)",
                R"("title":"Hello World","description":"Emits greetings.","type":"object",)",
                R"("properties":{)",
                R"("greeting":{"title":"Greeting","description":"Text of each message.",)",
                R"("type":"string","default":"Hello","order":0},)",
                R"("interval_ms":{"title":"Interval",)",
                R"("description":"Milliseconds between messages.","type":"integer",)",
                R"("minimum":0,"default":1000,"order":1,"nonsensitive":true},)",
                R"("password":{"title":"Password","description":"Your password.",)",
                R"("type":"string","order":2,"secret":true},)",
                R"("advanced":{"title":"Advanced","description":"Options you rarely need.",)",
                R"("type":"object","properties":{)",
                R"("shout":{"title":"Shout","description":"Upper-case every message.",)",
                R"("type":"boolean","default":false,"order":0},)",
                R"("tags":{"title":"Tags","description":"Labels added to each message.",)",
                R"("type":"array","items":{"type":"string","enum":["a","b"]},)",
                R"("maxItems":2,"uniqueItems":true,"order":1},)",
                R"("ratio":{"title":"Ratio","description":"Fraction of messages to keep.",)",
                R"("type":["null","number"],"exclusiveMinimum":0,"maximum":1.5,"order":2}},)",
                R"("additionalProperties":false,"order":3,"advanced":true}},)",
                R"("required":["password"]})",
            }));
}

Option UserPassword() {
  return {"User Name and Password", "UserPassword",
          Object()
              .Property("user", String("User", "Database user.").Order(1))
              .Property("password", String("Password", "Database password.").Secret().Order(2))
              .Required({"user", "password"})};
}

Option AccessToken() {
  return {"Access Token", "AccessToken",
          Object()
              .Property("token", String("Token", "API access token.").Secret().Multiline().Order(1))
              .Required({"token"}),
          "example-provider"};
}

TEST(BuilderTest, OneOfSnapshot) {
  Schema credentials = OneOf("Authentication", "How to authenticate.", "auth_type", "UserPassword",
                             {UserPassword(), AccessToken()})
                           .Order(4);
  EXPECT_EQ(credentials.ToJson(),
            Snapshot({
                R"({"$schema":"https://json-schema.org/draft/2020-12/schema",)",
                R"("title":"Authentication","description":"How to authenticate.",)",
                R"("type":"object","discriminator":{"propertyName":"auth_type"},"oneOf":[)",
                R"({"title":"User Name and Password","type":"object","properties":{)",
                R"("auth_type":{"type":"string","const":"UserPassword",)",
                R"("default":"UserPassword","order":0},)",
                R"("user":{"title":"User","description":"Database user.",)",
                R"("type":"string","order":1},)",
                R"("password":{"title":"Password","description":"Database password.",)",
                R"("type":"string","order":2,"secret":true}},)",
                R"("required":["auth_type","user","password"],"additionalProperties":false},)",
                R"({"title":"Access Token","type":"object","properties":{)",
                R"("auth_type":{"type":"string","const":"AccessToken",)",
                R"("default":"AccessToken","order":0},)",
                R"("token":{"title":"Token","description":"API access token.",)",
                R"("type":"string","order":1,"secret":true,"multiline":true}},)",
                R"("required":["auth_type","token"],"additionalProperties":false,)",
                R"("x-oauth2-provider":"example-provider"}],)",
                R"("default":{"auth_type":"UserPassword"},"order":4})",
            }));
  EXPECT_TRUE(credentials.Lint().ok());
}

TEST(BuilderTest, OtherDiscriminatorsAreNonsensitive) {
  Schema staging = OneOf("Staging", "", "bucket_type", "S3",
                         {{"S3", "S3", Object().Property("bucket", String("Bucket"))}});
  EXPECT_EQ(staging.ToJson(),
            Snapshot({
                R"({"$schema":"https://json-schema.org/draft/2020-12/schema",)",
                R"("title":"Staging","type":"object",)",
                R"("discriminator":{"propertyName":"bucket_type"},"oneOf":[)",
                R"({"title":"S3","type":"object","properties":{)",
                R"("bucket_type":{"type":"string","const":"S3","default":"S3","order":0,)",
                R"("nonsensitive":true},"bucket":{"title":"Bucket","type":"string"}},)",
                R"("required":["bucket_type"],"additionalProperties":false}],)",
                R"("default":{"bucket_type":"S3"}})",
            }));
}

TEST(BuilderTest, OneOfReplacesADeclaredDiscriminatorAndPutsItFirst) {
  Schema choice = OneOf("Mode", "", "mode", "a",
                        {{"A", "a",
                          Object()
                              .Property("x", Integer())
                              .Property("mode", String("Old").Default("zzz"))
                              .Required({"x", "mode"})}});
  EXPECT_EQ(choice.ToJson(),
            Snapshot({
                R"({"$schema":"https://json-schema.org/draft/2020-12/schema",)",
                R"("title":"Mode","type":"object","discriminator":{"propertyName":"mode"},)",
                R"("oneOf":[{"title":"A","type":"object","properties":{)",
                R"("mode":{"type":"string","const":"a","default":"a","order":0,)",
                R"("nonsensitive":true},"x":{"type":"integer"}},)",
                R"("required":["mode","x"],"additionalProperties":false}],)",
                R"("default":{"mode":"a"}})",
            }));
}

TEST(BuilderTest, BooleanGetsDefaultFalseUnlessGiven) {
  EXPECT_EQ(Object().Property("flag", Boolean()).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"flag":{"type":"boolean","default":false}}})");
  EXPECT_EQ(Object().Property("flag", Boolean().Default(true)).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"flag":{"type":"boolean","default":true}}})");
}

TEST(BuilderTest, RootLeavesAdditionalPropertiesUnsetNestedObjectsAreClosed) {
  Schema nested = Object("Inner").Property("a", String());
  EXPECT_EQ(Object().Property("inner", nested).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"inner":{"title":"Inner","type":"object",)"
            R"("properties":{"a":{"type":"string"}},"additionalProperties":false}}})");
  // The same object rendered as a root stays open.
  EXPECT_EQ(nested.ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"Inner",)"
            R"("type":"object","properties":{"a":{"type":"string"}}})");
}

TEST(BuilderTest, ExplicitAdditionalPropertiesWins) {
  EXPECT_EQ(Object().AdditionalProperties(false).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("additionalProperties":false})");
  EXPECT_EQ(Object().Property("labels", Object().AdditionalProperties(true)).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"labels":{"type":"object","additionalProperties":true}}})");
}

TEST(BuilderTest, StringKeywordsAndAnnotations) {
  Schema table = String("Table", "Name of the \"table\".")
                     .Format("date-time")
                     .Pattern("^[a-z_]+$")
                     .MinLength(1)
                     .MaxLength(63)
                     .Example("users")
                     .ExampleJson(R"("orders")")
                     .CollectionName()
                     .SchemaName()
                     .ExtensionJson("x-custom", R"({"k":[1,2]})")
                     .Extension("x-flag", false)
                     .Extension("x-flag", true);
  EXPECT_EQ(table.ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"Table",)"
            R"("description":"Name of the \"table\".","type":"string","format":"date-time",)"
            R"("pattern":"^[a-z_]+$","minLength":1,"maxLength":63,)"
            R"("examples":["users","orders"],"x-collection-name":true,"x-schema-name":true,)"
            R"("x-custom":{"k":[1,2]},"x-flag":true})");
}

TEST(BuilderTest, NumericKeywordsKeepIntegersExact) {
  EXPECT_EQ(Integer()
                .Minimum(int64_t{-9007199254740993})
                .Maximum(uint64_t{18446744073709551615u})
                .ExclusiveMaximum(2.5)
                .DefaultNumber(0.1)
                .ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"integer",)"
            R"("minimum":-9007199254740993,"maximum":18446744073709551615,)"
            R"("exclusiveMaximum":2.5,"default":0.1})");
}

TEST(BuilderTest, DefaultsAreTyped) {
  EXPECT_EQ(String().Default("x").ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"string",)"
            R"("default":"x"})");
  EXPECT_EQ(Integer().Default(7).ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"integer",)"
            R"("default":7})");
  EXPECT_EQ(Array("A", "", String()).DefaultJson(R"(["a"])").ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"A",)"
            R"("type":"array","items":{"type":"string"},"default":["a"]})");
  EXPECT_EQ(String().Const("v").Nullable().ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema",)"
            R"("type":["null","string"],"const":"v"})");
}

TEST(BuilderTest, SchemasAreValues) {
  Schema base = String("Base");
  Schema copy = base;
  copy.Title("Copy");
  Schema holder = Object().Property("p", base);
  base.Title("Changed");
  EXPECT_EQ(copy.ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","title":"Copy",)"
            R"("type":"string"})");
  EXPECT_EQ(holder.ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"p":{"title":"Base","type":"string"}}})");
}

TEST(BuilderTest, PropertyWithSameNameIsReplacedInPlace) {
  Schema schema = Object().Property("a", String()).Property("b", String()).Property("a", Integer());
  EXPECT_EQ(schema.ToJson(),
            R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
            R"("properties":{"a":{"type":"integer"},"b":{"type":"string"}}})");
}

TEST(BuilderTest, LintAcceptsWellFormedSchemas) { EXPECT_TRUE(HelloWorld().Lint().ok()); }

TEST(BuilderTest, LintReportsEveryProblem) {
  Schema bad = Object()
                   .Property("n", Integer().Secret().DefaultJson("{oops"))
                   .Property("s", String().Extension("custom", true))
                   .Property("c", OneOf("C", "", "kind", "missing",
                                        {{"A", "a", Object()}, {"B", "a", Object()}}))
                   .Required({"n", "ghost"});
  absl::Status status = bad.Lint();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "schema declaration is invalid: "
            "(root): required property \"ghost\" is not declared; "
            "/properties/n: default is not valid JSON: {oops; "
            "/properties/n: secret is only allowed on strings; "
            "/properties/s: extension keyword \"custom\" must start with \"x-\"; "
            "/properties/c: oneOf option value \"a\" is used twice; "
            "/properties/c: default option \"missing\" is not an option");
}

TEST(BuilderTest, BuiltSchemaCompilesAndValidates) {
  absl::StatusOr<Validator> validator = Validator::Compile(HelloWorld().ToJson());
  ASSERT_TRUE(validator.ok()) << validator.status();
  EXPECT_TRUE(validator->Check(R"({"password":"x","sops":{}})", "endpoint config").ok());
  EXPECT_EQ(validator->Check(R"({"advanced":{"extra":1}})", "endpoint config").message(),
            "endpoint config is invalid: (root): missing required property \"password\"; "
            "/advanced: unexpected property \"extra\"");
}

}  // namespace
}  // namespace connectors::schema
