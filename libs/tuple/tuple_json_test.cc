#include "libs/tuple/tuple_json.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/tuple/tuple.h"

namespace connectors::tuple {
namespace {

std::string Bytes(std::string_view spaced_hex) {
  return absl::HexStringToBytes(
      absl::StrReplaceAll(absl::string_view(spaced_hex.data(), spaced_hex.size()), {{" ", ""}}));
}

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

// Packs each member of a JSON array, the way a runtime packs the values at a binding's keys.
absl::StatusOr<std::string> PackJsonArray(std::string_view json_array) {
  json::Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(json_array);
  if (!root.ok()) return root.status();
  simdjson::dom::array array;
  if (root->get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not an array");
  }
  std::string out;
  for (simdjson::dom::element value : array) {
    absl::Status status = AppendJson(value, &out);
    if (!status.ok()) return status;
  }
  return out;
}

// Unpacks and writes the elements as one JSON array.
absl::StatusOr<std::string> UnpackToJson(std::string_view packed) {
  absl::StatusOr<std::vector<Element>> elements = Unpack(packed);
  if (!elements.ok()) return elements.status();
  std::string out;
  json::Writer writer(&out);
  json::Parser parser;
  writer.BeginArray();
  for (const Element& element : *elements) WriteJson(element, writer, parser);
  writer.EndArray();
  return out;
}

std::string Canonical(std::string_view json) {
  json::Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(json);
  EXPECT_TRUE(root.ok()) << root.status();
  return root.ok() ? json::ToJson(*root, /*sort_keys=*/true) : "";
}

std::string ElementJson(const Element& element) {
  std::string out;
  json::Writer writer(&out);
  WriteJson(element, writer);
  return out;
}

struct Vector {
  std::string_view json;
  std::string_view hex;
};

// Protocol reference §6.3, every row, as JSON text.
constexpr Vector kReferenceVectors[] = {
    {R"(["a-key", 42])", "02 61 2d 6b 65 79 00 15 2a"},
    {R"(["a-key"])", "02 61 2d 6b 65 79 00"},
    {R"([42, "hi"])", "15 2a 02 68 69 00"},
    {R"([3.14159, "field!"])", "21 c0 09 21 f9 f0 1b 86 6e 02 66 69 65 6c 64 21 00"},
    {R"([true, null])", "27 00"},
    {R"([false, 0, 1, -1, 255, 256, -256])", "26 14 15 01 13 fe 15 ff 16 01 00 12 fe ff"},
    {R"([-30, 1.3, -1.0, 0.0])",
     "13 e1 21 bf f4 cc cc cc cc cc cd 21 40 0f ff ff ff ff ff ff 21 80 00 00 00 00 00 00 00"},
    {R"([18446744073709551615, -9223372036854775808, 9223372036854775807])",
     "1c ff ff ff ff ff ff ff ff 0c 7f ff ff ff ff ff ff ff 1c 7f ff ff ff ff ff ff ff"},
    {R"(["a\u0000b", ""])", "02 61 00 ff 62 00 02 00"},
    {R"([{"tru":true,"other":"value"}, ["foo"]])",
     "01 7b 22 6f 74 68 65 72 22 3a 22 76 61 6c 75 65 22 2c 22 74 72 75 22 3a 74 72 75 65 7d "
     "00 01 5b 22 66 6f 6f 22 5d 00"},
    {R"(["héllo"])", "02 68 c3 a9 6c 6c 6f 00"},
};

TEST(TupleJsonTest, ReferenceVectorsFromJson) {
  for (const Vector& v : kReferenceVectors) {
    absl::StatusOr<std::string> packed = PackJsonArray(v.json);
    ASSERT_TRUE(packed.ok()) << v.json << ": " << packed.status();
    EXPECT_EQ(Hex(*packed), Hex(Bytes(v.hex))) << v.json;
  }
}

TEST(TupleJsonTest, ReferenceVectorsToJson) {
  for (const Vector& v : kReferenceVectors) {
    absl::StatusOr<std::string> json = UnpackToJson(Bytes(v.hex));
    ASSERT_TRUE(json.ok()) << v.hex << ": " << json.status();
    // Objects come back with sorted keys, which is how they were packed.
    EXPECT_EQ(*json, Canonical(v.json)) << v.hex;
  }
  EXPECT_EQ(*UnpackToJson(Bytes(kReferenceVectors[9].hex)),
            R"([{"other":"value","tru":true},["foo"]])");
}

TEST(TupleJsonTest, ProtocolTranscriptKeys) {
  // §6.2: keyPacked is tuple("a-key"), valuesPacked is tuple(42, "hi").
  std::string key, values;
  ASSERT_TRUE(absl::Base64Unescape("AmEta2V5AA==", &key));
  ASSERT_TRUE(absl::Base64Unescape("FSoCaGkA", &values));
  EXPECT_EQ(*UnpackToJson(key), R"(["a-key"])");
  EXPECT_EQ(*UnpackToJson(values), R"([42,"hi"])");
}

TEST(TupleJsonTest, NumberTypesFollowTheParser) {
  // Anything simdjson parsed as a float packs as a double, even when integral.
  EXPECT_EQ(Hex(*PackJsonArray("[1.0, 1e2, -0.0, 1]")),
            Hex(Bytes("21 bf f0 00 00 00 00 00 00 21 c0 59 00 00 00 00 00 00 "
                      "21 7f ff ff ff ff ff ff ff 15 01")));
  EXPECT_EQ(Hex(*PackJsonArray("[-0, 9223372036854775808]")),
            Hex(Bytes("14 1c 80 00 00 00 00 00 00 00")));
  EXPECT_EQ(*UnpackToJson(*PackJsonArray("[1.0, 1e2, -0.0, 0.5e-7]")), "[1.0,100.0,-0.0,5e-8]");
}

TEST(TupleJsonTest, ContainersPackAsSortedCompactJson) {
  absl::StatusOr<std::string> packed =
      PackJsonArray(R"([ {"b": {"d": 1, "c": [ {"z": 1.0, "y": "\u0000\n"} ]}, "a": null},
                         [], {} ])");
  ASSERT_TRUE(packed.ok()) << packed.status();
  const std::string expected_text = R"({"a":null,"b":{"c":[{"y":"\u0000\n","z":1.0}],"d":1}})";
  EXPECT_EQ(*packed, "\x01" + expected_text + std::string("\0\x01[]\0\x01{}\0", 9));
  // Escaped control characters mean the JSON text never needs 0x00 escaping.
  EXPECT_EQ(expected_text.find('\0'), std::string::npos);
  absl::StatusOr<std::vector<Element>> elements = Unpack(*packed);
  ASSERT_TRUE(elements.ok());
  EXPECT_EQ(*elements, (std::vector<Element>{Element::Bytes(expected_text), Element::Bytes("[]"),
                                             Element::Bytes("{}")}));
  EXPECT_EQ(*UnpackToJson(*packed), "[" + expected_text + ",[],{}]");
}

TEST(TupleJsonTest, ScalarElementsToJson) {
  EXPECT_EQ(ElementJson(Element::Nil()), "null");
  EXPECT_EQ(ElementJson(Element::Bool(false)), "false");
  EXPECT_EQ(ElementJson(Element::Int(-9)), "-9");
  EXPECT_EQ(ElementJson(Element::Uint(18446744073709551615u)), "18446744073709551615");
  EXPECT_EQ(ElementJson(Element::Double(2.5)), "2.5");
  EXPECT_EQ(ElementJson(Element::Double(std::nan(""))), "null");
  EXPECT_EQ(ElementJson(Element::String("q\"\x01")), R"("q\"\u0001")");
  EXPECT_EQ(ElementJson(Element::Tuple(
                {Element::Int(1), Element::Nil(), Element::Tuple({Element::String("x")})})),
            R"([1,null,["x"]])");
}

TEST(TupleJsonTest, ByteStringsToJson) {
  // JSON containers come back as JSON.
  EXPECT_EQ(ElementJson(Element::Bytes(R"({"a":[1,2]})")), R"({"a":[1,2]})");
  EXPECT_EQ(ElementJson(Element::Bytes(" [1] ")), " [1] ");
  // Everything else is base64.
  EXPECT_EQ(ElementJson(Element::Bytes("")), R"("")");
  EXPECT_EQ(ElementJson(Element::Bytes(std::string("\0\x01\xff", 3))), R"("AAH/")");
  EXPECT_EQ(ElementJson(Element::Bytes("123")), R"("MTIz")");
  EXPECT_EQ(ElementJson(Element::Bytes(R"("str")")), R"("InN0ciI=")");
  EXPECT_EQ(ElementJson(Element::Bytes("{")), R"("ew==")");
  EXPECT_EQ(ElementJson(Element::Bytes("[1] x")), R"("WzFdIHg=")");
  EXPECT_EQ(ElementJson(Element::Bytes("[\"\xff\"]")), R"("WyL/Il0=")");
}

TEST(TupleJsonTest, WriteJsonInsideADocument) {
  absl::StatusOr<std::vector<Element>> key = Unpack(Bytes("02 61 2d 6b 65 79 00 15 2a"));
  ASSERT_TRUE(key.ok());
  std::string out;
  json::Writer writer(&out);
  writer.BeginObject();
  writer.Key("id");
  WriteJson((*key)[0], writer);
  writer.Key("n");
  WriteJson((*key)[1], writer);
  writer.EndObject();
  EXPECT_EQ(out, R"({"id":"a-key","n":42})");
}

// Random JSON values through JSON -> tuple -> JSON come back in canonical (sorted) form.
class RandomJson {
 public:
  explicit RandomJson(uint64_t seed) : rng_(seed) {}

