#include "libs/tuple/tuple.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"

namespace connectors::tuple {

// Lets gtest print Elements in failure messages.
void PrintTo(const Element& element, std::ostream* os) { *os << element.DebugString(); }

namespace {

using Elements = std::vector<Element>;
using E = Element;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();

// "02 61 00" -> bytes.
std::string Bytes(std::string_view spaced_hex) {
  const std::string hex =
      absl::StrReplaceAll(absl::string_view(spaced_hex.data(), spaced_hex.size()), {{" ", ""}});
  return absl::HexStringToBytes(hex);
}

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

struct Vector {
  Elements elements;
  std::string_view hex;
  std::string_view base64;  // Empty when the reference table gives none.
};

// Protocol reference §6.3, every row.
std::vector<Vector> ReferenceVectors() {
  return {
      {{E::String("a-key"), E::Int(42)}, "02 61 2d 6b 65 79 00 15 2a", "AmEta2V5ABUq"},
      {{E::String("a-key")}, "02 61 2d 6b 65 79 00", "AmEta2V5AA=="},
      {{E::Int(42), E::String("hi")}, "15 2a 02 68 69 00", "FSoCaGkA"},
      {{E::Double(3.14159), E::String("field!")},
       "21 c0 09 21 f9 f0 1b 86 6e 02 66 69 65 6c 64 21 00",
       "IcAJIfnwG4ZuAmZpZWxkIQA="},
      {{E::Bool(true), E::Nil()}, "27 00", "JwA="},
      {{E::Bool(false), E::Int(0), E::Int(1), E::Int(-1), E::Int(255), E::Int(256), E::Int(-256)},
       "26 14 15 01 13 fe 15 ff 16 01 00 12 fe ff",
       ""},
      {{E::Int(-30), E::Double(1.3), E::Double(-1.0), E::Double(0.0)},
       "13 e1 21 bf f4 cc cc cc cc cc cd 21 40 0f ff ff ff ff ff ff 21 80 00 00 00 00 00 00 00",
       ""},
      {{E::Uint(kUint64Max), E::Int(kInt64Min), E::Int(kInt64Max)},
       "1c ff ff ff ff ff ff ff ff 0c 7f ff ff ff ff ff ff ff 1c 7f ff ff ff ff ff ff ff",
       ""},
      {{E::String(std::string("a\0b", 3)), E::String("")}, "02 61 00 ff 62 00 02 00", ""},
      {{E::Bytes(R"({"other":"value","tru":true})"), E::Bytes(R"(["foo"])")},
       "01 7b 22 6f 74 68 65 72 22 3a 22 76 61 6c 75 65 22 2c 22 74 72 75 22 3a 74 72 75 65 7d "
       "00 01 5b 22 66 6f 6f 22 5d 00",
       ""},
      {{E::String("h\xc3\xa9llo")}, "02 68 c3 a9 6c 6c 6f 00", ""},
  };
}

TEST(TupleTest, ReferenceVectorsPack) {
  for (const Vector& v : ReferenceVectors()) {
    const std::string packed = Pack(v.elements);
    EXPECT_EQ(Hex(packed), Hex(Bytes(v.hex)));
    if (!v.base64.empty()) {
      EXPECT_EQ(absl::Base64Escape(packed), v.base64);
    }
    // Append is the building block of Pack.
    std::string appended;
    for (const Element& e : v.elements) Append(e, &appended);
    EXPECT_EQ(appended, packed);
  }
}

TEST(TupleTest, ReferenceVectorsUnpack) {
  for (const Vector& v : ReferenceVectors()) {
    absl::StatusOr<Elements> unpacked = Unpack(Bytes(v.hex));
    ASSERT_TRUE(unpacked.ok()) << v.hex << ": " << unpacked.status();
    EXPECT_EQ(*unpacked, v.elements) << v.hex;
  }
}

TEST(TupleTest, FlowFixtureKeysAreNotTuples) {
  // Flow's JSON fixtures use these only to test base64; they do not decode as tuples.
  for (std::string_view base64 : {"VkseCQ==", "WhUA", "PFs="}) {
    std::string bytes;
    ASSERT_TRUE(absl::Base64Unescape(absl::string_view(base64.data(), base64.size()), &bytes));
    EXPECT_FALSE(Unpack(bytes).ok()) << base64;
  }
}

TEST(TupleTest, EmptyTuple) {
  EXPECT_EQ(Pack(Elements{}), "");
  absl::StatusOr<Elements> unpacked = Unpack("");
  ASSERT_TRUE(unpacked.ok());
  EXPECT_TRUE(unpacked->empty());
}

TEST(TupleTest, IntegerByteLengthBoundaries) {
  struct Case {
    int64_t value;
    std::string_view hex;
  };
  for (const Case& c : std::vector<Case>{
           {1, "15 01"},
           {255, "15 ff"},
           {256, "16 01 00"},
           {65535, "16 ff ff"},
           {65536, "17 01 00 00"},
           {(int64_t{1} << 56) - 1, "1b ff ff ff ff ff ff ff"},
           {int64_t{1} << 56, "1c 01 00 00 00 00 00 00 00"},
           {-1, "13 fe"},
           {-255, "13 00"},
           {-256, "12 fe ff"},
           {-257, "12 fe fe"},
           {-65535, "12 00 00"},
           {-65536, "11 fe ff ff"},
           {kInt64Min + 1, "0c 80 00 00 00 00 00 00 00"},
       }) {
    EXPECT_EQ(Hex(Pack(Elements{E::Int(c.value)})), Hex(Bytes(c.hex))) << c.value;
    absl::StatusOr<Elements> unpacked = Unpack(Bytes(c.hex));
    ASSERT_TRUE(unpacked.ok()) << unpacked.status();
    EXPECT_EQ(*unpacked, Elements{E::Int(c.value)});
  }
}

TEST(TupleTest, UintIsNormalisedToInt) {
  EXPECT_EQ(E::Uint(5), E::Int(5));
  EXPECT_EQ(E::Uint(5).kind(), Element::Kind::kInt);
  EXPECT_EQ(E::Uint(uint64_t{1} << 63).kind(), Element::Kind::kUint);
  EXPECT_EQ(E::Uint(0), E::Int(0));
  EXPECT_EQ(Pack(Elements{E::Uint(0)}), "\x14");
}

TEST(TupleTest, ElementEquality) {
  EXPECT_EQ(E::Double(std::nan("")), E::Double(std::nan("")));
  EXPECT_NE(E::Double(0.0), E::Double(-0.0));
  EXPECT_NE(E::String("a"), E::Bytes("a"));
  EXPECT_NE(E::Int(1), E::Double(1.0));
  EXPECT_NE(E::Int(1), E::Bool(true));
  EXPECT_EQ(E::Tuple({E::Int(1), E::Nil()}), E::Tuple({E::Int(1), E::Nil()}));
  EXPECT_NE(E::Tuple({E::Int(1)}), E::Tuple({E::Int(2)}));
  EXPECT_EQ(E(), E::Nil());
}

TEST(TupleTest, DebugString) {
  EXPECT_EQ(E::Tuple({E::Nil(), E::Bool(true), E::Int(-3), E::Uint(kUint64Max), E::Double(1.5),
                      E::String("a\"b"), E::Bytes(std::string("\0\xff", 2))})
                .DebugString(),
            R"((nil, true, -3, 18446744073709551615u, double(1.5), "a\"b", b"\x00\xff"))");
}

TEST(TupleTest, DoubleSpecialValues) {
  const double values[] = {0.0,
                           -0.0,
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::max(),
                           std::nan("")};
  for (double value : values) {
    const Elements elements = {E::Double(value)};
    absl::StatusOr<Elements> unpacked = Unpack(Pack(elements));
    ASSERT_TRUE(unpacked.ok());
    EXPECT_EQ(*unpacked, elements) << value;
  }
  EXPECT_EQ(Hex(Pack(Elements{E::Double(-0.0)})), "217fffffffffffffff");
}

TEST(TupleTest, StringsWithZeros) {
  const std::string zeros("\0\0", 2);
  EXPECT_EQ(Hex(Pack(Elements{E::Bytes(zeros)})), "0100ff00ff00");
  EXPECT_EQ(Hex(Pack(Elements{E::String(std::string("\0", 1))})), "0200ff00");
  const Elements elements = {E::Bytes(zeros), E::Bytes(""), E::Bytes(std::string("x\0", 2)),
                             E::String(zeros)};
  absl::StatusOr<Elements> unpacked = Unpack(Pack(elements));
  ASSERT_TRUE(unpacked.ok());
  EXPECT_EQ(*unpacked, elements);
}

TEST(TupleTest, AcceptsEncodingsFlowNeverProduces) {
  struct Case {
    std::string_view hex;
    Elements expected;
  };
  for (const Case& c : std::vector<Case>{
           // Non-minimal integer lengths.
           {"16 00 05", {E::Int(5)}},
           {"12 ff fa", {E::Int(-5)}},
           // Long-form integers with a length byte.
           {"1d 01 05", {E::Int(5)}},
           {"1d 00", {E::Int(0)}},
           {"1d 09 00 ff ff ff ff ff ff ff ff", {E::Uint(kUint64Max)}},
           {"0b fe fa", {E::Int(-5)}},
           {"0b f6 ff 7f ff ff ff ff ff ff ff", {E::Int(kInt64Min)}},
           // float32 1.5 and -2.0.
           {"20 bf c0 00 00 20 3f ff ff ff", {E::Double(1.5), E::Double(-2.0)}},
           // Nested tuple with an escaped nil, a string, and an empty nested tuple.
           {"05 15 01 00 ff 02 61 00 05 00 00 14",
            {E::Tuple({E::Int(1), E::Nil(), E::String("a"), E::Tuple({})}), E::Int(0)}},
       }) {
    absl::StatusOr<Elements> unpacked = Unpack(Bytes(c.hex));
    ASSERT_TRUE(unpacked.ok()) << c.hex << ": " << unpacked.status();
    EXPECT_EQ(*unpacked, c.expected) << c.hex;
  }
}

TEST(TupleTest, NestedTupleRoundTrip) {
  const Elements elements = {
      E::Tuple({E::Nil(), E::Tuple({E::Nil(), E::Bytes(std::string("\0", 1))}), E::Int(-7)}),
      E::Nil()};
  const std::string packed = Pack(elements);
  EXPECT_EQ(Hex(packed), "0500ff0500ff0100ff000013f80000");
  absl::StatusOr<Elements> unpacked = Unpack(packed);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  EXPECT_EQ(*unpacked, elements);
}

TEST(TupleTest, MalformedInputs) {
  struct Case {
    std::string_view hex;
    std::string_view message;
  };
  for (const Case& c : std::vector<Case>{
           {"02 61 62", "tuple: unterminated unicode string (no 0x00) starting at offset 0"},
           {"15 2a 01 61 00 ff", "tuple: unterminated byte string (no 0x00) starting at offset 2"},
           {"15 2a 1c ff ff",
            "tuple: truncated integer (code 0x1c needs 8 bytes, 2 remain) at offset 2"},
           {"15", "tuple: truncated integer (code 0x15 needs 1 bytes, 0 remain) at offset 0"},
           {"0c 00", "tuple: truncated integer (code 0x0c needs 8 bytes, 1 remain) at offset 0"},
           {"14 99", "tuple: unknown type code 0x99 at offset 1"},
           {"ff", "tuple: unknown type code 0xff at offset 0"},
           {"21 00 00", "tuple: truncated double (needs 8 bytes) at offset 0"},
           {"20 00", "tuple: truncated float (needs 4 bytes) at offset 0"},
           {"1d", "tuple: truncated integer (missing length byte) at offset 0"},
           {"1d 05 01", "tuple: bad length: integer needs 5 bytes, 1 remain at offset 0"},
           {"0b fa 01", "tuple: bad length: integer needs 5 bytes, 1 remain at offset 0"},
           {"1d 09 01 00 00 00 00 00 00 00 00", "tuple: integer does not fit 64 bits at offset 0"},
           {"0c 00 00 00 00 00 00 00 00",
            "tuple: negative integer below the int64 range at offset 0"},
           {"0c 7f ff ff ff ff ff ff fe",
            "tuple: negative integer below the int64 range at offset 0"},
           {"02 ff 00", "tuple: invalid UTF-8 in unicode string starting at offset 0"},
           {"27 02 c3 00", "tuple: invalid UTF-8 in unicode string starting at offset 1"},
           {"30 00 01 02 03", "tuple: unsupported type code 0x30 (UUID) at offset 0"},
           {"33", "tuple: unsupported type code 0x33 (versionstamp) at offset 0"},
           {"05 15 01", "tuple: unterminated nested tuple starting at offset 0"},
           {"05 05 99 00 00", "tuple: unknown type code 0x99 at offset 2"},
       }) {
    absl::StatusOr<Elements> unpacked = Unpack(Bytes(c.hex));
    ASSERT_FALSE(unpacked.ok()) << c.hex;
    EXPECT_EQ(unpacked.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(unpacked.status().message()), c.message) << c.hex;
  }
}

TEST(TupleTest, DeepNestingIsRejected) {
  const std::string deep = std::string(100000, '\x05') + std::string(100000, '\x00');
  absl::StatusOr<Elements> unpacked = Unpack(deep);
  ASSERT_FALSE(unpacked.ok());
  EXPECT_EQ(unpacked.status().message(), "tuple: nested tuples too deep at offset 64");
  const std::string ok = std::string(64, '\x05') + std::string(64, '\x00');
  EXPECT_TRUE(Unpack(ok).ok());
}

// Arbitrary bytes must never crash (run under --config=asan too); whatever decodes must
// re-encode to something that decodes to the same elements.
TEST(TupleTest, ArbitraryInputNeverCrashes) {
  std::mt19937_64 rng(1234);
  // Bias bytes towards valid type codes so decoding gets deep into the input.
  const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x05, 0x0b, 0x0c, 0x13, 0x14,
                                 0x15, 0x1c, 0x1d, 0x20, 0x21, 0x26, 0x27, 0xff};
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input(rng() % 24, '\0');
    for (char& c : input) {
      c = static_cast<char>(rng() % 2 ? interesting[rng() % sizeof(interesting)] : rng());
    }
    absl::StatusOr<Elements> unpacked = Unpack(input);
    if (!unpacked.ok()) continue;
    ++decoded;
    absl::StatusOr<Elements> again = Unpack(Pack(*unpacked));
    ASSERT_TRUE(again.ok()) << Hex(input);
    ASSERT_EQ(*again, *unpacked) << Hex(input);
  }
  EXPECT_GT(decoded, 1000);
}

