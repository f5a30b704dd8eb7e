#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "libs/base/strings.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/decompress.h"
#include "libs/filesource/encoding.h"
#include "libs/filesource/parse.h"
#include "libs/filesource/parser_schema.h"
#include "libs/filesource/state.h"
#include "libs/filesource/testing/archives.h"
#include "libs/json/parse.h"

namespace connectors::filesource {
namespace {

using testing::Gzip;
using testing::Zip;
using testing::ZipEntry;
using testing::Zstd;

class CollectSink : public RecordSink {
 public:
  absl::Status Record(uint64_t offset, std::string_view doc) override {
    docs.emplace_back(doc);
    return absl::OkStatus();
  }
  std::vector<std::string> docs;
};

struct Result {
  absl::Status status;
  std::vector<std::string> docs;
  std::vector<std::string> warnings;
};

// Parses `data` as file `path` with `config_json` as the `parser` config, feeding it in chunks of
// `chunk` bytes.
Result Parse(std::string data, std::string_view path, std::string_view config_json = "{}",
             size_t chunk = 64 * 1024, std::string content_type = "") {
  json::Parser parser;
  auto element = parser.Parse(config_json);
  EXPECT_TRUE(element.ok());
  auto config = ParseParserConfig(*element);
  EXPECT_TRUE(config.ok()) << config.status();
  StringSource source(std::move(data), chunk);
  DocumentBuilder docs({std::string(path), "", ""}, config->default_offset);
  CollectSink sink;
  Result result;
  ParseHooks hooks;
  hooks.warn = [&](std::string_view w) { result.warnings.emplace_back(w); };
  FileInfo file{std::string(path), content_type, ""};
  result.status = ParseFile(source, *config, file, docs, sink, hooks);
  result.docs = std::move(sink.docs);
  return result;
}

std::string Meta(std::string_view file, int offset) {
  return StrCat(R"("_meta":{"file":")", file, R"(","offset":)", offset, "}}");
}

TEST(Csv, HeaderRowQuotesNullsAndMeta) {
  Result r = Parse("id,name,note\r\n1,\"Smith, J\",\"said \"\"hi\"\"\"\r\n2,,NULL\r\n3,x\r\n",
                   "people.csv");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.docs.size(), 3u);
  EXPECT_EQ(r.docs[0],
            StrCat(R"({"id":"1","name":"Smith, J","note":"said \"hi\"",)", Meta("people.csv", 0)));
  EXPECT_EQ(r.docs[1], StrCat(R"({"id":"2","name":null,"note":null,)", Meta("people.csv", 1)));
  // A short row omits the missing columns.
  EXPECT_EQ(r.docs[2], StrCat(R"({"id":"3","name":"x",)", Meta("people.csv", 2)));
}

TEST(Csv, EveryChunkSizeGivesTheSameDocuments) {
  const std::string data = "a;b\n'x;1';\"q\"\r\n'multi\nline';2\r'it''s';3\n\n";
  Result whole = Parse(data, "f.csv");
  ASSERT_TRUE(whole.status.ok()) << whole.status;
  ASSERT_EQ(whole.docs.size(), 3u);
  EXPECT_EQ(whole.docs[1], StrCat(R"({"a":"multi\nline","b":"2",)", Meta("f.csv", 1)));
  EXPECT_EQ(whole.docs[2], StrCat(R"({"a":"it's","b":"3",)", Meta("f.csv", 2)));
  for (size_t chunk : {1, 2, 3, 7}) {
    Result r = Parse(data, "f.csv", "{}", chunk);
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.docs, whole.docs) << "chunk " << chunk;
  }
}

TEST(Csv, SniffsDelimiterAndQuote) {
  struct Case {
    std::string data;
    std::string first;
  };
  const std::vector<Case> cases = {
      {"a,b\n\"1,2\",3\n", R"({"a":"1,2","b":"3",)"},
      {"a|b\n'1|2'|3\n", R"({"a":"1|2","b":"3",)"},
      {"a;b\n1;2\n", R"({"a":"1","b":"2",)"},
      {"a\tb\n'1\t2'\t'x'\n", R"({"a":"1\t2","b":"x",)"},
      {"a,b\n\"x,1,2\n", R"({"a":"\"x","b":"1",)"},  // Unbalanced quote: quoting off wins.
  };
  for (const Case& c : cases) {
    Result r = Parse(c.data, "s.csv", "{}");
    ASSERT_TRUE(r.status.ok() || c.data.find("\"x,1,2") != std::string::npos) << r.status;
    if (!r.docs.empty()) {
      EXPECT_EQ(r.docs[0].substr(0, c.first.size()), c.first) << c.data;
    }
  }
}

TEST(Csv, ExplicitDialectHeadersAndEscape) {
  Result r = Parse("1~\"a~b\"~\"q\\\"x\"\n2~c~d\n", "x.txt",
                   R"({"format":{"type":"csv","config":{"delimiter":"~","escape":"\\",)"
                   R"("headers":["id","v","w"]}}})");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.docs.size(), 2u);
  EXPECT_EQ(r.docs[0], StrCat(R"({"id":"1","v":"a~b","w":"q\"x",)", Meta("x.txt", 0)));
}

TEST(Csv, TypesColumnsTheSchemaTypes) {
  json::Parser parser;
  auto config = ParseParserConfig(*parser.Parse("{}"));
  ASSERT_TRUE(config.ok());
  config->csv.column_types = {{"n", "integer"}, {"x", "number"}, {"b", "boolean"}};
  StringSource source("n,x,b,s,t\n12,1.5,true,7,2024-05-01 10:00:00\nnope,3,FALSE,,\n");
  DocumentBuilder docs({"t.csv", "", ""}, "+00:00");
  CollectSink sink;
  ASSERT_TRUE(ParseFile(source, *config, {"t.csv"}, docs, sink).ok());
  ASSERT_EQ(sink.docs.size(), 2u);
  EXPECT_EQ(sink.docs[0], StrCat(R"({"n":12,"x":1.5,"b":true,"s":"7","t":"2024-05-01T10:00:00Z",)",
                                 Meta("t.csv", 0)));
  EXPECT_EQ(sink.docs[1],
            StrCat(R"({"n":"nope","x":3,"b":false,"s":null,"t":null,)", Meta("t.csv", 1)));
}

TEST(Csv, LongRowFailsNamingLineAndByte) {
  Result r = Parse("a,b\n1,2\n1,2,3\n", "bad.csv");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status.message(),
            "CSV file bad.csv, line 3 (byte 8): the row has 3 columns but the header has 2");
  EXPECT_EQ(r.docs.size(), 1u);
}

TEST(Csv, ErrorThresholdSkipsRowsBelowAndFailsAbove) {
  std::string data = "a,b\n";
  for (int i = 0; i < 200; ++i) data += i % 50 == 7 ? "1,\"x\"y\n" : StrCat(i, ",ok\n");
  // 4 of 200 rows are malformed: 2% is under a 5% threshold.
  Result under = Parse(data, "t.csv", R"({"format":{"type":"csv","config":{"errorThreshold":5}}})");
  ASSERT_TRUE(under.status.ok()) << under.status;
  EXPECT_EQ(under.docs.size(), 196u);
  ASSERT_EQ(under.warnings.size(), 4u);
  EXPECT_EQ(under.warnings[0],
            "skipping malformed CSV row at line 9 (byte 39) of t.csv: unexpected character after "
            "a closing quote in column 2");
  // ... and reaches a 2% threshold at the end of the file.
  Result over = Parse(data, "t.csv", R"({"format":{"type":"csv","config":{"errorThreshold":2}}})");
  EXPECT_FALSE(over.status.ok());
  EXPECT_NE(std::string(over.status.message()).find("error threshold of 2%"), std::string::npos)
      << over.status;
  // Threshold 0: the first malformed row fails.
  Result strict = Parse(data, "t.csv");
  EXPECT_EQ(strict.status.message(),
            "CSV file t.csv, line 9 (byte 39): unexpected character after a closing quote in "
            "column 2");
  EXPECT_EQ(strict.docs.size(), 7u);
}

TEST(Csv, UnterminatedQuoteIsMalformed) {
  Result r =
      Parse("a,b\n1,\"open\n", "q.csv", R"({"format":{"type":"csv","config":{"quote":"\""}}})");
  EXPECT_EQ(r.status.message(),
            "CSV file q.csv, line 2 (byte 4): a quoted field is not closed before the end of the "
            "file");
}

