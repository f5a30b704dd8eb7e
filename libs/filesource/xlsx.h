// Excel workbooks (.xlsx / .xlsm): every worksheet, in archive order, one document per row
// after the sheet's first row, whose cells name the columns. Read from the zip stream with
// expat: the shared-string table is held in memory (the format needs it), worksheets are
// parsed as they stream, and only a worksheet stored before the shared strings is spooled to
// an anonymous temp file until they arrive.
#pragma once

#include "absl/status/status.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/document.h"

namespace connectors::filesource {

// Cells: shared and inline strings as strings, booleans, numbers (integers when integral),
// error values as their text; empty cells are omitted. Dates are stored as serial numbers in
// xlsx and stay numbers. `_meta/sheet` names the worksheet.
absl::Status ParseXlsx(ByteSource& archive, DocumentBuilder& docs, RecordSink& sink);

}  // namespace connectors::filesource
