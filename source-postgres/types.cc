#include "source-postgres/types.h"

#include <charconv>

#include "libs/base/strings.h"
#include "libs/json/writer.h"
#include "libs/sqlcapture/capture.h"
#include "libs/tuple/tuple.h"

namespace connectors::postgres {
namespace {

constexpr std::string_view kMaxDate = "9999-12-31";
constexpr std::string_view kMinDate = "0000-01-01";
constexpr std::string_view kMaxTimestamp = "9999-12-31T23:59:59Z";
constexpr std::string_view kMinTimestamp = "0000-01-01T00:00:00Z";

void Quoted(std::string_view s, std::string* out) { json::AppendQuoted(s, out); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Number of digits in the year that starts `text` ("2024-..." -> 4, "12024-..." -> 5).
size_t YearDigits(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  return n;
}

// Appends a UTC offset "+05", "+05:30", "-03:30:15" as RFC 3339 ("Z" for zero).
void AppendOffset(std::string_view offset, std::string* out) {
  if (offset == "+00" || offset == "-00" || offset == "+00:00") {
    *out += 'Z';
    return;
  }
  out->append(offset.substr(0, 3));
  *out += ':';
  out->append(offset.size() >= 6 ? offset.substr(4, 2) : std::string_view("00"));
}

// Splits "HH:MM:SS[.ffffff]+hh[:mm[:ss]]" into time and offset.
std::pair<std::string_view, std::string_view> SplitOffset(std::string_view text) {
  const size_t at = text.find_first_of("+-", 1);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at)};
}

void AppendTimestamp(std::string_view text, bool with_zone, std::string* out) {
  std::string s;
  if (text == "infinity") {
    Quoted(kMaxTimestamp, out);
    return;
  }
  if (text == "-infinity" || EndsWith(text, " BC")) {
    Quoted(kMinTimestamp, out);
    return;
  }
  if (YearDigits(text) > 4) {
    Quoted(kMaxTimestamp, out);
    return;
  }
  // "2024-01-15 14:30:00.5[+00]"
  std::string_view date = text.substr(0, 10);
  std::string_view rest = text.size() > 11 ? text.substr(11) : std::string_view();
  s.append(date);
  s += 'T';
  if (with_zone) {
    auto [time, offset] = SplitOffset(rest);
    s.append(time);
    AppendOffset(offset, &s);
  } else {
    s.append(rest);
    s += 'Z';
  }
  Quoted(s, out);
}

void AppendDate(std::string_view text, std::string* out) {
  if (text == "infinity" || YearDigits(text) > 4) {
    Quoted(kMaxDate, out);
  } else if (text == "-infinity" || EndsWith(text, " BC")) {
    Quoted(kMinDate, out);
  } else {
    Quoted(text, out);
  }
}

void AppendBytea(std::string_view text, std::string* out) {
  // Text form with bytea_output=hex: "\x0a1b...".
  std::string bytes;
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    bytes.reserve((text.size() - 2) / 2);
    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (size_t i = 2; i + 1 < text.size(); i += 2) {
      bytes += static_cast<char>((hex(text[i]) << 4) | hex(text[i + 1]));
    }
  } else {
    bytes.assign(text);  // Escape format is never requested; keep the text as is.
  }
  *out += '"';
  out->append(sqlcapture::Base64Encode(bytes));
  *out += '"';
}

// Parses one array literal level starting at text[*pos] == '{' and appends a JSON array.
void AppendArrayLevel(Kind element, std::string_view text, size_t* pos, std::string* out) {
  ++*pos;  // '{'
  *out += '[';
  bool first = true;
  std::string item;
  while (*pos < text.size()) {
    char c = text[*pos];
    if (c == '}') {
      ++*pos;
      break;
    }
    if (c == ',') {
      ++*pos;
      continue;
    }
    if (!first) *out += ',';
    first = false;
    if (c == '{') {
      AppendArrayLevel(element, text, pos, out);
      continue;
    }
    item.clear();
    bool quoted = false;
    if (c == '"') {
      quoted = true;
      ++*pos;
      while (*pos < text.size() && text[*pos] != '"') {
        if (text[*pos] == '\\' && *pos + 1 < text.size()) ++*pos;
        item += text[*pos];
        ++*pos;
      }
      ++*pos;  // Closing quote.
    } else {
      while (*pos < text.size() && text[*pos] != ',' && text[*pos] != '}') {
        item += text[*pos];
        ++*pos;
      }
    }
    if (!quoted && item == "NULL") {
      *out += "null";
    } else {
      AppendScalar(element, item, out);
    }
  }
  *out += ']';
}

void AppendArray(Kind element, std::string_view text, std::string* out) {
  size_t pos = 0;
  // Non-default lower bounds: "[0:1]={1,2}".
  if (!text.empty() && text[0] == '[') {
    const size_t eq = text.find('=');
    pos = eq == std::string_view::npos ? text.size() : eq + 1;
  }
  if (pos >= text.size() || text[pos] != '{') {
    Quoted(text, out);  // Not an array literal after all: keep the text.
    return;
  }
  AppendArrayLevel(element, text, &pos, out);
}

}  // namespace

