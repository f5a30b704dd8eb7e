#include "materialize-postgres/dialect.h"

#include <gtest/gtest.h>

#include "libs/schema-gen/schema.h"
#include "materialize-postgres/config.h"

namespace connectors::postgres {
namespace {

TEST(PostgresDialect, QuotesOnlyWhenNeeded) {
  PostgresDialect d;
  EXPECT_EQ(d.Quote("plain_name1"), "plain_name1");
  EXPECT_EQ(d.Quote("Mixed"), "\"Mixed\"");
  EXPECT_EQ(d.Quote("select"), "\"select\"");
  EXPECT_EQ(d.Quote("1abc"), "\"1abc\"");
  EXPECT_EQ(d.Quote("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
  EXPECT_EQ(d.Literal("it's"), "'it''s'");
}

TEST(PostgresDialect, TruncatesNamesWithoutSplittingUtf8) {
  PostgresDialect d;
  EXPECT_EQ(d.Name(std::string(70, 'a')), std::string(63, 'a'));
  // 62 ASCII bytes then a 2-byte character: the character would straddle byte 63.
  const std::string name = std::string(62, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(d.Name(name), std::string(62, 'a'));
  EXPECT_EQ(d.Name(std::string("a\0b", 3)), "ab");
}

TEST(PostgresConfig, ParsesAddressAndDefaults) {
  auto c = ParseEndpointConfig(R"({"address":"db.example:6543","user":"u","password":"p"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "db.example");
  EXPECT_EQ(c->port, 6543);
  EXPECT_EQ(c->schema, "public");
  c = ParseEndpointConfig(R"({"address":"db","user":"u","password":"p","hardDelete":true})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 5432);
  EXPECT_TRUE(c->hard_delete);
  EXPECT_FALSE(ParseEndpointConfig(R"({"address":"db:x","user":"u","password":"p"})").ok());
  EXPECT_TRUE(EndpointConfigSchema().Lint().ok());
}

}  // namespace
}  // namespace connectors::postgres
