// Building the documents a file capture emits: one JSON object per record, string values that
// look like timestamps normalised to RFC 3339, and `_meta` decoration identifying the file, the
// record's offset in it and the version of the file's content.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "libs/json/writer.h"

namespace connectors::filesource {

// If `text` is a date-time (`YYYY-MM-DD`, `T`/`t`/space, `HH:MM:SS`, optional fraction,
// optional `Z`/`z`/`±HH:MM`), writes its RFC 3339 form to `out` and returns true. A value
// without an offset gets `default_offset` ("+00:00" is written as "Z"). Impossible dates or
// times (month 13, hour 24) are left alone.
bool NormalizeDateTime(std::string_view text, std::string_view default_offset, std::string* out);

// What identifies the file every record of a parse came from.
struct FileIdentity {
  std::string file;           // _meta/file: the file's name as the store knows it.
  std::string etag;           // _meta/etag, when the store reports one.
  std::string last_modified;  // _meta/lastModified (RFC 3339), when known.
};

// Receives finished documents, in record order.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // `offset` is the record's 0-based index within the file; `doc` is complete JSON.
  virtual absl::Status Record(uint64_t offset, std::string_view doc) = 0;
};

// Builds one document at a time into a reused buffer:
//   json::Writer& w = builder.Begin(); ...members...; sink.Record(builder.Finish()).
class DocumentBuilder {
 public:
  DocumentBuilder(FileIdentity identity, std::string default_offset)
      : identity_(std::move(identity)), default_offset_(std::move(default_offset)) {}

  json::Writer& Begin();
  // A string member value, normalised if it is a date-time.
  void String(std::string_view value);
  // A parsed JSON value, with every nested string normalised. At the top level of a record, a
  // source's own `_meta` member is replaced by ours (call WriteRecordMembers for that).
  void Value(const simdjson::dom::element& value);
  // Every member of `object` except `_meta`.
  void RecordMembers(const simdjson::dom::object& object);
  // Adds `_meta` and closes the document; the next record gets the next offset.
  absl::Status Finish(RecordSink& sink);

  // `_meta/sheet` of the next documents (spreadsheets); empty: none.
  void set_sheet(std::string sheet) { sheet_ = std::move(sheet); }

  uint64_t next_offset() const { return next_offset_; }
  void set_next_offset(uint64_t offset) { next_offset_ = offset; }
  const std::string& file() const { return identity_.file; }

 private:
  FileIdentity identity_;
  std::string default_offset_;
  std::string buffer_;
  std::string scratch_;
  std::string sheet_;
  json::Writer writer_{&buffer_};
  uint64_t next_offset_ = 0;
};

}  // namespace connectors::filesource
