#include "source-postgres/config.h"

#include <gtest/gtest.h>

#include "libs/json/parse.h"
#include "source-postgres/types.h"

namespace connectors::postgres {
namespace {

TEST(ConfigTest, SchemasParse) {
  json::Parser parser;
  EXPECT_TRUE(parser.Parse(ConfigSchema()).ok());
  EXPECT_TRUE(parser.Parse(ResourceSchema()).ok());
  EXPECT_NE(ConfigSchema().find(R"("secret":true)"), std::string::npos);
}

TEST(ConfigTest, AddressAndDefaults) {
  auto c = ParseConfig(R"({"address":"db.example.com","user":"u","password":"p"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "db.example.com");
  EXPECT_EQ(c->port, 5432);
  EXPECT_EQ(c->slot, "flow_slot");
  EXPECT_EQ(c->publication, "flow_publication");
  EXPECT_EQ(c->WatermarksSql(), R"("public"."flow_watermarks")");
  auto p = ParseConfig(
      R"({"address":"h:6000","user":"u","password":"p","advanced":{"watermarksTable":"s.w"}})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->port, 6000);
  EXPECT_EQ(p->WatermarksName(), "s.w");
  EXPECT_FALSE(ParseConfig(R"({"address":"h:x","user":"u","password":"p"})").ok());
  EXPECT_FALSE(ParseConfig(R"({"address":"","user":"u","password":"p"})").ok());
  EXPECT_FALSE(
      ParseConfig(R"({"address":"x.pooler.supabase.com:6543","user":"u","password":"p"})").ok());
  EXPECT_FALSE(
      ParseConfig(R"({"address":"h","user":"u","password":"p","advanced":{"watermarksTable":"w"}})")
          .ok());
}

TEST(ConfigTest, ResourceModes) {
  auto r = ParseResource(R"({"namespace":"s","stream":"t","mode":"Only Changes","priority":-2})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, sqlcapture::BackfillMode::kOnlyChanges);
  EXPECT_EQ(r->priority, -2);
  EXPECT_FALSE(ParseResource(R"({"namespace":"s"})").ok());
  EXPECT_EQ(ResourceJson("s", "t", true),
            R"({"namespace":"s","stream":"t","mode":"Without Primary Key"})");
}

TEST(TypesTest, ScalarsAndArrays) {
  auto render = [](Kind kind, std::string_view text) {
    std::string out;
    AppendScalar(kind, text, &out);
    return out;
  };
  EXPECT_EQ(render(Kind::kTimestampTz, "2024-01-15 14:30:00.5-08"),
            R"("2024-01-15T14:30:00.5-08:00")");
  EXPECT_EQ(render(Kind::kTimestamp, "10000-01-01 00:00:00"), R"("9999-12-31T23:59:59Z")");
  EXPECT_EQ(render(Kind::kTimeTz, "10:00:00+05"), R"("10:00:00+05:00")");
  EXPECT_EQ(render(Kind::kFloat, "1e+100"), "1e+100");
  ColumnType arr;
  arr.kind = Kind::kArray;
  arr.element = Kind::kInt;
  std::string out;
  AppendValue(arr, "[0:1]={7,8}", &out);
  EXPECT_EQ(out, "[7,8]");
}

}  // namespace
}  // namespace connectors::postgres
