// Builders of compressed test inputs (gzip members, zstd frames, zip archives) for the
// filesource tests and fuzz corpora.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace connectors::filesource::testing {

// One gzip member holding `data`.
std::string Gzip(std::string_view data);
// One zstd frame holding `data`.
std::string Zstd(std::string_view data);

struct ZipEntry {
  std::string name;
  std::string data;
  bool deflate = true;
  // Sizes and CRC written in a trailing data descriptor instead of the local header (as
  // streaming zip writers do); deflated entries only.
  bool descriptor = false;
};
// A zip archive with a central directory.
std::string Zip(const std::vector<ZipEntry>& entries);

// An Avro object container file written by Avro C with block codec `codec` ("null",
// "deflate"): `records` records of {id: long, name: [null, string], kind: enum A/B,
// raw: bytes "hi!", score: double (NaN for record 1), tags: [string]}.
std::string AvroFile(const char* codec, int records);

}  // namespace connectors::filesource::testing