Element RandomElement(std::mt19937_64& rng, int depth) {
  auto random_string = [&rng](bool utf8) {
    std::string s;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      if (!utf8) {
        s.push_back(static_cast<char>(rng() % 4 == 0 ? 0 : rng()));
      } else if (rng() % 4 == 0) {
        s.append(rng() % 2 ? "\xc3\xa9" : "\xf0\x9f\x98\x80");
      } else {
        s.push_back(static_cast<char>(rng() % 0x80));
      }
    }
    return s;
  };
  switch (rng() % (depth < 3 ? 9 : 8)) {
    case 0:
      return E::Nil();
    case 1:
      return E::Bool(rng() % 2);
    case 2:
      return E::Int(static_cast<int64_t>(rng()) >> (rng() % 64));
    case 3:
      return E::Uint(rng() | (uint64_t{1} << 63));
    case 4: {
      double d;
      const uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof(d));
      return E::Double(d);
    }
    case 5:
      return E::Double(static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000) / 8);
    case 6:
      return E::String(random_string(true));
    case 7:
      return E::Bytes(random_string(false));
    default: {
      Elements children(rng() % 4);
      for (Element& child : children) child = RandomElement(rng, depth + 1);
      return E::Tuple(std::move(children));
    }
  }
}

TEST(TupleTest, RandomRoundTrips) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 5000; ++i) {
    Elements elements(rng() % 6);
    for (Element& e : elements) e = RandomElement(rng, 0);
    const std::string packed = Pack(elements);
    absl::StatusOr<Elements> unpacked = Unpack(packed);
    ASSERT_TRUE(unpacked.ok()) << Hex(packed) << ": " << unpacked.status();
    ASSERT_EQ(*unpacked, elements) << Hex(packed);
  }
}

