#include "libs/filesource/avro.h"

#include <avro.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "libs/base/strings.h"

namespace connectors::filesource {
namespace {

// A read-only FILE* over a ByteSource (glibc fopencookie), which is what Avro C reads.
struct Cookie {
  ByteSource* source;
  std::string_view pending;
  absl::Status error;
};

ssize_t CookieRead(void* c, char* buffer, size_t size) {
  auto* cookie = static_cast<Cookie*>(c);
  if (cookie->pending.empty()) {
    auto chunk = cookie->source->Next();
    if (!chunk.ok()) {
      cookie->error = chunk.status();
      return -1;
    }
    cookie->pending = *chunk;
  }
  const size_t n = std::min(size, cookie->pending.size());
  if (n == 0) return 0;
  std::memcpy(buffer, cookie->pending.data(), n);
  cookie->pending.remove_prefix(n);
  return ssize_t(n);
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                       uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

void Floating(double v, DocumentBuilder& docs, json::Writer& w) {
  if (std::isnan(v)) {
    w.String("NaN");
  } else if (std::isinf(v)) {
    w.String(v > 0 ? "Infinity" : "-Infinity");
  } else {
    w.Double(v);
  }
}

absl::Status Write(avro_value_t& value, DocumentBuilder& docs, json::Writer& w, int depth);

absl::Status Members(avro_value_t& value, DocumentBuilder& docs, json::Writer& w, int depth,
                     bool top) {
  size_t size = 0;
  avro_value_get_size(&value, &size);
  for (size_t i = 0; i < size; ++i) {
    avro_value_t child;
    const char* name = nullptr;
    if (avro_value_get_by_index(&value, i, &child, &name) != 0) {
      return absl::InvalidArgumentError(StrCat("avro: ", avro_strerror()));
    }
    if (top && std::string_view(name) == "_meta") continue;
    w.Key(name);
    if (auto s = Write(child, docs, w, depth + 1); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Write(avro_value_t& value, DocumentBuilder& docs, json::Writer& w, int depth) {
  if (depth > 256) return absl::InvalidArgumentError("avro: values nested deeper than 256");
  switch (avro_value_get_type(&value)) {
    case AVRO_NULL:
      w.Null();
      break;
    case AVRO_BOOLEAN: {
      int b = 0;
      avro_value_get_boolean(&value, &b);
      w.Bool(b != 0);
      break;
    }
    case AVRO_INT32: {
      int32_t i = 0;
      avro_value_get_int(&value, &i);
      w.Int(i);
      break;
    }
    case AVRO_INT64: {
      int64_t i = 0;
      avro_value_get_long(&value, &i);
      w.Int(i);
      break;
    }
    case AVRO_FLOAT: {
      float f = 0;
      avro_value_get_float(&value, &f);
      Floating(f, docs, w);
      break;
    }
    case AVRO_DOUBLE: {
      double d = 0;
      avro_value_get_double(&value, &d);
      Floating(d, docs, w);
      break;
    }
    case AVRO_STRING: {
      const char* s = nullptr;
      size_t size = 0;
      avro_value_get_string(&value, &s, &size);
      docs.String(std::string_view(s, size > 0 ? size - 1 : 0));  // Size counts the NUL.
      break;
    }
    case AVRO_BYTES: {
      const void* b = nullptr;
      size_t size = 0;
      avro_value_get_bytes(&value, &b, &size);
      w.String(Base64(std::string_view(static_cast<const char*>(b), size)));
      break;
    }
    case AVRO_FIXED: {
      const void* b = nullptr;
      size_t size = 0;
      avro_value_get_fixed(&value, &b, &size);
      w.String(Base64(std::string_view(static_cast<const char*>(b), size)));
      break;
    }
    case AVRO_ENUM: {
      int symbol = 0;
      avro_value_get_enum(&value, &symbol);
      const char* name = avro_schema_enum_get(avro_value_get_schema(&value), symbol);
      w.String(name != nullptr ? name : "");
      break;
    }
    case AVRO_UNION: {
      avro_value_t branch;
      avro_value_get_current_branch(&value, &branch);
      return Write(branch, docs, w, depth + 1);
    }
    case AVRO_ARRAY: {
      size_t size = 0;
      avro_value_get_size(&value, &size);
      w.BeginArray();
      for (size_t i = 0; i < size; ++i) {
        avro_value_t child;
        avro_value_get_by_index(&value, i, &child, nullptr);
        if (auto s = Write(child, docs, w, depth + 1); !s.ok()) return s;
      }
      w.EndArray();
      break;
    }
    case AVRO_RECORD:
    case AVRO_MAP:
      w.BeginObject();
      if (auto s = Members(value, docs, w, depth, false); !s.ok()) return s;
      w.EndObject();
      break;
    default:
      return absl::UnimplementedError("avro: unsupported value type");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseAvro(ByteSource& input, DocumentBuilder& docs, RecordSink& sink) {
  Cookie cookie{&input, {}, absl::OkStatus()};
  cookie_io_functions_t io{CookieRead, nullptr, nullptr, nullptr};
  FILE* file = fopencookie(&cookie, "r", io);
  if (file == nullptr) return absl::InternalError("avro: fopencookie failed");
  avro_file_reader_t reader;
  // The reader owns (and closes) the FILE from here on, even when opening fails.
  if (avro_file_reader_fp(file, docs.file().c_str(), 1, &reader) != 0) {
    if (!cookie.error.ok()) return cookie.error;
    return absl::InvalidArgumentError(StrCat(
        "Avro file ", docs.file(), ": not an Avro object container file (", avro_strerror(), ")"));
  }
  avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
  absl::Status status;
  if (!is_avro_record(schema)) {
    status = absl::InvalidArgumentError(
        StrCat("Avro file ", docs.file(), ": the writer schema is not a record"));
  }
  avro_value_iface_t* iface = status.ok() ? avro_generic_class_from_schema(schema) : nullptr;
  avro_value_t value;
  if (iface != nullptr) avro_generic_value_new(iface, &value);
  while (status.ok() && iface != nullptr) {
    const int rc = avro_file_reader_read_value(reader, &value);
    if (rc == EOF) break;
    if (rc != 0) {
      status = !cookie.error.ok()
                   ? cookie.error
                   : absl::InvalidArgumentError(StrCat("Avro file ", docs.file(), ", record ",
                                                       docs.next_offset(), ": ", avro_strerror()));
      break;
    }
    json::Writer& w = docs.Begin();
    status = Members(value, docs, w, 0, true);
    if (status.ok()) status = docs.Finish(sink);
  }
  if (iface != nullptr) {
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
  }
  avro_file_reader_close(reader);
  return status;
}

}  // namespace connectors::filesource