  void Value(json::Writer& w, int depth) {
    switch (rng_() % (depth < 3 ? 9 : 7)) {
      case 0:
        w.Null();
        return;
      case 1:
        w.Bool(rng_() % 2);
        return;
      case 2:
        w.Int(static_cast<int64_t>(rng_()) >> (rng_() % 64));
        return;
      case 3:
        w.Uint(rng_() | (uint64_t{1} << 63));
        return;
      case 4: {
        double d;
        do {
          const uint64_t bits = rng_();
          std::memcpy(&d, &bits, sizeof(d));
        } while (!std::isfinite(d));
        w.Double(rng_() % 2 ? d : std::round(d * 100) / 100);
        return;
      }
      case 5:
      case 6:
        w.String(Text());
        return;
      case 7: {
        w.BeginArray();
        for (int i = rng_() % 4; i > 0; --i) Value(w, depth + 1);
        w.EndArray();
        return;
      }
      default: {
        w.BeginObject();
        for (int i = rng_() % 5; i > 0; --i) {
          w.Key(Text());
          Value(w, depth + 1);
        }
        w.EndObject();
        return;
      }
    }
  }

 private:
  std::string Text() {
    static constexpr std::string_view kPieces[] = {
        "a", "b", "B", "~", "\"", "\\", "\n", std::string_view("\0", 1), "\x1f", "é", "😀", "key"};
    std::string s;
    for (int i = rng_() % 5; i > 0; --i) s.append(kPieces[rng_() % std::size(kPieces)]);
    return s;
  }

  std::mt19937_64 rng_;
};

TEST(TupleJsonTest, RandomRoundTrips) {
  RandomJson random(2024);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    json::Writer writer(&text);
    writer.BeginArray();
    for (int n = i % 5; n > 0; --n) random.Value(writer, 0);
    writer.EndArray();
    absl::StatusOr<std::string> packed = PackJsonArray(text);
    ASSERT_TRUE(packed.ok()) << text << ": " << packed.status();
    absl::StatusOr<std::string> json = UnpackToJson(*packed);
    ASSERT_TRUE(json.ok()) << text << ": " << json.status();
    ASSERT_EQ(*json, Canonical(text));
  }
}

}  // namespace
}  // namespace connectors::tuple
