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

}  // namespace connectors::filesource::testing
