#include "libs/schema-gen/formats.h"

#include <cctype>
#include <string>

namespace connectors::schema::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsSpaceOrControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7F;
}

// Consumes a string left to right; every method returns false without consuming on mismatch.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }

  // Exactly `count` digits, parsed into `value`.
  bool Digits(int count, int* value) {
    if (text_.size() - pos_ < static_cast<size_t>(count)) return false;
    int result = 0;
    for (int i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (!IsDigit(c)) return false;
      result = result * 10 + (c - '0');
    }
    pos_ += count;
    *value = result;
    return true;
  }

  // One or more digits; returns how many were consumed.
  size_t DigitRun() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    return pos_ - start;
  }

  bool Char(char c) { return CharIn(std::string_view(&c, 1)); }

  // Case-insensitive single letter, as RFC 3339 allows for "T" and "Z".
  bool Letter(char upper) { return Char(upper) || Char(static_cast<char>(std::tolower(upper))); }

  bool CharIn(std::string_view choices) {
    if (AtEnd() || choices.find(text_[pos_]) == std::string_view::npos) return false;
    ++pos_;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool ScanFullDate(Scanner& s) {
  int year, month, day;
  if (!s.Digits(4, &year) || !s.Char('-') || !s.Digits(2, &month) || !s.Char('-') ||
      !s.Digits(2, &day)) {
    return false;
  }
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// Minutes east of UTC, from "Z" or "+hh:mm"/"-hh:mm".
bool ScanOffset(Scanner& s, int* offset_minutes) {
  if (s.Letter('Z')) {
    *offset_minutes = 0;
    return true;
  }
  const bool negative = s.Char('-');
  if (!negative && !s.Char('+')) return false;
  int hours, minutes;
  if (!s.Digits(2, &hours) || !s.Char(':') || !s.Digits(2, &minutes)) return false;
  if (hours > 23 || minutes > 59) return false;
  *offset_minutes = (negative ? -1 : 1) * (hours * 60 + minutes);
  return true;
}

// A leap second (:60) is only possible at 23:59 UTC, so the offset is taken into account.
bool ScanFullTime(Scanner& s) {
  int hour, minute, second, offset;
  if (!s.Digits(2, &hour) || !s.Char(':') || !s.Digits(2, &minute) || !s.Char(':') ||
      !s.Digits(2, &second)) {
    return false;
  }
  if (s.Char('.') && s.DigitRun() == 0) return false;
  if (!ScanOffset(s, &offset)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (second < 60) return true;
  const int utc_minute = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
  return utc_minute == 23 * 60 + 59;
}

bool IsDateTime(std::string_view value) {
  Scanner s(value);
  return ScanFullDate(s) && s.Letter('T') && ScanFullTime(s) && s.AtEnd();
}

bool IsDate(std::string_view value) {
  Scanner s(value);
  return ScanFullDate(s) && s.AtEnd();
}

bool IsTime(std::string_view value) {
  Scanner s(value);
  return ScanFullTime(s) && s.AtEnd();
}

// Components "<digits><designator>" with designators drawn from `designators` in order, each
// at most once; the designators found are appended to `seen`.
bool ScanDurationFields(Scanner& s, std::string_view designators, std::string* seen) {
  while (s.DigitRun() > 0) {
    size_t i = 0;
    while (i < designators.size() && !s.Char(designators[i])) ++i;
    if (i == designators.size()) return false;
    seen->push_back(designators[i]);
    designators.remove_prefix(i + 1);
  }
  return true;
}

bool IsDuration(std::string_view value) {
  Scanner s(value);
  std::string date_fields, time_fields;
  if (!s.Char('P') || !ScanDurationFields(s, "YMWD", &date_fields)) return false;
  if (s.Char('T') && (!ScanDurationFields(s, "HMS", &time_fields) || time_fields.empty())) {
    return false;
  }
  const size_t fields = date_fields.size() + time_fields.size();
  // Weeks do not combine with other fields.
  if (date_fields.find('W') != std::string::npos && fields > 1) return false;
  return s.AtEnd() && fields > 0;
}

bool HasValidPercentEscapes(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 2 >= text.size() || !IsHex(text[i + 1]) || !IsHex(text[i + 2])) return false;
  }
  return true;
}

bool IsUri(std::string_view value) {
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(value[0])) return false;
  for (char c : value.substr(0, colon)) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  const std::string_view rest = value.substr(colon + 1);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (IsSpaceOrControl(c) || std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return HasValidPercentEscapes(rest);
}

bool IsHostnameLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (char c : label) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

bool IsEmailDomain(std::string_view domain) {
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') return true;
  if (domain.empty() || domain.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = domain.find('.', start);
    if (!IsHostnameLabel(domain.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsEmailLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  for (char c : local) {
    if (IsSpaceOrControl(c)) return false;
  }
  const bool quoted = local.size() >= 2 && local.front() == '"' && local.back() == '"';
  if (quoted) return true;
  return local.front() != '.' && local.back() != '.' &&
         local.find("..") == std::string_view::npos &&
         local.find_first_of("@\"(),:;<>[\\]") == std::string_view::npos;
}

bool IsEmail(std::string_view value) {
  const size_t at = value.rfind('@');
  if (at == std::string_view::npos) return false;
  return IsEmailLocalPart(value.substr(0, at)) && IsEmailDomain(value.substr(at + 1));
}

}  // namespace

Format ParseFormat(std::string_view name) {
  if (name == "date-time") return Format::kDateTime;
  if (name == "date") return Format::kDate;
  if (name == "time") return Format::kTime;
  if (name == "uri") return Format::kUri;
  if (name == "email") return Format::kEmail;
  if (name == "duration") return Format::kDuration;
  return Format::kUnknown;
}

bool MatchesFormat(Format format, std::string_view value) {
  switch (format) {
    case Format::kDateTime:
      return IsDateTime(value);
    case Format::kDate:
      return IsDate(value);
    case Format::kTime:
      return IsTime(value);
    case Format::kUri:
      return IsUri(value);
    case Format::kEmail:
      return IsEmail(value);
    case Format::kDuration:
      return IsDuration(value);
    case Format::kUnknown:
      return true;
  }
  return true;
}

std::string_view FormatExpectation(Format format) {
  switch (format) {
    case Format::kDateTime:
      return "an RFC 3339 date-time such as 2024-01-31T09:30:00Z";
    case Format::kDate:
      return "an RFC 3339 date such as 2024-01-31";
    case Format::kTime:
      return "an RFC 3339 time such as 09:30:00Z";
    case Format::kUri:
      return "an absolute URI such as https://example.com/path";
    case Format::kEmail:
      return "an email address such as someone@example.com";
    case Format::kDuration:
      return "an ISO 8601 duration such as P1DT12H";
    case Format::kUnknown:
      return "a valid value";
  }
  return "a valid value";
}

}  // namespace connectors::schema::internal