TEST(Encoding, Utf16AndLatin1AreTranscoded) {
  auto utf16 = [](std::string_view ascii, bool le, bool bom) {
    std::string out = bom ? (le ? "\xFF\xFE" : "\xFE\xFF") : "";
    for (char c : ascii) {
      out += le ? std::string{c, '\0'} : std::string{'\0', c};
    }
    return out;
  };
  for (bool le : {true, false}) {
    for (bool bom : {true, false}) {
      Result r = Parse(utf16("k,v\n1,x\n", le, bom), "u.csv", "{}", 3);
      ASSERT_TRUE(r.status.ok()) << r.status;
      ASSERT_EQ(r.docs.size(), 1u);
      EXPECT_EQ(r.docs[0], StrCat(R"({"k":"1","v":"x",)", Meta("u.csv", 0)));
    }
  }
  Result latin = Parse("name\nJos\xE9\n\x80uro\n", "l.csv");
  ASSERT_TRUE(latin.status.ok()) << latin.status;
  EXPECT_EQ(latin.docs[0], StrCat(R"({"name":"José",)", Meta("l.csv", 0)));
  EXPECT_EQ(latin.docs[1], StrCat(R"({"name":"€uro",)", Meta("l.csv", 1)));
}

TEST(Encoding, InvalidUtf8AfterTheSniffedPrefixNamesItsOffset) {
  std::string data = "k\n";
  while (data.size() < 70000) data += "abcdefgh\n";
  const size_t bad = data.size() + 2;
  data += "x,\xC3\x28\n";
  Result r = Parse(data, "big.csv", R"({"format":{"type":"csv","config":{"delimiter":"|"}}})");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status.message(), StrCat("CSV file big.csv: invalid UTF-8 at byte ", bad,
                                       "; set the parser's encoding if the file is not UTF-8"));
}

