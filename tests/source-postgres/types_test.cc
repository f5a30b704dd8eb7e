// Discovery and type fidelity: a table with a column of every built-in type family is
// discovered (snapshot of the collection schema) and captured by backfill and by replication;
// both paths must render identical documents, and the documented representations of NaN,
// infinities, BC dates, microseconds and time zones are asserted value by value.
#include <gtest/gtest.h>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "source-postgres/driver.h"
#include "tests/harness/postgres.h"
#include "tests/snapshot/snapshot.h"
#include "tests/source-postgres/support.h"

namespace connectors::pgtest {
namespace {

constexpr std::string_view kSchema = R"(
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE TYPE pair AS (n int, s text);
CREATE TABLE public.alltypes (
  id int PRIMARY KEY, b bool, i2 int2, i4 int4 NOT NULL DEFAULT 0, i8 int8, o oid, f4 float4,
  f8 float8, num numeric, num_s numeric(10,4), m money, vc varchar(10), bp char(3), t text,
  by bytea, j json, jb jsonb, d date, ts timestamp, tstz timestamptz, tm time, tmtz timetz,
  iv interval, u uuid, e mood, dom posint, r int4range, tsr tstzrange, pt point, bx box,
  bits bit(3), vb varbit, x xml, ip inet, mac macaddr, ia int[], ta text[], tsa timestamptz[],
  tsv tsvector, comp pair);
COMMENT ON COLUMN public.alltypes.t IS 'free text';
)";

// id is substituted; rows 1-3 are backfilled, rows 101-103 replicated.
constexpr std::string_view kRows[] = {
    R"(INSERT INTO public.alltypes VALUES ({id}, true, 32767, -2147483648, 9223372036854775807,
  4294967295, 'NaN', '-Infinity', 'NaN', 123.45, 12.34, 'héllo', 'ab',
  E'quote " back\\ tab\t nl\n emoji 😀', '\xdeadbeef', '{"a": [1, 2.50, null]}',
  '{"b": 1, "a": "x"}', '0044-03-15 BC', 'infinity', '2024-01-15 14:30:00.123456-08',
  '23:59:59.999999', '14:30:00+05:30', '1 year 2 months 3 days 04:05:06.5',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'happy', 5, '[1,10)', '[2024-01-01 00:00+00,)',
  '(1,2)', '(1,2),(3,4)', '101', '1', '<a>1</a>', '192.168.1.1', '08:00:2b:01:02:03',
  '{{1,2},{3,NULL}}', '{"a b","c\"d",NULL,"NULL",""}',
  '{"2024-01-01 00:00:00+00","-infinity"}', 'a fat cat', ROW(1, 'x y'))
)",
    R"(INSERT INTO public.alltypes (id) VALUES ({id}))",
    R"(INSERT INTO public.alltypes (id, f4, f8, num, num_s, d, ts, tstz, tm, iv, ia, jb) VALUES
  ({id}, 1.5, 'Infinity', '-Infinity', -0.0001, 'infinity', '-infinity',
   '1999-12-31 23:59:59.000001+00', '00:00:00', '-1 days -02:00:00', '{}', 'null'))",
};

std::string Row(std::string_view tmpl, int id) {
  std::string s(tmpl);
  const size_t at = s.find("{id}");
  s.replace(at, 4, std::to_string(id));
  return s;
}

// The document without _meta, with sorted keys, and its id.
std::pair<int64_t, std::string> Body(std::string_view doc) {
  json::Parser parser;
  auto root = parser.Parse(doc);
  EXPECT_TRUE(root.ok()) << doc;
  std::string out;
  json::Writer w(&out);
  w.BeginObject();
  int64_t id = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  for (auto [k, v] : simdjson::dom::object(*root)) {
    std::string key(k.data(), k.size());
    if (key == "_meta") continue;
    if (key == "id") {
      EXPECT_EQ(v.get(id), simdjson::SUCCESS);
      continue;
    }
    fields.emplace_back(key, json::ToJson(v, true));
  }
  std::sort(fields.begin(), fields.end());
  for (auto& [k, v] : fields) w.Key(k).Raw(v);
  w.EndObject();
  return {id, out};
}

