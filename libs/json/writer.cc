#include "libs/json/writer.h"

#include <charconv>
#include <cmath>

namespace connectors::json {

void AppendQuoted(std::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(value.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escaped, sizeof(escaped));
      }
    }
  }
  out->append(value.data() + run_start, value.size() - run_start);
  out->push_back('"');
}

void Writer::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_value_.empty()) {
    if (has_value_.back()) out_->push_back(',');
    has_value_.back() = true;
  }
}

Writer& Writer::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  has_value_.push_back(false);
  return *this;
}

Writer& Writer::EndObject() {
  out_->push_back('}');
  has_value_.pop_back();
  return *this;
}

Writer& Writer::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  has_value_.push_back(false);
  return *this;
}

Writer& Writer::EndArray() {
  out_->push_back(']');
  has_value_.pop_back();
  return *this;
}

Writer& Writer::Key(std::string_view key) {
  BeforeValue();
  AppendQuoted(key, out_);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

Writer& Writer::String(std::string_view value) {
  BeforeValue();
  AppendQuoted(value, out_);
  return *this;
}

Writer& Writer::Int(int64_t value) {
  BeforeValue();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_->append(buf, end);
  return *this;
}

Writer& Writer::Uint(uint64_t value) {
  BeforeValue();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_->append(buf, end);
  return *this;
}

void AppendDouble(double value, std::string* out) {
  // std::to_chars gives the shortest round-trip digits; scientific form makes them easy to pick
  // apart: [-]d[.ddd]e(+|-)xx.
  char sci[32];
  const char* const sci_end =
      std::to_chars(sci, sci + sizeof(sci), value, std::chars_format::scientific).ptr;
  const char* p = sci;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  char digits[24];
  int num_digits = 0;
  for (; p != sci_end && *p != 'e'; ++p) {
    if (*p != '.') digits[num_digits++] = *p;
  }
  int exponent = 0;
  std::from_chars(p + 1 + (p[1] == '+'), sci_end, exponent);
  // The decimal point sits `point` digits from the start: 10^(point-1) <= |value| < 10^point.
  const int point = exponent + 1;
  if (num_digits <= point && point <= 16) {
    // 1234e7 -> 12340000000.0
    out->append(digits, num_digits);
    out->append(point - num_digits, '0');
    out->append(".0");
  } else if (0 < point && point <= 16) {
    // 1234e-2 -> 12.34
    out->append(digits, point);
    out->push_back('.');
    out->append(digits + point, num_digits - point);
  } else if (-5 < point && point <= 0) {
    // 1234e-6 -> 0.001234
    out->append("0.");
    out->append(-point, '0');
    out->append(digits, num_digits);
  } else {
    // 1e30, 1.234e-33
    out->push_back(digits[0]);
    if (num_digits > 1) {
      out->push_back('.');
      out->append(digits + 1, num_digits - 1);
    }
    out->push_back('e');
    char exp_buf[8];
    out->append(exp_buf, std::to_chars(exp_buf, exp_buf + sizeof(exp_buf), point - 1).ptr);
  }
}

Writer& Writer::Double(double value) {
  if (!std::isfinite(value)) return Null();
  BeforeValue();
  AppendDouble(value, out_);
  return *this;
}

Writer& Writer::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
  return *this;
}

Writer& Writer::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

Writer& Writer::Raw(std::string_view json_value) {
  BeforeValue();
  out_->append(json_value);
  return *this;
}

}  // namespace connectors::json