TEST(Json, LinesPrettyObjectsAndArraysStreamElementByElement) {
  const std::string data =
      "{\"a\":1,\"s\":\"}{\\\"[\"}\n{\n  \"a\": 2, \"_meta\": {\"x\": 1}\n}\n"
      "[{\"a\":3,\"t\":\"2024-01-02T03:04:05.5+02:00\"}, {\"a\":[4,{\"b\":null}]}]\n";
  for (size_t chunk : {1, 5, 1 << 16}) {
    Result r = Parse(data, "d.json", "{}", chunk);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.docs.size(), 4u);
    EXPECT_EQ(r.docs[0], StrCat(R"({"a":1,"s":"}{\"[",)", Meta("d.json", 0)));
    EXPECT_EQ(r.docs[1], StrCat(R"({"a":2,)", Meta("d.json", 1)));
    EXPECT_EQ(r.docs[2], StrCat(R"({"a":3,"t":"2024-01-02T03:04:05.5+02:00",)", Meta("d.json", 2)));
    EXPECT_EQ(r.docs[3], StrCat(R"({"a":[4,{"b":null}],)", Meta("d.json", 3)));
  }
}

TEST(Json, ErrorsNameLineAndByte) {
  Result scalar = Parse("{\"a\":1}\n[{\"a\":2}, 3]", "e.json");
  EXPECT_EQ(scalar.status.message(),
            "JSON file e.json, line 2 (byte 18): an element of a top-level array is not an object");
  EXPECT_EQ(scalar.docs.size(), 2u);
  Result truncated = Parse("{\"a\":1}\n{\"a\":", "e.jsonl");
  EXPECT_EQ(truncated.status.message(),
            "JSON file e.jsonl, record at line 2 (byte 8): the file ends inside a record "
            "(truncated or malformed JSON)");
  Result malformed = Parse("{\"a\":1}\n{\"a\" 2}\n", "e.jsonl");
  EXPECT_NE(std::string(malformed.status.message())
                .find("JSON file e.jsonl, record at line 2 (byte 8): "),
            std::string::npos)
      << malformed.status;
}

