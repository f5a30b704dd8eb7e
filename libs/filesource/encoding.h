// Text encodings of file contents. Everything downstream of this layer is UTF-8: input in
// UTF-16 (LE/BE) or a single-byte Latin encoding is transcoded, and UTF-8 input is validated, so
// an invalid sequence is reported with its byte offset instead of reaching a document.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "libs/filesource/byte_source.h"

namespace connectors::filesource {

enum class Encoding { kUtf8, kUtf16Le, kUtf16Be, kWindows1252 };

std::string_view EncodingName(Encoding encoding);

// A configured encoding label (WHATWG-style, case-insensitive: "utf-8", "utf8", "utf-16le",
// "utf-16be", "latin1", "iso-8859-1", "windows-1252", ...). Unknown labels are an error.
absl::StatusOr<Encoding> EncodingFromLabel(std::string_view label);

// Guesses from the first bytes of a file: a byte order mark wins; then NUL bytes in alternating
// positions mean BOM-less UTF-16; then a prefix that is valid UTF-8 (ASCII included) means UTF-8;
// anything else is taken as windows-1252 (Latin-1 and its superset).
Encoding DetectEncoding(std::string_view prefix);

// UTF-8 bytes of `input` in `encoding`, without a byte order mark. Invalid input (bad UTF-8,
// an unpaired UTF-16 surrogate, an odd trailing byte) is an InvalidArgument error naming the
// byte offset in the input.
std::unique_ptr<ByteSource> Utf8Source(ByteSource* input, Encoding encoding);

}  // namespace connectors::filesource
