#include "libs/filesource/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>

#include "libs/base/strings.h"

namespace connectors::filesource {
namespace {

constexpr size_t kSniffBytes = 64 * 1024;
constexpr size_t kErrorWindow = 1000;
// Below this many rows the threshold is judged against this many, so one early bad row does
// not fail a file whose threshold allows some; the end of the file judges the real count.
constexpr size_t kMinimumSample = 100;

bool IsNullText(std::string_view v) {
  return v.empty() || v == "NULL" || v == "null" || v == "nil";
}

}  // namespace

bool CsvTokenizer::IsTerminator(char c) const {
  switch (dialect_.line_ending) {
    case LineEnding::kAny:
      return c == '\n' || c == '\r';
    case LineEnding::kCr:
      return c == '\r';
    case LineEnding::kLf:
      return c == '\n';
    case LineEnding::kRecordSeparator:
      return c == '\x1e';
  }
  return false;
}

void CsvTokenizer::EndField() {
  offsets_.emplace_back(field_begin_, text_.size());
  field_begin_ = text_.size();
  state_ = State::kFieldStart;
}

absl::Status CsvTokenizer::EndRow(const RowFn& on_row) {
  row_.fields.clear();
  for (const auto& [begin, end] : offsets_) {
    row_.fields.emplace_back(text_.data() + begin, end - begin);
  }
  row_.line = row_line_;
  row_.byte_offset = row_byte_;
  row_.error = std::move(row_error_);
  row_error_.clear();
  absl::Status status = on_row(row_);
  text_.clear();
  offsets_.clear();
  field_begin_ = 0;
  row_started_ = false;
  state_ = State::kFieldStart;
  return status;
}

absl::Status CsvTokenizer::Feed(std::string_view chunk, const RowFn& on_row) {
  const char delimiter = dialect_.delimiter;
  const int quote = dialect_.quote ? (unsigned char)*dialect_.quote : -1;
  const int escape = dialect_.escape ? (unsigned char)*dialect_.escape : -1;
  for (size_t i = 0; i < chunk.size(); ++i) {
    // Fast path: copy a run of ordinary bytes inside a field in one go.
    if ((state_ == State::kUnquoted || state_ == State::kQuoted) && !skip_lf_) {
      size_t end = i;
      if (state_ == State::kUnquoted) {
        while (end < chunk.size() && chunk[end] != delimiter && chunk[end] != '\n' &&
               chunk[end] != '\r' && chunk[end] != '\x1e') {
          ++end;
        }
      } else {
        while (end < chunk.size() && (unsigned char)chunk[end] != quote &&
               (unsigned char)chunk[end] != escape && chunk[end] != '\n') {
          ++end;
        }
      }
      if (end > i) {
        text_.append(chunk.data() + i, end - i);
        byte_ += end - i;
        i = end;
        if (i == chunk.size()) break;
      }
    }
    const char c = chunk[i];
    const uint64_t at = byte_++;
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (!row_started_) {
      if (IsTerminator(c)) {  // A blank line.
        if (c == '\r' && dialect_.line_ending == LineEnding::kAny) skip_lf_ = true;
        ++line_;
        continue;
      }
      row_started_ = true;
      row_line_ = line_;
      row_byte_ = at;
    }
    switch (state_) {
      case State::kFieldStart:
        if ((unsigned char)c == quote) {
          state_ = State::kQuoted;
          break;
        }
        [[fallthrough]];
      case State::kUnquoted:
      case State::kAfterQuoted:
        if (c == delimiter) {
          EndField();
        } else if (IsTerminator(c)) {
          if (c == '\r' && dialect_.line_ending == LineEnding::kAny) skip_lf_ = true;
          ++line_;
          EndField();
          if (auto s = EndRow(on_row); !s.ok()) return s;
        } else {
          if (state_ == State::kFieldStart) state_ = State::kUnquoted;
          text_.push_back(c);
        }
        break;
      case State::kQuoted:
        if ((unsigned char)c == escape && escape != quote) {
          state_ = State::kEscaped;
        } else if ((unsigned char)c == quote) {
          state_ = State::kQuoteInQuoted;
        } else {
          if (c == '\n') ++line_;
          text_.push_back(c);
        }
        break;
      case State::kEscaped:
        text_.push_back(c);
        state_ = State::kQuoted;
        break;
      case State::kQuoteInQuoted:
        if ((unsigned char)c == quote) {
          text_.push_back(c);
          state_ = State::kQuoted;
        } else if (c == delimiter) {
          EndField();
        } else if (IsTerminator(c)) {
          if (c == '\r' && dialect_.line_ending == LineEnding::kAny) skip_lf_ = true;
          ++line_;
          EndField();
          if (auto s = EndRow(on_row); !s.ok()) return s;
        } else {
          if (row_error_.empty()) {
            row_error_ = StrCat("unexpected character after a closing quote in column ",
                                offsets_.size() + 1);
          }
          text_.push_back(c);
          state_ = State::kAfterQuoted;
        }
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status CsvTokenizer::Finish(const RowFn& on_row) {
  if (!row_started_) return absl::OkStatus();
  if (state_ == State::kQuoted || state_ == State::kEscaped) {
    row_error_ = "a quoted field is not closed before the end of the file";
  }
  EndField();
  return EndRow(on_row);
}

namespace {

struct DialectScore {
  size_t rows = 0;
  double mean = 0, stddev = 0;
};

DialectScore Score(std::string_view sample, const CsvDialect& dialect, size_t header_columns,
                   bool truncated) {
  std::vector<size_t> scores;
  size_t header = header_columns;
  CsvTokenizer tokenizer(dialect);
  auto on_row = [&](const CsvRow& row) {
    if (header == 0) header = row.fields.size();
    scores.push_back(row.fields.size() > header ? 0 : row.fields.size() - 1);
    return absl::OkStatus();
  };
  tokenizer.Feed(sample, on_row).IgnoreError();
  // A sample cut off mid-row would score its last, partial row.
  if (!truncated) tokenizer.Finish(on_row).IgnoreError();
  DialectScore out;
  if (scores.empty()) return out;
  double sum = 0;
  for (size_t s : scores) {
    if (s > 0) ++out.rows;
    sum += double(s);
  }
  out.mean = sum / double(scores.size());
  double var = 0;
  for (size_t s : scores) var += (double(s) - out.mean) * (double(s) - out.mean);
  out.stddev = std::sqrt(var / double(scores.size()));
  return out;
}

// True when `a` explains the sample better than `b` (ties keep the earlier candidate).
bool Better(const DialectScore& a, const DialectScore& b) {
  if (a.rows != b.rows) return a.rows > b.rows;
  if (a.mean == 0 || b.mean == 0) return a.mean > b.mean;
  return a.stddev / a.mean < b.stddev / b.mean;
}

}  // namespace

CsvDialect SniffDialect(std::string_view sample, const CsvDialect& base,
                        std::optional<char> delimiter, std::optional<char> quote,
                        size_t header_columns) {
  const bool truncated = sample.size() >= kSniffBytes;
  std::vector<char> delimiters = {',', '|', '\t', ';'};
  if (delimiter) delimiters = {*delimiter};
  std::vector<std::optional<char>> quotes = {'"', '\'', std::nullopt};
  if (quote) quotes = {*quote};
  CsvDialect best = base;
  DialectScore best_score;
  bool first = true;
  for (const auto& q : quotes) {
    for (char d : delimiters) {
      CsvDialect candidate = base;
      candidate.delimiter = d;
      candidate.quote = q;
      DialectScore score = Score(sample, candidate, header_columns, truncated);
      if (first || Better(score, best_score)) {
        best = candidate;
        best_score = score;
        first = false;
      }
    }
  }
  return best;
}

namespace {

class CsvRecords {
 public:
  CsvRecords(const CsvOptions& options, DocumentBuilder& docs, RecordSink& sink,
             const std::function<void(std::string_view)>& warn)
      : options_(options), docs_(docs), sink_(sink), warn_(warn) {
    if (!options.headers.empty()) SetHeaders(options.headers);
  }

  absl::Status Row(const CsvRow& row) {
    if (!have_headers_) {
      if (!row.error.empty()) return Fail(row, row.error);
      std::vector<std::string> names(row.fields.begin(), row.fields.end());
      SetHeaders(names);
      return absl::OkStatus();
    }
    std::string error = row.error;
    if (error.empty() && row.fields.size() > headers_.size()) {
      error = StrCat("the row has ", row.fields.size(), " columns but the header has ",
                     headers_.size());
    }
    window_.push_back(!error.empty());
    errors_ += error.empty() ? 0 : 1;
    if (window_.size() > kErrorWindow) {
      errors_ -= window_.front() ? 1 : 0;
      window_.pop_front();
    }
    if (!error.empty()) {
      const int threshold = options_.error_threshold_percent;
      const size_t sample = std::max(window_.size(), kMinimumSample);
      if (threshold <= 0 || errors_ * 100 >= size_t(threshold) * sample) {
        return Fail(row, error);
      }
      warn_(StrCat("skipping malformed CSV row at line ", row.line, " (byte ", row.byte_offset,
                   ") of ", docs_.file(), ": ", error));
      return absl::OkStatus();
    }
    return Write(row);
  }

  // Judges the final error rate against the rows actually seen.
  absl::Status Finish() {
    const int threshold = options_.error_threshold_percent;
    if (threshold > 0 && errors_ > 0 && errors_ * 100 >= size_t(threshold) * window_.size()) {
      return absl::InvalidArgumentError(
          StrCat("CSV file ", docs_.file(), ": ", errors_, " of its last ", window_.size(),
                 " rows are malformed, reaching the error threshold of ", threshold, "%"));
    }
    return absl::OkStatus();
  }

 private:
  void SetHeaders(const std::vector<std::string>& names) {
    headers_ = names;
    have_headers_ = true;
    types_.assign(names.size(), "");
    emit_.assign(names.size(), true);
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t j = i + 1; j < names.size(); ++j) {
        if (names[j] == names[i]) emit_[i] = false;  // The later column wins.
      }
      auto type = options_.column_types.find(names[i]);
      if (type != options_.column_types.end()) types_[i] = type->second;
    }
  }

  absl::Status Fail(const CsvRow& row, std::string_view error) {
    std::string rate;
    if (options_.error_threshold_percent > 0) {
      rate =
          StrCat(" (", errors_, " malformed of the last ", window_.size(),
                 " rows reaches the error threshold of ", options_.error_threshold_percent, "%)");
    }
    return absl::InvalidArgumentError(StrCat("CSV file ", docs_.file(), ", line ", row.line,
                                             " (byte ", row.byte_offset, "): ", error, rate));
  }

  void Typed(std::string_view value, const std::string& type, json::Writer& w) {
    if (type == "integer") {
      int64_t v;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && end == value.data() + value.size()) {
        w.Int(v);
        return;
      }
    } else if (type == "number") {
      double v;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && end == value.data() + value.size() && std::isfinite(v)) {
        int64_t i;
        auto [iend, iec] = std::from_chars(value.data(), value.data() + value.size(), i);
        if (iec == std::errc() && iend == value.data() + value.size()) {
          w.Int(i);
        } else {
          w.Double(v);
        }
        return;
      }
    } else if (type == "boolean") {
      if (value == "true" || value == "TRUE" || value == "True") {
        w.Bool(true);
        return;
      }
      if (value == "false" || value == "FALSE" || value == "False") {
        w.Bool(false);
        return;
      }
    }
    docs_.String(value);
  }

  absl::Status Write(const CsvRow& row) {
    json::Writer& w = docs_.Begin();
    for (size_t i = 0; i < row.fields.size(); ++i) {
      if (!emit_[i]) continue;
      w.Key(headers_[i]);
      const std::string_view value = row.fields[i];
      if (IsNullText(value)) {
        w.Null();
      } else if (!types_[i].empty()) {
        Typed(value, types_[i], w);
      } else {
        docs_.String(value);
      }
    }
    return docs_.Finish(sink_);
  }

  const CsvOptions& options_;
  DocumentBuilder& docs_;
  RecordSink& sink_;
  const std::function<void(std::string_view)>& warn_;
  std::vector<std::string> headers_;
  std::vector<std::string> types_;
  std::vector<bool> emit_;
  bool have_headers_ = false;
  std::deque<bool> window_;
  size_t errors_ = 0;
};

}  // namespace