TEST(W3c, FieldsDirectivesAndNulls) {
  Result r = Parse(
      "#Version: 1.0\n#Fields: date time cs-method sc-status\n2024-01-02\t03:04:05\tGET\t200\n"
      "#Comment\n2024-01-03 10:00:00 - 404\n",
      "access.log");
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.docs.size(), 2u);
  EXPECT_EQ(r.docs[0],
            StrCat(R"({"date":"2024-01-02","time":"03:04:05","cs-method":"GET","sc-status":"200",)",
                   Meta("access.log", 0)));
  EXPECT_EQ(r.docs[1], StrCat(R"({"date":"2024-01-03","time":"10:00:00","cs-method":null,)"
                              R"("sc-status":"404",)",
                              Meta("access.log", 1)));
}

TEST(Compression, GzipMembersZstdFramesAndDetection) {
  const std::string two_members = Gzip("{\"a\":1}\n") + Gzip("{\"a\":2}\n");
  for (std::string path : {"x.jsonl.gz", "x.json", "noext"}) {
    Result r = Parse(two_members, path, "{}", 3);
    ASSERT_TRUE(r.status.ok()) << path << ": " << r.status;
    EXPECT_EQ(r.docs.size(), 2u) << path;
  }
  Result zstd = Parse(Zstd("a\n1\n") + Zstd("2\n"), "y.csv.zst", "{}", 4);
  ASSERT_TRUE(zstd.status.ok()) << zstd.status;
  EXPECT_EQ(zstd.docs.size(), 2u);
  // Explicit "none" reads the bytes as they are.
  Result none = Parse("a\n1\n", "plain.csv.gz", R"({"compression":"none"})");
  EXPECT_TRUE(none.status.ok()) << none.status;
}

TEST(Compression, TruncatedInputIsAnError) {
  std::string gz = Gzip(std::string(100000, 'a') + "\n");
  gz.resize(gz.size() / 2);
  Result r = Parse(gz, "t.csv.gz");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(r.status.message())
                .find("gzip: truncated input: the stream ends inside a member at compressed byte"),
            std::string::npos)
      << r.status;
  EXPECT_EQ(std::string(r.status.message()).rfind("t.csv.gz: gzip: truncated", 0), 0u) << r.status;
  std::string zst = Zstd("a\n1\n");
  zst.pop_back();
  EXPECT_EQ(Parse(zst, "t.csv.zst").status.code(), absl::StatusCode::kDataLoss);
}

TEST(Compression, ZipEntriesInOrderWithOffsetsContinuing) {
  const std::string zip = Zip({
      {"dir/", "", false},
      {"a.csv", "k\n1\n2\n", true},
      {".hidden.csv", "k\n9\n", false},
      {"__MACOSX/._a.csv", "junk", false},
      {"sub/b.jsonl", "{\"k\":\"3\"}\n", false},
      {"c.csv", "k\n4\n", true, /*descriptor=*/true},
  });
  for (size_t chunk : {1, 13, 1 << 16}) {
    Result r = Parse(zip, "bundle.zip", "{}", chunk);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.docs.size(), 4u);
    EXPECT_EQ(r.docs[0], StrCat(R"({"k":"1",)", Meta("bundle.zip", 0)));
    EXPECT_EQ(r.docs[2], StrCat(R"({"k":"3",)", Meta("bundle.zip", 2)));
    EXPECT_EQ(r.docs[3], StrCat(R"({"k":"4",)", Meta("bundle.zip", 3)));
  }
  std::string cut = zip.substr(0, 40);
  Result truncated = Parse(cut, "bundle.zip");
  EXPECT_EQ(truncated.status.code(), absl::StatusCode::kDataLoss) << truncated.status;
}

TEST(DateTime, NormalisesTimestampLikeStrings) {
  std::string out;
  EXPECT_TRUE(NormalizeDateTime("2024-05-01 12:00:00", "+00:00", &out));
  EXPECT_EQ(out, "2024-05-01T12:00:00Z");
  EXPECT_TRUE(NormalizeDateTime("2024-05-01t12:00:00.123z", "+00:00", &out));
  EXPECT_EQ(out, "2024-05-01T12:00:00.123Z");
  EXPECT_TRUE(NormalizeDateTime("2024-05-01 12:00:00", "-05:00", &out));
  EXPECT_EQ(out, "2024-05-01T12:00:00-05:00");
  EXPECT_TRUE(NormalizeDateTime("2024-05-01T12:00:00+05:30", "+00:00", &out));
  EXPECT_EQ(out, "2024-05-01T12:00:00+05:30");
  for (const char* no : {"2024-13-01 12:00:00", "2024-05-01", "2024-05-01 12:00", "x2024-05-01",
                         "2024-05-01 12:00:00 UTC", "2024-05-01T25:00:00"}) {
    EXPECT_FALSE(NormalizeDateTime(no, "+00:00", &out)) << no;
  }
}