Kind KindOfOid(uint32_t oid) {
  switch (oid) {
    case 16:
      return Kind::kBool;
    case 20:
    case 21:
    case 23:
    case 26:
      return Kind::kInt;
    case 700:
    case 701:
      return Kind::kFloat;
    case 1700:
    case 790:
      return Kind::kNumeric;
    case 17:
      return Kind::kBytea;
    case 114:
    case 3802:
      return Kind::kJson;
    case 1082:
      return Kind::kDate;
    case 1114:
      return Kind::kTimestamp;
    case 1184:
      return Kind::kTimestampTz;
    case 1083:
      return Kind::kTime;
    case 1266:
      return Kind::kTimeTz;
    case 1186:
      return Kind::kInterval;
    case 2950:
      return Kind::kUuid;
    default:
      return Kind::kText;
  }
}

std::string ColumnSchema(const ColumnType& type, bool nullable, std::string_view description) {
  std::string out = "{";
  auto types = [&](std::string_view t) {
    if (nullable) {
      StrAppend(&out, "\"type\":[\"", t, "\",\"null\"]");
    } else {
      StrAppend(&out, "\"type\":\"", t, "\"");
    }
  };
  switch (type.kind) {
    case Kind::kBool:
      types("boolean");
      break;
    case Kind::kInt:
      types("integer");
      break;
    case Kind::kFloat:
      out += nullable ? R"("type":["number","string","null"])" : R"("type":["number","string"])";
      out += R"(,"format":"number")";
      break;
    case Kind::kNumeric:
      types("string");
      out += type.name == "money" ? "" : R"(,"format":"number")";
      break;
    case Kind::kBytea:
      types("string");
      out += R"(,"contentEncoding":"base64")";
      break;
    case Kind::kJson:
      out += R"("contentMediaType":"application/json")";
      break;
    case Kind::kDate:
      types("string");
      out += R"(,"format":"date")";
      break;
    case Kind::kTimestamp:
    case Kind::kTimestampTz:
      types("string");
      out += R"(,"format":"date-time")";
      break;
    case Kind::kTime:
    case Kind::kTimeTz:
      types("string");
      out += R"(,"format":"time")";
      break;
    case Kind::kUuid:
      types("string");
      out += R"(,"format":"uuid")";
      break;
    case Kind::kArray:
      types("array");
      break;
    case Kind::kInterval:
    case Kind::kText:
      types("string");
      break;
  }
  out += ",\"description\":";
  Quoted(description, &out);
  out += '}';
  return out;
}

void AppendScalar(Kind kind, std::string_view text, std::string* out) {
  switch (kind) {
    case Kind::kBool:
      *out += (text == "t" || text == "true") ? "true" : "false";
      return;
    case Kind::kInt:
      out->append(text);
      return;
    case Kind::kFloat:
      if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        Quoted(text, out);
      } else {
        out->append(text);
      }
      return;
    case Kind::kBytea:
      AppendBytea(text, out);
      return;
    case Kind::kJson:
      out->append(text);
      return;
    case Kind::kDate:
      AppendDate(text, out);
      return;
    case Kind::kTimestamp:
      AppendTimestamp(text, false, out);
      return;
    case Kind::kTimestampTz:
      AppendTimestamp(text, true, out);
      return;
    case Kind::kTime:
      if (text.substr(0, 2) == "24") {
        Quoted("23:59:59.999999Z", out);
      } else {
        Quoted(StrCat(text, "Z"), out);
      }
      return;
    case Kind::kTimeTz: {
      auto [time, offset] = SplitOffset(text);
      std::string s(time.substr(0, 2) == "24" ? std::string_view("23:59:59.999999") : time);
      AppendOffset(offset, &s);
      Quoted(s, out);
      return;
    }
    case Kind::kArray:  // Arrays of arrays do not exist; treat as text.
    case Kind::kNumeric:
    case Kind::kText:
    case Kind::kInterval:
    case Kind::kUuid:
      Quoted(text, out);
      return;
  }
}

void AppendValue(const ColumnType& type, std::string_view text, std::string* out) {
  if (type.kind == Kind::kArray) {
    AppendArray(type.element, text, out);
  } else {
    AppendScalar(type.kind, text, out);
  }
}

void AppendKeyElement(Kind kind, std::string_view text, std::string* out) {
  if (kind == Kind::kInt) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size()) {
      tuple::AppendInt(v, out);
      return;
    }
  } else if (kind == Kind::kBool) {
    tuple::AppendBool(text == "t", out);
    return;
  }
  tuple::AppendBytes(text, out);
}

bool BytewiseOrdered(const ColumnType& type) {
  switch (type.kind) {
    case Kind::kInt:
    case Kind::kBool:
    case Kind::kUuid:
      return true;
    case Kind::kText:
      return type.name == "text" || type.name == "varchar" || type.name == "name";
    default:
      return false;
  }
}

}  // namespace connectors::postgres