absl::Status ParseCsv(ByteSource& text, const CsvOptions& options, DocumentBuilder& docs,
                      RecordSink& sink, const std::function<void(std::string_view)>& warn) {
  PeekableSource input(&text);
  CsvDialect dialect;
  dialect.escape = options.escape;
  dialect.line_ending = options.line_ending;
  if (options.delimiter) dialect.delimiter = *options.delimiter;
  if (options.quote) dialect.quote = *options.quote;
  if (!options.delimiter || !options.quote) {
    auto sample = input.Peek(kSniffBytes);
    if (!sample.ok()) return sample.status();
    std::optional<char> quote;
    const bool quote_fixed = options.quote.has_value();
    if (quote_fixed) quote = options.quote->value_or('\0');
    dialect = SniffDialect(*sample, dialect, options.delimiter, quote, options.headers.size());
    if (quote_fixed) dialect.quote = *options.quote;
  }
  CsvTokenizer tokenizer(dialect);
  CsvRecords records(options, docs, sink, warn);
  auto on_row = [&](const CsvRow& row) { return records.Row(row); };
  while (true) {
    auto chunk = input.Next();
    if (!chunk.ok()) {
      return absl::Status(chunk.status().code(),
                          StrCat("CSV file ", docs.file(), ": ", MessageOf(chunk.status())));
    }
    if (chunk->empty()) break;
    if (auto s = tokenizer.Feed(*chunk, on_row); !s.ok()) return s;
  }
  if (auto s = tokenizer.Finish(on_row); !s.ok()) return s;
  return records.Finish();
}

