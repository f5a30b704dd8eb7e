// Internal: checkers for the string `format` values the validator asserts. Formats not listed
// here are annotations only (JSON Schema leaves asserting them optional).
#pragma once

#include <string_view>

namespace connectors::schema::internal {

enum class Format {
  kUnknown,   // Not asserted.
  kDateTime,  // RFC 3339 date-time: 2024-01-31T09:30:00.5+01:00 ("T" and "Z" in any case).
  kDate,      // RFC 3339 full-date.
  kTime,      // RFC 3339 full-time, offset required.
  kUri,       // Absolute URI: a scheme, ":", and no spaces, controls or bad %-escapes.
  kEmail,     // local@domain with a hostname or [literal] domain.
  kDuration,  // ISO 8601 duration with integer fields: P1Y2M3DT4H5M6S, PT30S, P2W.
};

Format ParseFormat(std::string_view name);

bool MatchesFormat(Format format, std::string_view value);

// What a valid value looks like, for messages: "an RFC 3339 date-time such as ...".
std::string_view FormatExpectation(Format format);

}  // namespace connectors::schema::internal
