// Streaming CSV: a tokenizer fed chunk by chunk (quotes, escapes and line endings may straddle
// chunks), dialect sniffing over a file's first bytes, and the record parser that turns rows
// into documents with an error threshold for malformed rows.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "libs/filesource/byte_source.h"
#include "libs/filesource/document.h"

namespace connectors::filesource {

enum class LineEnding { kAny, kCr, kLf, kRecordSeparator };

struct CsvDialect {
  char delimiter = ',';
  std::optional<char> quote = '"';  // nullopt: quoting disabled.
  std::optional<char> escape;       // nullopt: only doubled quotes inside quoted fields.
  LineEnding line_ending = LineEnding::kAny;
};

// One tokenized row. Fields are views into the tokenizer's buffer, valid during the callback.
struct CsvRow {
  std::vector<std::string_view> fields;
  uint64_t line = 0;         // 1-based line where the row starts.
  uint64_t byte_offset = 0;  // Byte offset (in the decoded UTF-8 text) where the row starts.
  std::string error;         // Set for a malformed row (the fields are then unreliable).
};

class CsvTokenizer {
 public:
  using RowFn = std::function<absl::Status(const CsvRow&)>;
  explicit CsvTokenizer(CsvDialect dialect) : dialect_(dialect) {}
  // Tokenizes `chunk`, calling `on_row` for every row it completes. Blank lines are skipped.
  absl::Status Feed(std::string_view chunk, const RowFn& on_row);
  // Ends the input: completes a last row without a line ending, or reports an open quote.
  absl::Status Finish(const RowFn& on_row);

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kEscaped, kAfterQuoted };
  absl::Status EndRow(const RowFn& on_row);
  void EndField();
  bool IsTerminator(char c) const;

  CsvDialect dialect_;
  State state_ = State::kFieldStart;
  std::string text_;                                // Field bytes of the current row.
  std::vector<std::pair<size_t, size_t>> offsets_;  // (begin, end) into text_.
  size_t field_begin_ = 0;
  std::string row_error_;
  bool skip_lf_ = false;
  bool row_started_ = false;
  uint64_t line_ = 1, byte_ = 0;
  uint64_t row_line_ = 1, row_byte_ = 0;
  CsvRow row_;
};

// Picks the delimiter and quote that best explain `sample` (a file's first bytes): candidates
// are {", ', none} x {',', '|', tab, ';'} narrowed by whatever is configured; each is scored by
// how many rows it splits into more than one field and how consistent the field counts are.
CsvDialect SniffDialect(std::string_view sample, const CsvDialect& base,
                        std::optional<char> delimiter, std::optional<char> quote,
                        size_t header_columns);

struct CsvOptions {
  std::optional<char> delimiter;  // nullopt: sniffed.
  // Outer nullopt: sniffed; inner nullopt: quoting disabled.
  std::optional<std::optional<char>> quote;
  std::optional<char> escape;
  LineEnding line_ending = LineEnding::kAny;
  std::vector<std::string> headers;  // Non-empty: authoritative, the first row is data.
  int error_threshold_percent = 0;   // 0: the first malformed row fails the file.
  // Column name -> JSON type ("integer", "number", "boolean") from the collection's schema;
  // values of these columns that parse as the type are written typed.
  std::map<std::string, std::string, std::less<>> column_types;
};

// Reads UTF-8 CSV text from `text` and writes one document per data row. Values "", NULL, null
// and nil become null; a row shorter than the header omits the missing columns; a row longer
// than the header, an unterminated quote or junk after a closing quote is malformed. Malformed
// rows fail the parse when the percentage of malformed rows among the last 1000 rows reaches
// `error_threshold_percent` (0: at the first), and are otherwise logged through `warn` and
// dropped. Errors name the file, line and byte offset.
absl::Status ParseCsv(ByteSource& text, const CsvOptions& options, DocumentBuilder& docs,
                      RecordSink& sink, const std::function<void(std::string_view)>& warn);

// W3C extended log format (IIS, CloudFront): `#Fields:` names the columns, other `#` lines are
// directives, fields are separated by tabs (or spaces when a line has no tab), `-` is null.
absl::Status ParseW3c(ByteSource& text, DocumentBuilder& docs, RecordSink& sink);

}  // namespace connectors::filesource
