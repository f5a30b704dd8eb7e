// The parser part of a file capture's endpoint config (`parser`: format, compression, CSV
// options, default offset), its JSON schema, and how a file's format and compression are
// resolved from the config, its name, its HTTP headers and its first bytes.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/filesource/csv.h"
#include "libs/filesource/encoding.h"

namespace connectors::filesource {

enum class Format { kAuto, kCsv, kJson, kW3c, kAvro, kExcel, kParquet, kXml, kOds };
enum class Compression { kAuto, kNone, kGzip, kZip, kZstd };

std::string_view FormatName(Format format);
std::string_view CompressionName(Compression compression);

struct ParserConfig {
  Format format = Format::kAuto;
  Compression compression = Compression::kAuto;
  std::string default_offset = "+00:00";
  // CSV (format csv, or auto resolving to CSV). Unset members are detected.
  CsvOptions csv;
  std::optional<Encoding> encoding;
};

// The `parser` object of an endpoint config (absent or null: all defaults). Errors name the
// offending field, e.g. "parser.format.config.delimiter".
absl::StatusOr<ParserConfig> ParseParserConfig(const simdjson::dom::element& parser);

// The file's format: an explicit config wins; then the last recognised dot-separated segment of
// the path (`x.csv.gz` is CSV); then the Content-Type. kAuto means undecided (the content is
// sniffed, see SniffFormat).
Format ResolveFormat(const ParserConfig& config, std::string_view path,
                     std::string_view content_type);

// Guesses a format from decompressed leading bytes: `{`/`[` JSON, `#Fields`/`#Version` W3C, the
// Avro magic, a zip header for a spreadsheet, else CSV.
Format SniffFormat(std::string_view prefix);

// The file's compression: explicit config; path segments (gz, zip, zst); Content-Encoding gzip;
// Content-Type; magic bytes of `prefix`; else none.
Compression ResolveCompression(const ParserConfig& config, std::string_view path,
                               std::string_view content_encoding, std::string_view content_type,
                               std::string_view prefix);

}  // namespace connectors::filesource
