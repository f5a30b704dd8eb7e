// PostgreSQL types as the capture renders them: the JSON schema discovered for a column and the
// JSON value written for a column's text form. Backfills and replication both receive values
// in text form (sessions run with TimeZone=UTC, DateStyle=ISO, IntervalStyle=iso_8601), so one
// transcoder serves both and a row reads the same whichever path delivered it.
//
// Representations (see README.md for the full table):
//   bool -> true/false; int2/int4/int8/oid -> integers; float4/float8 -> numbers, with NaN and
//   +-Infinity as the strings "NaN", "Infinity", "-Infinity"; numeric/money -> exact decimal
//   strings ("NaN", "Infinity", "-Infinity" kept); bytea -> base64; json/jsonb -> embedded
//   JSON; date -> "YYYY-MM-DD"; timestamp/timestamptz -> RFC 3339 in UTC ("...Z", microseconds
//   kept, trailing zeros trimmed by the server); time -> "HH:MM:SS[.ffffff]Z"; timetz ->
//   "HH:MM:SS[.ffffff]+hh:mm"; interval -> ISO 8601 duration ("P1Y2M3DT4H5M6S"); uuid ->
//   canonical string; arrays -> nested JSON arrays of converted elements (lower bounds
//   dropped); everything else (enums, ranges, geometric, bit, xml, network, composite, unknown
//   extension types) -> the server's text form.
//   Values RFC 3339 cannot express are clamped: +infinity -> 9999-12-31 / 9999-12-31T23:59:59Z,
//   -infinity, BC dates and BC timestamps -> 0000-01-01 / 0000-01-01T00:00:00Z, years past
//   9999 -> the +infinity value; time 24:00:00 -> 23:59:59.999999Z.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace connectors::postgres {

enum class Kind {
  kBool,
  kInt,
  kFloat,
  kNumeric,
  kText,
  kBytea,
  kJson,
  kDate,
  kTimestamp,
  kTimestampTz,
  kTime,
  kTimeTz,
  kInterval,
  kUuid,
  kArray,
};

struct ColumnType {
  Kind kind = Kind::kText;
  Kind element = Kind::kText;  // For kArray.
  std::string name;            // udt name for descriptions (base type for domains).
  bool collatable = false;     // Text-like: ordered with COLLATE "C" in keyed scans.
};

// The kind of a built-in type OID (after domains are resolved); kText when not built in.
Kind KindOfOid(uint32_t oid);

// The column's JSON schema (one object), with "null" allowed when `nullable`.
std::string ColumnSchema(const ColumnType& type, bool nullable, std::string_view description);

// Appends the JSON value for `text`, a value of `type` in PostgreSQL's text output form.
void AppendValue(const ColumnType& type, std::string_view text, std::string* out);
void AppendScalar(Kind kind, std::string_view text, std::string* out);

// Appends one key element (libs/tuple) for a value in text form: integers and booleans in
// their native tuple encodings, everything else as its text bytes.
void AppendKeyElement(Kind kind, std::string_view text, std::string* out);
// Whether packed keys of this kind sort bytewise as PostgreSQL orders the column (with
// COLLATE "C" for text): a precise backfill needs this for every key column.
bool BytewiseOrdered(const ColumnType& type);

}  // namespace connectors::postgres