TEST(TypesTest, DiscoveryAndBackfillEqualReplication) {
  auto pg = harness::Postgres::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  auto created = pg->Exec(kSchema);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(pg->Exec("CREATE PUBLICATION flow_publication").ok());
  for (int i = 0; i < 3; ++i) {
    auto r = pg->Exec(Row(kRows[i], i + 1));
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // Discovery of the table.
  postgres::PostgresDriver driver;
  Logger log(2, LogLevel::kWarn);
  ::capture::Request::Discover discover;
  discover.set_config_json(ConfigJson(*pg));
  auto discovered = driver.Discover(discover, log);
  ASSERT_TRUE(discovered.ok()) << discovered.status();
  ASSERT_EQ(discovered->bindings_size(), 1);
  const auto& binding = discovered->bindings(0);
  json::Parser parser;
  auto schema = parser.Parse(binding.document_schema_json());
  ASSERT_TRUE(schema.ok());
  std::string discovery =
      StrCat("recommended name: ", binding.recommended_name(),
             "\nresource: ", binding.resource_config_json(), "\nkey: ", binding.key(0),
             "\nschema: ", json::ToJson(*schema, true), "\n");
  snapshot::ExpectMatches("tests/source-postgres/snapshots/discover_alltypes.snap", discovery);

  CaptureRun run(ConfigJson(*pg, R"("advanced":{"backfill_chunk_size":2})"),
                 {{"public", "alltypes"}}, "");
  ASSERT_TRUE(run.Start().ok());
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 3; }));
  for (int i = 0; i < 3; ++i) {
    auto r = pg->Exec(Row(kRows[i], 101 + i));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ASSERT_TRUE(run.WaitFor([](const std::vector<Doc>& d) { return d.size() >= 6; }));
  ASSERT_TRUE(run.Stop().ok());
  const auto docs = run.docs();
  ASSERT_EQ(docs.size(), 6u);

  std::map<int64_t, std::string> bodies;
  for (const Doc& d : docs) bodies.insert(Body(d.json));
  std::string values;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(bodies[i], bodies[100 + i]) << "backfill and replication differ for row " << i;
    StrAppend(&values, "row ", i, ": ", bodies[i], "\n");
  }
  snapshot::ExpectMatches("tests/source-postgres/snapshots/alltypes_values.snap", values, {});

  // Documented representations, asserted directly.
  auto doc1 = parser.Parse(bodies[1]);
  ASSERT_TRUE(doc1.ok());
  auto str = [&](const char* key) {
    std::string_view v;
    EXPECT_EQ((*doc1)[key].get(v), simdjson::SUCCESS) << key;
    return std::string(v);
  };
  EXPECT_EQ(str("f4"), "NaN");
  EXPECT_EQ(str("f8"), "-Infinity");
  EXPECT_EQ(str("num"), "NaN");
  EXPECT_EQ(str("num_s"), "123.4500");
  EXPECT_EQ(str("d"), "0000-01-01");  // BC dates clamp to the RFC 3339 minimum.
  EXPECT_EQ(str("ts"), "9999-12-31T23:59:59Z");
  EXPECT_EQ(str("tstz"), "2024-01-15T22:30:00.123456Z");  // Normalized to UTC.
  EXPECT_EQ(str("tm"), "23:59:59.999999Z");
  EXPECT_EQ(str("tmtz"), "14:30:00+05:30");
  EXPECT_EQ(str("iv"), "P1Y2M3DT4H5M6.5S");
  EXPECT_EQ(str("u"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(str("by"), "3q2+7w==");
  EXPECT_EQ(str("t"), "quote \" back\\ tab\t nl\n emoji 😀");
  EXPECT_EQ(json::ToJson((*doc1)["ia"]), "[[1,2],[3,null]]");
  EXPECT_EQ(json::ToJson((*doc1)["ta"]), R"(["a b","c\"d",null,"NULL",""])");
  EXPECT_EQ(json::ToJson((*doc1)["tsa"]), R"(["2024-01-01T00:00:00Z","0000-01-01T00:00:00Z"])");
  EXPECT_EQ(json::ToJson((*doc1)["j"]), R"({"a":[1,2.5,null]})");
  int64_t i8 = 0;
  EXPECT_EQ((*doc1)["i8"].get(i8), simdjson::SUCCESS);
  EXPECT_EQ(i8, 9223372036854775807);
  auto doc3 = parser.Parse(bodies[3]);
  ASSERT_TRUE(doc3.ok());
  EXPECT_EQ(json::ToJson((*doc3)["d"]), R"("9999-12-31")");
  EXPECT_EQ(json::ToJson((*doc3)["ts"]), R"("0000-01-01T00:00:00Z")");
  EXPECT_EQ(json::ToJson((*doc3)["tstz"]), R"("1999-12-31T23:59:59.000001Z")");
  EXPECT_EQ(json::ToJson((*doc3)["num"]), R"("-Infinity")");
  EXPECT_EQ(json::ToJson((*doc3)["iv"]), R"("P-1DT-2H")");
  EXPECT_EQ(json::ToJson((*doc3)["f4"]), "1.5");
}

}  // namespace
}  // namespace connectors::pgtest
