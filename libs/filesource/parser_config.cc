#include "libs/filesource/parser_config.h"

#include <algorithm>
#include <cctype>

#include "libs/base/strings.h"

namespace connectors::filesource {
namespace {

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// Dot-separated segments of `path` from last to first, ignoring its first character (so a
// hidden file's leading dot is not a separator).
std::vector<std::string> SegmentsLastFirst(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  std::string_view rest = path.substr(1);
  const size_t query = rest.find_first_of("?#");
  if (query != std::string_view::npos) rest = rest.substr(0, query);
  while (true) {
    const size_t dot = rest.rfind('.');
    if (dot == std::string_view::npos) break;
    out.push_back(Lower(rest.substr(dot + 1)));
    rest = rest.substr(0, dot);
  }
  return out;
}

std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  return Lower(t);
}

absl::StatusOr<std::optional<char>> OneChar(const simdjson::dom::object& config, const char* key,
                                            std::vector<std::string_view> allowed) {
  simdjson::dom::element value;
  if (config[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS ||
      std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    return absl::InvalidArgumentError(
        StrCat("parser.format.config.", key, ": unsupported value; see the field's options"));
  }
  if (text.empty()) return std::optional<char>('\0');
  return std::optional<char>(text[0]);
}

absl::Status ParseCsvConfig(const simdjson::dom::object& config, ParserConfig* out) {
  CsvOptions& csv = out->csv;
  auto delimiter =
      OneChar(config, "delimiter", {",", "|", " ", ";", "\t", "~", "\x0b", "\x1f", "\x01"});
  if (!delimiter.ok()) return delimiter.status();
  csv.delimiter = *delimiter;
  auto quote = OneChar(config, "quote", {"\"", "'", ""});
  if (!quote.ok()) return quote.status();
  if (*quote) {
    csv.quote = **quote == '\0' ? std::optional<char>() : std::optional<char>(**quote);
  }
  auto escape = OneChar(config, "escape", {"\\", ""});
  if (!escape.ok()) return escape.status();
  if (*escape && **escape != '\0') csv.escape = **escape;
  std::string_view line_ending;
  if (config["lineEnding"].get(line_ending) == simdjson::SUCCESS) {
    if (line_ending == "\r\n") {
      csv.line_ending = LineEnding::kAny;
    } else if (line_ending == "\r") {
      csv.line_ending = LineEnding::kCr;
    } else if (line_ending == "\n") {
      csv.line_ending = LineEnding::kLf;
    } else if (line_ending == "\x1e") {
      csv.line_ending = LineEnding::kRecordSeparator;
    } else {
      return absl::InvalidArgumentError(
          "parser.format.config.lineEnding: use \"\\r\\n\" (any), \"\\r\", \"\\n\" or \"\\u001e\"");
    }
  }
  std::string_view encoding;
  if (config["encoding"].get(encoding) == simdjson::SUCCESS) {
    auto parsed = EncodingFromLabel(encoding);
    if (!parsed.ok()) return parsed.status();
    out->encoding = *parsed;
  }
  int64_t threshold;
  if (config["errorThreshold"].get(threshold) == simdjson::SUCCESS) {
    if (threshold < 0 || threshold > 100) {
      return absl::InvalidArgumentError(
          "parser.format.config.errorThreshold: a percentage from 0 to 100");
    }
    csv.error_threshold_percent = int(threshold);
  }
  simdjson::dom::array headers;
  if (config["headers"].get(headers) == simdjson::SUCCESS) {
    for (auto item : headers) {
      std::string_view name;
      if (item.get(name) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("parser.format.config.headers: a list of strings");
      }
      csv.headers.emplace_back(name);
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kAuto:
      return "auto";
    case Format::kCsv:
      return "csv";
    case Format::kJson:
      return "json";
    case Format::kW3c:
      return "w3cExtendedLog";
    case Format::kAvro:
      return "avro";
    case Format::kExcel:
      return "excel";
    case Format::kParquet:
      return "parquet";
    case Format::kXml:
      return "xml";
    case Format::kOds:
      return "ods";
  }
  return "?";
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kAuto:
      return "auto";
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZip:
      return "zip";
    case Compression::kZstd:
      return "zstd";
  }
  return "?";
}

absl::StatusOr<ParserConfig> ParseParserConfig(const simdjson::dom::element& parser) {
  ParserConfig out;
  simdjson::dom::object object;
  if (parser.is_null() || parser.get(object) != simdjson::SUCCESS) return out;
  simdjson::dom::object format;
  if (object["format"].get(format) == simdjson::SUCCESS) {
    std::string_view type = "auto";
    if (format["type"].get(type) != simdjson::SUCCESS) type = "auto";
    if (type == "auto") {
      out.format = Format::kAuto;
    } else if (type == "csv") {
      out.format = Format::kCsv;
    } else if (type == "json" || type == "jsonl") {
      out.format = Format::kJson;
    } else if (type == "w3cExtendedLog") {
      out.format = Format::kW3c;
    } else if (type == "avro") {
      out.format = Format::kAvro;
    } else if (type == "excel") {
      out.format = Format::kExcel;
    } else if (type == "parquet") {
      out.format = Format::kParquet;
    } else {
      return absl::InvalidArgumentError(
          StrCat("parser.format.type: unknown format \"", type, "\""));
    }
    simdjson::dom::object csv;
    if (format["config"].get(csv) == simdjson::SUCCESS) {
      if (auto s = ParseCsvConfig(csv, &out); !s.ok()) return s;
    }
  }
  std::string_view compression;
  if (object["compression"].get(compression) == simdjson::SUCCESS) {
    if (compression == "auto") {
      out.compression = Compression::kAuto;
    } else if (compression == "none") {
      out.compression = Compression::kNone;
    } else if (compression == "gzip") {
      out.compression = Compression::kGzip;
    } else if (compression == "zip") {
      out.compression = Compression::kZip;
    } else if (compression == "zstd") {
      out.compression = Compression::kZstd;
    } else {
      return absl::InvalidArgumentError(
          StrCat("parser.compression: unknown compression \"", compression, "\""));
    }
  }
  std::string_view offset;
  if (object["defaultOffset"].get(offset) == simdjson::SUCCESS) {
    std::string scratch;
    if (!NormalizeDateTime(StrCat("2000-01-01T00:00:00", offset), "Z", &scratch)) {
      return absl::InvalidArgumentError("parser.defaultOffset: use the form +HH:MM or -HH:MM");
    }
    out.default_offset = std::string(offset);
  }
  return out;
}

Format ResolveFormat(const ParserConfig& config, std::string_view path,
                     std::string_view content_type) {
  if (config.format != Format::kAuto) return config.format;
  for (const std::string& segment : SegmentsLastFirst(path)) {
    if (segment == "json" || segment == "jsonl" || segment == "ndjson") return Format::kJson;
    if (segment == "csv" || segment == "tsv") return Format::kCsv;
    if (segment == "avro") return Format::kAvro;
    if (segment == "parquet") return Format::kParquet;
    if (segment == "xls" || segment == "xlsx" || segment == "xlsm") return Format::kExcel;
    if (segment == "xml") return Format::kXml;
    if (segment == "ods") return Format::kOds;
    if (segment == "log") return Format::kAuto;  // W3C or not: look at the content.
  }
  const std::string type = MediaType(content_type);
  if (type == "application/json" || type == "text/json" || type == "application/x-ndjson" ||
      type == "application/jsonl") {
    return Format::kJson;
  }
  if (type == "text/csv" || type == "text/tab-separated-values") return Format::kCsv;
  if (type == "application/vnd.apache.parquet") return Format::kParquet;
  if (type == "application/avro" || type == "avro/binary") return Format::kAvro;
  if (type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
    return Format::kExcel;
  }
  return Format::kAuto;
}

Format SniffFormat(std::string_view p) {
  if (p.substr(0, 4) == std::string_view("Obj\x01", 4)) return Format::kAvro;
  if (p.substr(0, 4) == "PK\x03\x04") return Format::kExcel;
  if (p.substr(0, 4) == "PAR1") return Format::kParquet;
  if (p.substr(0, 3) == "\xEF\xBB\xBF") p.remove_prefix(3);
  // UTF-16 text: look at the ASCII bytes only.
  std::string ascii;
  for (char c : p.substr(0, 512)) {
    if (c != '\0') ascii.push_back(c);
  }
  std::string_view t = ascii;
  if (t.substr(0, 2) == "\xFF\xFE" || t.substr(0, 2) == "\xFE\xFF") t.remove_prefix(2);
  const size_t first = t.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Format::kCsv;
  t.remove_prefix(first);
  if (t[0] == '{' || t[0] == '[') return Format::kJson;
  if (t.rfind("#Version:", 0) == 0 || t.rfind("#Fields:", 0) == 0 ||
      t.rfind("#Software:", 0) == 0) {
    return Format::kW3c;
  }
  return Format::kCsv;
}

Compression ResolveCompression(const ParserConfig& config, std::string_view path,
                               std::string_view content_encoding, std::string_view content_type,
                               std::string_view prefix) {
  if (config.compression != Compression::kAuto) return config.compression;
  for (const std::string& segment : SegmentsLastFirst(path)) {
    if (segment == "gz" || segment == "gzip") return Compression::kGzip;
    if (segment == "zip") return Compression::kZip;
    if (segment == "zst" || segment == "zstd") return Compression::kZstd;
    if (segment == "xlsx" || segment == "xlsm") return Compression::kNone;  // Zip inside.
  }
  if (Lower(content_encoding) == "gzip") return Compression::kGzip;
  const std::string type = MediaType(content_type);
  if (type == "application/gzip" || type == "application/x-gzip") return Compression::kGzip;
  if (type == "application/zip") return Compression::kZip;
  if (type == "application/zstd") return Compression::kZstd;
  if (prefix.substr(0, 2) == "\x1f\x8b") return Compression::kGzip;
  if (prefix.substr(0, 4) == "PK\x03\x04") return Compression::kZip;
  if (prefix.substr(0, 4) == "\x28\xb5\x2f\xfd") return Compression::kZstd;
  return Compression::kNone;
}

}  // namespace connectors::filesource
