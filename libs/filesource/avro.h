// Avro object container files (Avro C, libavro): read block by block from the byte stream
// through a stdio cookie, so memory is bounded by one block. The writer schema must be a
// record; each record becomes a document.
#pragma once

#include "absl/status/status.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/document.h"

namespace connectors::filesource {

// Values: null/boolean/int/long/string as JSON; float/double as numbers (NaN and infinities as
// strings); enums as their symbol; bytes and fixed as base64; unions as the chosen branch;
// records and maps as objects, arrays as arrays. (Avro C does not expose logical types: dates
// and timestamps arrive as their underlying int/long.)
absl::Status ParseAvro(ByteSource& input, DocumentBuilder& docs, RecordSink& sink);

}  // namespace connectors::filesource
