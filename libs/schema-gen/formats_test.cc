// The `format` checkers, exercised through the public Validator.
#include <gtest/gtest.h>

#include <string>

#include "libs/schema-gen/validator.h"

namespace connectors::schema {
namespace {

bool Valid(std::string_view format, std::string_view value) {
  absl::StatusOr<Validator> validator =
      Validator::Compile(std::string(R"({"format":")") + std::string(format) + "\"}");
  EXPECT_TRUE(validator.ok());
  return validator->Validate("\"" + std::string(value) + "\"").empty();
}

TEST(FormatTest, DateTime) {
  for (std::string_view good :
       {"2024-01-31T09:30:00Z", "2024-01-31t09:30:00z", "2024-01-31T09:30:00.123456+05:30",
        "2024-02-29T00:00:00-00:00", "1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00"}) {
    EXPECT_TRUE(Valid("date-time", good)) << good;
  }
  for (std::string_view bad :
       {"2024-01-31", "2024-01-31 09:30:00Z", "2024-01-31T09:30:00", "2024-01-31T09:30Z",
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z",
        "2024-01-31T24:00:00Z", "2024-01-31T09:60:00Z", "2024-01-31T09:30:00.Z",
        "2024-01-31T09:30:00+0530", "2024-01-31T09:30:00+24:00", "2024-01-31T12:00:60Z",
        "24-01-31T09:30:00Z", "2024-01-31T09:30:00Z ", "１９９０-12-31T23:59:59Z"}) {
    EXPECT_FALSE(Valid("date-time", bad)) << bad;
  }
}

TEST(FormatTest, DateAndTime) {
  EXPECT_TRUE(Valid("date", "2000-02-29"));
  EXPECT_FALSE(Valid("date", "1900-02-29"));
  EXPECT_FALSE(Valid("date", "2000-2-29"));
  EXPECT_TRUE(Valid("time", "09:30:00Z"));
  EXPECT_TRUE(Valid("time", "09:30:00.5+01:00"));
  EXPECT_FALSE(Valid("time", "09:30:00"));
  EXPECT_FALSE(Valid("time", "9:30:00Z"));
}

TEST(FormatTest, Uri) {
  for (std::string_view good :
       {"https://example.com/path?q=1#f", "postgres://u@h:5432/db", "mailto:someone@example.com",
        "urn:isbn:0451450523", "s3://bucket/key%20name"}) {
    EXPECT_TRUE(Valid("uri", good)) << good;
  }
  for (std::string_view bad : {"example.com/path", "/relative", "https://exa mple.com", "1http://x",
                               "http:", "http://x/%zz", "http://x/{y}"}) {
    EXPECT_FALSE(Valid("uri", bad)) << bad;
  }
}

TEST(FormatTest, Email) {
  for (std::string_view good : {"someone@example.com", "first.last+tag@sub.example.org",
                                "user@localhost", "user@[192.0.2.1]"}) {
    EXPECT_TRUE(Valid("email", good)) << good;
  }
  for (std::string_view bad :
       {"example.com", "@example.com", "user@", "us er@example.com", ".user@example.com",
        "a..b@example.com", "user@-bad.com", "user@example..com", "a@b@example.com"}) {
    EXPECT_FALSE(Valid("email", bad)) << bad;
  }
}

TEST(FormatTest, Duration) {
  for (std::string_view good : {"P1Y2M3DT4H5M6S", "PT30S", "P2W", "P1D", "PT1H30M", "P1Y1D"}) {
    EXPECT_TRUE(Valid("duration", good)) << good;
  }
  for (std::string_view bad :
       {"P", "PT", "P1DT", "1D", "P1H", "PT1D", "P1W2D", "P1D1Y", "P1.5D", "p1d", "P1Y1Y", "30s"}) {
    EXPECT_FALSE(Valid("duration", bad)) << bad;
  }
}

}  // namespace
}  // namespace connectors::schema