absl::Status ParseW3c(ByteSource& text, DocumentBuilder& docs, RecordSink& sink) {
  std::vector<std::string> fields;
  std::string line;
  uint64_t line_number = 0, byte = 0, line_byte = 0;
  auto handle = [&]() -> absl::Status {
    ++line_number;
    std::string_view l = line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) return absl::OkStatus();
    if (l.front() == '#') {
      if (l.rfind("#Fields:", 0) == 0) {
        fields.clear();
        std::string_view rest = l.substr(8);
        size_t at = 0;
        while (at < rest.size()) {
          const size_t start = rest.find_first_not_of(" \t", at);
          if (start == std::string_view::npos) break;
          const size_t end = std::min(rest.find_first_of(" \t", start), rest.size());
          fields.emplace_back(rest.substr(start, end - start));
          at = end;
        }
      }
      return absl::OkStatus();
    }
    if (fields.empty()) {
      return absl::InvalidArgumentError(
          StrCat("W3C log ", docs.file(), ", line ", line_number, " (byte ", line_byte,
                 "): a data line comes before any #Fields directive"));
    }
    const char separator = l.find('\t') != std::string_view::npos ? '\t' : ' ';
    std::vector<std::string_view> values;
    for (size_t at = 0; at <= l.size();) {
      size_t end = l.find(separator, at);
      if (end == std::string_view::npos) end = l.size();
      if (!(separator == ' ' && end == at)) values.push_back(l.substr(at, end - at));
      at = end + 1;
    }
    if (values.size() > fields.size()) {
      return absl::InvalidArgumentError(StrCat("W3C log ", docs.file(), ", line ", line_number,
                                               " (byte ", line_byte, "): ", values.size(),
                                               " values but #Fields names ", fields.size()));
    }
    json::Writer& w = docs.Begin();
    for (size_t i = 0; i < values.size(); ++i) {
      w.Key(fields[i]);
      if (values[i] == "-") {
        w.Null();
      } else {
        docs.String(values[i]);
      }
    }
    return docs.Finish(sink);
  };
  while (true) {
    auto chunk = text.Next();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    for (char c : *chunk) {
      ++byte;
      if (c == '\n') {
        if (auto s = handle(); !s.ok()) return s;
        line.clear();
        line_byte = byte;
      } else {
        line.push_back(c);
      }
    }
  }
  if (!line.empty()) return handle();
  return absl::OkStatus();
}

}  // namespace connectors::filesource