TEST(Resolution, FormatAndCompression) {
  ParserConfig config;
  EXPECT_EQ(ResolveFormat(config, "/a/x.csv.gz", ""), Format::kCsv);
  EXPECT_EQ(ResolveFormat(config, "x.parquet.bak", ""), Format::kParquet);
  EXPECT_EQ(ResolveFormat(config, "x.bin", "application/json; charset=utf-8"), Format::kJson);
  EXPECT_EQ(ResolveFormat(config, "x.bin", "text/plain"), Format::kAuto);
  EXPECT_EQ(ResolveFormat(config, ".csv", ""), Format::kAuto);
  EXPECT_EQ(ResolveCompression(config, "x.csv.gz", "", "", ""), Compression::kGzip);
  EXPECT_EQ(ResolveCompression(config, "x", "GZIP", "", ""), Compression::kGzip);
  EXPECT_EQ(ResolveCompression(config, "x", "", "application/zstd", ""), Compression::kZstd);
  EXPECT_EQ(ResolveCompression(config, "x", "", "", "PK\x03\x04"), Compression::kZip);
  EXPECT_EQ(ResolveCompression(config, "x", "", "", "abc"), Compression::kNone);
  EXPECT_EQ(SniffFormat("  [{\"a\":1}]"), Format::kJson);
  EXPECT_EQ(SniffFormat("#Version: 1.0\n"), Format::kW3c);
  EXPECT_EQ(SniffFormat("a,b\n"), Format::kCsv);
  config.format = Format::kW3c;
  EXPECT_EQ(ResolveFormat(config, "x.csv", ""), Format::kW3c);
}

TEST(Config, ErrorsNameTheField) {
  json::Parser parser;
  auto bad =
      ParseParserConfig(*parser.Parse(R"({"format":{"type":"csv","config":{"delimiter":"ab"}}})"));
  EXPECT_EQ(bad.status().message(),
            "parser.format.config.delimiter: unsupported value; see the field's options");
  auto encoding = ParseParserConfig(
      *parser.Parse(R"({"format":{"type":"csv","config":{"encoding":"klingon"}}})"));
  EXPECT_NE(std::string(encoding.status().message()).find("parser.format.config.encoding"),
            std::string::npos);
  EXPECT_TRUE(ParserSchema().Lint().ok());
  Result parquet = Parse("PAR1", "x.parquet");
  EXPECT_EQ(parquet.status.code(), absl::StatusCode::kUnimplemented);
}

TEST(State, PatchRoundTripsAndShardsSplitFiles) {
  FileState state{"\"e1\"", "Mon, 01 Jan 2024 00:00:00 GMT", 12, false};
  const std::string patch = FileStatePatch("k", "f.csv", state);
  EXPECT_EQ(patch, R"({"bindingStateV1":{"k":{"files":{"f.csv":{"etag":"\"e1\"","lastModified":)"
                   R"("Mon, 01 Jan 2024 00:00:00 GMT","records":12,"complete":false}}}}})");
  auto loaded = LoadBindingState(patch, "k");
  ASSERT_TRUE(loaded.ok());
  const FileState& got = loaded->files.at("f.csv");
  EXPECT_EQ(got.records, 12u);
  EXPECT_TRUE(got.SameVersion("\"e1\"", ""));
  EXPECT_FALSE(got.SameVersion("\"e2\"", "Mon, 01 Jan 2024 00:00:00 GMT"));
  // Two halves of the key space split 1000 paths roughly evenly, each path to exactly one.
  int low = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string path = StrCat("file-", i, ".csv");
    const bool a = InShard(path, 0, 0x7FFFFFFF), b = InShard(path, 0x80000000, 0xFFFFFFFF);
    EXPECT_NE(a, b);
    low += a;
  }
  EXPECT_GT(low, 400);
  EXPECT_LT(low, 600);
}

}  // namespace
}  // namespace connectors::filesource

