#include "libs/filesource/document.h"

namespace connectors::filesource {
namespace {

bool Digits(std::string_view s, size_t at, size_t n, int* value) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

}  // namespace

bool NormalizeDateTime(std::string_view s, std::string_view default_offset, std::string* out) {
  // Fixed layout up to the seconds: YYYY-MM-DD?HH:MM:SS (19 bytes).
  if (s.size() < 19 || s.size() > 64) return false;
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  size_t at = 19;
  std::string_view fraction;
  if (at < s.size() && s[at] == '.') {
    size_t end = at + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    if (end == at + 1) return false;
    fraction = s.substr(at, end - at);
    at = end;
  }
  std::string_view offset;
  if (at == s.size()) {
    offset = default_offset;
  } else if ((s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
    offset = "Z";
  } else if ((s[at] == '+' || s[at] == '-') && at + 6 == s.size()) {
    int oh, om;
    if (!Digits(s, at + 1, 2, &oh) || s[at + 3] != ':' || !Digits(s, at + 4, 2, &om) || oh > 23 ||
        om > 59) {
      return false;
    }
    offset = s.substr(at);
  } else {
    return false;
  }
  if (offset == "+00:00" && at == s.size()) offset = "Z";
  out->assign(s.substr(0, 10));
  out->push_back('T');
  out->append(s.substr(11, 8));
  out->append(fraction);
  out->append(offset);
  return true;
}

json::Writer& DocumentBuilder::Begin() {
  buffer_.clear();
  writer_ = json::Writer(&buffer_);
  writer_.BeginObject();
  return writer_;
}

void DocumentBuilder::String(std::string_view value) {
  if (value.size() >= 19 && NormalizeDateTime(value, default_offset_, &scratch_)) {
    writer_.String(scratch_);
  } else {
    writer_.String(value);
  }
}

void DocumentBuilder::Value(const simdjson::dom::element& value) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::OBJECT:
      writer_.BeginObject();
      for (auto field : simdjson::dom::object(value)) {
        writer_.Key(std::string_view(field.key));
        Value(field.value);
      }
      writer_.EndObject();
      break;
    case element_type::ARRAY:
      writer_.BeginArray();
      for (auto item : simdjson::dom::array(value)) Value(item);
      writer_.EndArray();
      break;
    case element_type::STRING:
      String(std::string_view(value));
      break;
    case element_type::INT64:
      writer_.Int(int64_t(value));
      break;
    case element_type::UINT64:
      writer_.Uint(uint64_t(value));
      break;
    case element_type::DOUBLE:
      writer_.Double(double(value));
      break;
    case element_type::BOOL:
      writer_.Bool(bool(value));
      break;
    case element_type::NULL_VALUE:
      writer_.Null();
      break;
  }
}

void DocumentBuilder::RecordMembers(const simdjson::dom::object& object) {
  for (auto field : object) {
    if (std::string_view(field.key) == "_meta") continue;
    writer_.Key(std::string_view(field.key));
    Value(field.value);
  }
}

absl::Status DocumentBuilder::Finish(RecordSink& sink) {
  writer_.Key("_meta").BeginObject();
  writer_.Key("file").String(identity_.file);
  writer_.Key("offset").Uint(next_offset_);
  if (!identity_.etag.empty()) writer_.Key("etag").String(identity_.etag);
  if (!identity_.last_modified.empty()) writer_.Key("lastModified").String(identity_.last_modified);
  if (!sheet_.empty()) writer_.Key("sheet").String(sheet_);
  writer_.EndObject().EndObject();
  const uint64_t offset = next_offset_++;
  return sink.Record(offset, buffer_);
}

}  // namespace connectors::filesource
