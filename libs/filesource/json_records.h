// Streaming JSON records: a file holding any whitespace-separated sequence of JSON objects
// (JSON Lines, or pretty-printed objects one after another) and/or top-level arrays of objects.
// An array is unrolled element by element as its bytes arrive, so memory is bounded by the
// largest single record, never by the file.
#pragma once

#include "absl/status/status.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/document.h"

namespace connectors::filesource {

// Largest single record accepted (Flow's documents are at most 16 MB).
inline constexpr size_t kMaxJsonRecordBytes = 64 << 20;

// Writes one document per object. A scalar at the top level or inside a top-level array, a
// malformed record or one larger than kMaxJsonRecordBytes is an error naming the file, the
// line and the byte offset where the record starts.
absl::Status ParseJsonRecords(ByteSource& text, DocumentBuilder& docs, RecordSink& sink);

}  // namespace connectors::filesource
