#include "libs/filesource/json_records.h"

#include <cstring>

#include "libs/base/strings.h"
#include "libs/json/parse.h"

namespace connectors::filesource {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Splits the text into records with a small state machine (nesting depth, strings, escapes),
// copying only the bytes of the record in progress.
class Splitter {
 public:
  Splitter(DocumentBuilder& docs, RecordSink& sink) : docs_(docs), sink_(sink) {}

  absl::Status Feed(std::string_view chunk) {
    const char* p = chunk.data();
    const char* end = p + chunk.size();
    while (p < end) {
      if (depth_ > record_depth_) {
        // Inside a record: copy runs of bytes that cannot change the state in bulk.
        if (in_string_ && !escaped_) {
          const char* stop = p;
          while (stop < end && *stop != '"' && *stop != '\\' && *stop != '\n') ++stop;
          record_.append(p, stop);
          bytes_ += stop - p;
          p = stop;
          if (p == end) break;
        } else if (!in_string_ && !escaped_) {
          // Numbers, literals, separators and whitespace cannot change the state.
          const char* stop = p;
          while (stop < end && *stop != '"' && *stop != '{' && *stop != '}' && *stop != '[' &&
                 *stop != ']' && *stop != '\n') {
            ++stop;
          }
          record_.append(p, stop);
          bytes_ += stop - p;
          p = stop;
          if (p == end) break;
        }
        const char c = *p++;
        ++bytes_;
        if (c == '\n') ++line_;
        record_.push_back(c);
        if (record_.size() > kMaxJsonRecordBytes) {
          return Error(StrCat("the record is larger than ", kMaxJsonRecordBytes, " bytes"));
        }
        if (escaped_) {
          escaped_ = false;
        } else if (in_string_) {
          if (c == '\\') escaped_ = true;
          if (c == '"') in_string_ = false;
        } else if (c == '"') {
          in_string_ = true;
        } else if (c == '{' || c == '[') {
          ++depth_;
        } else if (c == '}' || c == ']') {
          if (--depth_ == record_depth_) {
            if (auto s = Emit(); !s.ok()) return s;
          }
        }
        continue;
      }
      // Between records: at the top level, or between elements of a top-level array.
      const char c = *p++;
      const uint64_t at = bytes_++;
      if (c == '\n') ++line_;
      if (IsSpace(c)) continue;
      if (record_depth_ == 1) {
        if (c == ',' && after_element_) {
          after_element_ = false;
          continue;
        }
        if (c == ']' && (after_element_ || elements_ == 0)) {
          record_depth_ = 0;
          depth_ = 0;
          continue;
        }
        if (after_element_) return ErrorAt(at, "expected ',' or ']' after an array element");
      }
      if (c == '[' && record_depth_ == 0) {
        record_depth_ = 1;
        depth_ = 1;
        elements_ = 0;
        after_element_ = false;
        continue;
      }
      if (c != '{') {
        return ErrorAt(at, record_depth_ == 1
                               ? "an element of a top-level array is not an object"
                               : "a top-level value is not an object or an array of objects");
      }
      record_.assign(1, c);
      record_line_ = line_;
      record_byte_ = at;
      ++depth_;
    }
    return absl::OkStatus();
  }

  absl::Status Finish() {
    if (depth_ > record_depth_) {
      return Error("the file ends inside a record (truncated or malformed JSON)");
    }
    if (record_depth_ == 1) {
      return ErrorAt(bytes_, "the file ends inside a top-level array");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Emit() {
    auto value = parser_.Parse(record_);
    if (!value.ok()) return Error(MessageOf(value.status()));
    simdjson::dom::object object;
    if (value->get(object) != simdjson::SUCCESS) return Error("the record is not an object");
    docs_.Begin();
    docs_.RecordMembers(object);
    if (record_depth_ == 1) {
      ++elements_;
      after_element_ = true;
    }
    record_.clear();
    return docs_.Finish(sink_);
  }

  absl::Status Error(std::string_view what) {
    return absl::InvalidArgumentError(StrCat("JSON file ", docs_.file(), ", record at line ",
                                             record_line_, " (byte ", record_byte_, "): ", what));
  }
  absl::Status ErrorAt(uint64_t byte, std::string_view what) {
    return absl::InvalidArgumentError(
        StrCat("JSON file ", docs_.file(), ", line ", line_, " (byte ", byte, "): ", what));
  }

  DocumentBuilder& docs_;
  RecordSink& sink_;
  json::Parser parser_;
  std::string record_;
  int depth_ = 0;         // Current nesting depth, counting an open top-level array.
  int record_depth_ = 0;  // 1 while unrolling a top-level array.
  bool in_string_ = false, escaped_ = false, after_element_ = false;
  uint64_t elements_ = 0;
  uint64_t line_ = 1, bytes_ = 0, record_line_ = 1, record_byte_ = 0;
};

}  // namespace

absl::Status ParseJsonRecords(ByteSource& text, DocumentBuilder& docs, RecordSink& sink) {
  Splitter splitter(docs, sink);
  while (true) {
    auto chunk = text.Next();
    if (!chunk.ok()) {
      return absl::Status(chunk.status().code(),
                          StrCat("JSON file ", docs.file(), ": ", MessageOf(chunk.status())));
    }
    if (chunk->empty()) break;
    if (auto s = splitter.Feed(*chunk); !s.ok()) return s;
  }
  return splitter.Finish();
}

}  // namespace connectors::filesource
