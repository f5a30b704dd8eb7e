// Parsing one file: resolve compression, unpack (gzip / zstd / each zip entry), detect the text
// encoding, resolve the format and run its streaming record parser. This is what every
// file-like source calls once it has a file's byte stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/document.h"
#include "libs/filesource/parser_config.h"

namespace connectors::filesource {

struct FileInfo {
  std::string path;  // Used for format/compression resolution and error messages.
  std::string content_type;
  std::string content_encoding;
};

struct ParseHooks {
  // Row-level problems tolerated by the error threshold.
  std::function<void(std::string_view)> warn = [](std::string_view) {};
};

// Parses `raw` (the file's bytes as stored) into documents. Record offsets continue across the
// entries of a zip archive. Errors name the file (and entry), and where possible the line and
// byte offset.
absl::Status ParseFile(ByteSource& raw, const ParserConfig& config, const FileInfo& file,
                       DocumentBuilder& docs, RecordSink& sink, const ParseHooks& hooks = {});

}  // namespace connectors::filesource