namespace connectors::filesource {
namespace {

TEST(Xlsx, SheetsRowsAndCellTypes) {
  const std::string sheet1 =
      R"(<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)"
      R"(<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is><t>note</t></is></c></row>)"
      R"(<row r="2"><c r="A2"><v>42</v></c><c r="B2" t="b"><v>1</v></c><c r="C2"><v>2.5</v></c><c r="D2" t="str"><v>2024-01-02 03:04:05</v></c></row>)"
      R"(<row r="3"><c r="B3" t="s"><v>2</v></c></row></sheetData></worksheet>)";
  const std::string strings =
      R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3"><si><t>id</t></si>)"
      R"(<si><r><t>fl</t></r><r><t>ag</t></r></si><si><t xml:space="preserve">caf&#233; </t></si></sst>)";
  const std::string sheet2 =
      R"(<worksheet><sheetData><row><c t="s"><v>0</v></c></row><row><c><v>7</v></c></row></sheetData></worksheet>)";
  const std::string xlsx = testing::Zip({{"[Content_Types].xml", "<Types/>", true},
                                         {"xl/worksheets/sheet1.xml", sheet1, true},
                                         {"xl/sharedStrings.xml", strings, true},
                                         {"xl/worksheets/sheet2.xml", sheet2, true, true}});
  for (size_t chunk : {7, 1 << 16}) {
    Result r = Parse(xlsx, "book.xlsx", "{}", chunk);
    ASSERT_TRUE(r.status.ok()) << r.status;
    ASSERT_EQ(r.docs.size(), 3u);
    EXPECT_EQ(r.docs[0], R"({"id":42,"flag":true,"C":2.5,"note":"2024-01-02T03:04:05Z","_meta":)"
                         R"({"file":"book.xlsx","offset":0,"sheet":"sheet1"}})");
    EXPECT_EQ(r.docs[1],
              R"({"flag":"café ","_meta":{"file":"book.xlsx","offset":1,"sheet":"sheet1"}})");
    EXPECT_EQ(r.docs[2], R"({"id":7,"_meta":{"file":"book.xlsx","offset":2,"sheet":"sheet2"}})");
  }
  Result bad = Parse(testing::Zip({{"xl/sharedStrings.xml", "<sst><si>", true}}), "b.xlsx");
  EXPECT_NE(std::string(bad.status.message()).find("shared strings: malformed XML"),
            std::string::npos)
      << bad.status;
}

}  // namespace
}  // namespace connectors::filesource

namespace connectors::filesource {
namespace {

TEST(Avro, RecordsUnionsEnumsBytesAndCodecs) {
  for (const char* codec : {"null", "deflate"}) {
    const std::string file = testing::AvroFile(codec, 3);
    for (size_t chunk : {3, 1 << 16}) {
      Result r = Parse(file, "data.avro", "{}", chunk);
      ASSERT_TRUE(r.status.ok()) << codec << ": " << r.status;
      ASSERT_EQ(r.docs.size(), 3u);
      EXPECT_EQ(
          r.docs[0],
          StrCat(R"({"id":0,"name":"2024-01-02T03:04:05Z","kind":"A","raw":"aGkh","score":1.5,)"
                 R"("tags":["t"],)",
                 Meta("data.avro", 0)));
      EXPECT_EQ(r.docs[1], StrCat(R"({"id":1,"name":null,"kind":"B","raw":"aGkh","score":"NaN",)"
                                  R"("tags":["t"],)",
                                  Meta("data.avro", 1)));
    }
  }
  // Sniffed without an extension; a cut file is an error, not a silent short read.
  EXPECT_TRUE(Parse(testing::AvroFile("null", 1), "blob").status.ok());
  std::string many = testing::AvroFile("deflate", 2000);
  many.resize(many.size() / 2);
  Result cut = Parse(many, "cut.avro");
  EXPECT_FALSE(cut.status.ok());
  EXPECT_NE(std::string(cut.status.message()).find("Avro file cut.avro"), std::string::npos)
      << cut.status;
}

}  // namespace
}  // namespace connectors::filesource
