#include "libs/json/writer.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace connectors::json {
namespace {

std::string Quoted(std::string_view value) {
  std::string out;
  AppendQuoted(value, &out);
  return out;
}

std::string DoubleText(double value) {
  std::string out;
  Writer(&out).Double(value);
  return out;
}

TEST(AppendQuotedTest, EscapesQuotesAndBackslash) {
  EXPECT_EQ(Quoted(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
  EXPECT_EQ(Quoted(""), R"("")");
}

TEST(AppendQuotedTest, EscapesControlCharacters) {
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string_view("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(Quoted("\x01\x1f"), R"("\u0001\u001f")");
  // DEL and '/' need no escaping.
  EXPECT_EQ(Quoted("\x7f/"), "\"\x7f/\"");
}

TEST(AppendQuotedTest, PassesUtf8Through) { EXPECT_EQ(Quoted("héllo ☃ 😀"), "\"héllo ☃ 😀\""); }

TEST(AppendQuotedTest, EveryByteRoundTripsThroughSimdjson) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all.push_back('\0');
  const std::string text = Quoted(all);
  simdjson::dom::parser parser;
  std::string_view parsed;
  ASSERT_EQ(parser.parse(text).get_string().get(parsed), simdjson::SUCCESS);
  EXPECT_EQ(parsed, all);
}

TEST(WriterTest, NestingAndCommas) {
  std::string out;
  Writer w(&out);
  w.BeginObject();
  w.Key("a").Int(1);
  w.Key("b").BeginArray().Int(1).String("x").BeginObject().EndObject().BeginArray().EndArray();
  w.Null().EndArray();
  w.Key("c").BeginObject().Key("d").Bool(true).Key("e").Bool(false).EndObject();
  w.Key("f").Raw(R"({"raw":[1,2]})");
  w.EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[1,"x",{},[],null],"c":{"d":true,"e":false},"f":{"raw":[1,2]}})");
}

TEST(WriterTest, TopLevelScalarsAndEmptyContainers) {
  std::string out;
  Writer(&out).String("x");
  EXPECT_EQ(out, R"("x")");
  out.clear();
  Writer(&out).BeginArray().EndArray();
  EXPECT_EQ(out, "[]");
  out.clear();
  Writer(&out).BeginObject().EndObject();
  EXPECT_EQ(out, "{}");
}

TEST(WriterTest, AppendsToExistingText) {
  std::string out = "prefix:";
  Writer(&out).BeginArray().Int(1).EndArray();
  EXPECT_EQ(out, "prefix:[1]");
}

TEST(WriterTest, KeysAreEscaped) {
  std::string out;
  Writer(&out).BeginObject().Key("a\"b\n").Int(1).EndObject();
  EXPECT_EQ(out, R"({"a\"b\n":1})");
}

TEST(WriterTest, IntegerExtremes) {
  std::string out;
  Writer(&out)
      .BeginArray()
      .Int(0)
      .Int(-1)
      .Int(std::numeric_limits<int64_t>::min())
      .Int(std::numeric_limits<int64_t>::max())
      .Uint(std::numeric_limits<uint64_t>::max())
      .EndArray();
  EXPECT_EQ(out, "[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615]");
}

TEST(WriterTest, DoubleLayout) {
  EXPECT_EQ(DoubleText(0.0), "0.0");
  EXPECT_EQ(DoubleText(-0.0), "-0.0");
  EXPECT_EQ(DoubleText(1.0), "1.0");
  EXPECT_EQ(DoubleText(-1.0), "-1.0");
  EXPECT_EQ(DoubleText(1.5), "1.5");
  EXPECT_EQ(DoubleText(3.14159), "3.14159");
  EXPECT_EQ(DoubleText(0.1), "0.1");
  EXPECT_EQ(DoubleText(123456.0), "123456.0");
  EXPECT_EQ(DoubleText(1e15), "1000000000000000.0");
  EXPECT_EQ(DoubleText(1e16), "1e16");
  EXPECT_EQ(DoubleText(1.5e16), "1.5e16");
  EXPECT_EQ(DoubleText(1.2345678901234567e16), "1.2345678901234568e16");
  EXPECT_EQ(DoubleText(0.0001), "0.0001");
  EXPECT_EQ(DoubleText(0.00001), "0.00001");
  EXPECT_EQ(DoubleText(0.000001), "1e-6");
  EXPECT_EQ(DoubleText(1.25e-7), "1.25e-7");
  EXPECT_EQ(DoubleText(1.5e300), "1.5e300");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::max()), "1.7976931348623157e308");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
}

TEST(WriterTest, NonFiniteDoublesAreNull) {
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(DoubleText(-std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(DoubleText(std::nan("")), "null");
}

// Every finite double must parse back bit-identical, and as a double (never an integer).
TEST(WriterTest, DoublesRoundTrip) {
  std::mt19937_64 rng(7);
  simdjson::dom::parser parser;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    double value;
    if (i % 2 == 0) {
      const uint64_t bits = rng();
      std::memcpy(&value, &bits, sizeof(value));
    } else {
      // Values with few significant digits and ordinary magnitudes, where formats differ most.
      value = static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) *
              std::pow(10.0, static_cast<int>(rng() % 41) - 20);
    }
    if (!std::isfinite(value)) continue;
    const std::string text = DoubleText(value);
    simdjson::dom::element element;
    ASSERT_EQ(parser.parse(text).get(element), simdjson::SUCCESS) << text;
    ASSERT_EQ(element.type(), simdjson::dom::element_type::DOUBLE) << text;
    const double parsed = element.get_double().value_unsafe();
    ASSERT_EQ(std::memcmp(&parsed, &value, sizeof(value)), 0) << text;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
}

}  // namespace
}  // namespace connectors::json
