#include "libs/filesource/parse.h"

#include <memory>

#include "libs/base/strings.h"
#include "libs/filesource/avro.h"
#include "libs/filesource/decompress.h"
#include "libs/filesource/encoding.h"
#include "libs/filesource/json_records.h"
#include "libs/filesource/xlsx.h"

namespace connectors::filesource {
namespace {

constexpr size_t kMagicBytes = 32;
constexpr size_t kEncodingPeek = 64 * 1024;

absl::Status Annotate(const absl::Status& status, std::string_view where) {
  if (status.ok()) return status;
  const std::string_view message = MessageOf(status);
  // Parser errors already name the file; decoder errors get it here.
  if (message.find(where) != std::string_view::npos) return status;
  return absl::Status(status.code(), StrCat(where, ": ", message));
}

// Parses decompressed bytes whose format is `format` (kAuto: sniffed).
absl::Status ParseText(ByteSource& bytes, Format format, const ParserConfig& config,
                       DocumentBuilder& docs, RecordSink& sink, const ParseHooks& hooks) {
  PeekableSource input(&bytes);
  auto prefix = input.Peek(kEncodingPeek);
  if (!prefix.ok()) return prefix.status();
  if (format == Format::kAuto) format = SniffFormat(*prefix);
  switch (format) {
    case Format::kCsv:
    case Format::kJson:
    case Format::kW3c:
      break;
    case Format::kExcel:
      return ParseXlsx(input, docs, sink);
    case Format::kAvro:
      return ParseAvro(input, docs, sink);
    case Format::kParquet:
    case Format::kXml:
    case Format::kOds:
    case Format::kAuto:
      return absl::UnimplementedError(StrCat(
          "the ", FormatName(format),
          " format is not supported yet; convert the file to CSV or JSON, or set parser.format"));
  }
  Encoding encoding = config.encoding.value_or(DetectEncoding(*prefix));
  // JSON is UTF-8 (or UTF-16 with a byte order mark): never guess a legacy encoding for it, so
  // invalid UTF-8 is reported rather than transcoded.
  if (format == Format::kJson && !config.encoding && encoding == Encoding::kWindows1252) {
    encoding = Encoding::kUtf8;
  }
  std::unique_ptr<ByteSource> text = Utf8Source(&input, encoding);
  switch (format) {
    case Format::kCsv:
      return ParseCsv(*text, config.csv, docs, sink, hooks.warn);
    case Format::kJson:
      return ParseJsonRecords(*text, docs, sink);
    default:
      return ParseW3c(*text, docs, sink);
  }
}

}  // namespace

absl::Status ParseFile(ByteSource& raw, const ParserConfig& config, const FileInfo& file,
                       DocumentBuilder& docs, RecordSink& sink, const ParseHooks& hooks) {
  PeekableSource input(&raw);
  auto magic = input.Peek(kMagicBytes);
  if (!magic.ok()) return Annotate(magic.status(), docs.file());
  const Compression compression =
      ResolveCompression(config, file.path, file.content_encoding, file.content_type, *magic);
  const Format format = ResolveFormat(config, file.path, file.content_type);
  if (compression == Compression::kZip) {
    ZipStream zip(&input);
    while (true) {
      auto more = zip.NextEntry();
      if (!more.ok()) return Annotate(more.status(), docs.file());
      if (!*more) return absl::OkStatus();
      // An entry's own name decides its format unless the config fixes one.
      ParserConfig entry_config = config;
      Format entry_format = ResolveFormat(config, zip.entry_name(), "");
      if (entry_format == Format::kAuto && format != Format::kAuto) entry_format = format;
      absl::Status status = ParseText(zip.entry(), entry_format, entry_config, docs, sink, hooks);
      if (!status.ok()) {
        return Annotate(status, StrCat(docs.file(), " (zip entry ", zip.entry_name(), ")"));
      }
    }
  }
  std::unique_ptr<ByteSource> decompressed;
  ByteSource* bytes = &input;
  if (compression == Compression::kGzip) {
    decompressed = GzipSource(&input);
    bytes = decompressed.get();
  } else if (compression == Compression::kZstd) {
    decompressed = ZstdSource(&input);
    bytes = decompressed.get();
  }
  return Annotate(ParseText(*bytes, format, config, docs, sink, hooks), docs.file());
}

}  // namespace connectors::filesource
