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
  // Shortest text that parses back to the same double. NaN and infinities have no JSON form
  // and are written as null.
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

}  // namespace connectors::json