// Packed integers must compare (as unsigned bytes) like the integers themselves.
TEST(TupleTest, PackedIntegersOrderNumerically) {
  // Signed values as (is_non_negative, two's complement bits) sort like int64; uint64 values
  // above INT64_MAX follow.
  std::vector<int64_t> ints = {kInt64Min, kInt64Min + 1, -1, 0, 1, kInt64Max - 1, kInt64Max};
  for (int bits = 1; bits < 63; ++bits) {
    for (int64_t delta : {-1, 0, 1}) {
      ints.push_back((int64_t{1} << bits) + delta);
      ints.push_back(-(int64_t{1} << bits) + delta);
    }
  }
  std::mt19937_64 rng(99);
  for (int i = 0; i < 2000; ++i) ints.push_back(static_cast<int64_t>(rng()) >> (rng() % 64));
  std::sort(ints.begin(), ints.end());
  ints.erase(std::unique(ints.begin(), ints.end()), ints.end());
  std::vector<uint64_t> uints = {uint64_t{1} << 63, (uint64_t{1} << 63) + 1, kUint64Max - 1,
                                 kUint64Max};
  for (int i = 0; i < 200; ++i) uints.push_back(rng() | (uint64_t{1} << 63));
  std::sort(uints.begin(), uints.end());
  uints.erase(std::unique(uints.begin(), uints.end()), uints.end());

  std::vector<std::string> packed;
  for (int64_t v : ints) packed.push_back(Pack(Elements{E::Int(v)}));
  for (uint64_t v : uints) packed.push_back(Pack(Elements{E::Uint(v)}));
  for (size_t i = 1; i < packed.size(); ++i) {
    // std::string compares chars via char_traits<char>, i.e. as unsigned bytes.
    ASSERT_LT(packed[i - 1], packed[i]) << Hex(packed[i - 1]) << " vs " << Hex(packed[i]);
  }
  // The order holds for whole keys too: a shared first element defers to the second.
  EXPECT_LT(Pack(Elements{E::Int(5), E::Int(-1)}), Pack(Elements{E::Int(5), E::Int(0)}));
  EXPECT_LT(Pack(Elements{E::Int(5), E::Int(kInt64Max)}), Pack(Elements{E::Int(6)}));
}

TEST(TupleTest, PackedDoublesAndStringsOrder) {
  const double doubles[] = {-std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::max(),
                            -1.5,
                            -1.0,
                            -std::numeric_limits<double>::denorm_min(),
                            -0.0,
                            0.0,
                            std::numeric_limits<double>::denorm_min(),
                            1.0,
                            1.5,
                            std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::infinity()};
  for (size_t i = 1; i < std::size(doubles); ++i) {
    EXPECT_LT(Pack(Elements{E::Double(doubles[i - 1])}), Pack(Elements{E::Double(doubles[i])}))
        << doubles[i - 1] << " vs " << doubles[i];
  }
  const std::string strings[] = {"",
                                 std::string("\0", 1),
                                 std::string("\0\0", 2),
                                 "a",
                                 std::string("a\0", 2),
                                 "ab",
                                 "b",
                                 "\xc3\xa9"};
  for (size_t i = 1; i < std::size(strings); ++i) {
    EXPECT_LT(Pack(Elements{E::String(strings[i - 1]), E::Int(9)}),
              Pack(Elements{E::String(strings[i]), E::Int(0)}))
        << i;
  }
}

}  // namespace
}  // namespace connectors::tuple
