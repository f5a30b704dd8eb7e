// Streaming JSON text writer: appends compact JSON to a caller-owned string and never builds a
// DOM. Commas are placed automatically; the caller is responsible for balanced Begin/End calls
// and for writing a Key before each value inside an object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace connectors::json {

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(std::string_view key);

  Writer& String(std::string_view value);
  Writer& Int(int64_t value);
  Writer& Uint(uint64_t value);
  // Shortest digits that parse back to the same double, always recognisable as a float (1.0
  // is "1.0", never "1") so that re-parsing keeps the number's type. Layout matches serde_json
  // (Rust's ryu), which produces the JSON bytes Flow packs into tuples: "1e16", "0.0001",
  // "1e-7", "1.5e300". NaN and infinities have no JSON form and are written as null.
  Writer& Double(double value);
  Writer& Bool(bool value);
  Writer& Null();
  // Inserts an already-encoded JSON value verbatim (e.g. a document captured from a source).
  Writer& Raw(std::string_view json_value);

  std::string* out() { return out_; }

 private:
  void BeforeValue();

  std::string* out_;
  // One entry per open container: whether a value has been written into it yet.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

// Appends `value` as a quoted JSON string, escaping quotes, backslashes and control
// characters. Bytes >= 0x80 pass through unchanged (UTF-8 stays UTF-8).
void AppendQuoted(std::string_view value, std::string* out);

// Appends a finite double formatted as Writer::Double does.
void AppendDouble(double value, std::string* out);

}  // namespace connectors::json
