#include "libs/filesource/testing/archives.h"

#include <avro.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace connectors::filesource::testing {
namespace {

std::string Deflate(std::string_view data, int window_bits) {
  z_stream z;
  std::memset(&z, 0, sizeof(z));
  deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

void Put16(std::string* out, uint32_t v) {
  out->push_back(char(v & 0xFF));
  out->push_back(char((v >> 8) & 0xFF));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

// Test inputs are built by trusted code: a failure is a bug in the test itself.
void Check(int rc) {
  if (rc != 0) {
    std::fprintf(stderr, "avro: %s\n", avro_strerror());
    std::abort();
  }
}

}  // namespace

std::string Gzip(std::string_view data) { return Deflate(data, 15 + 16); }

std::string Zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

std::string Zip(const std::vector<ZipEntry>& entries) {
  std::string out, central;
  for (const ZipEntry& entry : entries) {
    const uint32_t crc =
        crc32(0, reinterpret_cast<const Bytef*>(entry.data.data()), entry.data.size());
    const std::string body = entry.deflate ? Deflate(entry.data, -15) : entry.data;
    const uint32_t offset = out.size();
    const bool descriptor = entry.descriptor && entry.deflate;
    const uint16_t flags = descriptor ? 8 : 0;
    Put32(&out, 0x04034b50);
    Put16(&out, 20);
    Put16(&out, flags);
    Put16(&out, entry.deflate ? 8 : 0);
    Put32(&out, 0);  // Time and date.
    Put32(&out, descriptor ? 0 : crc);
    Put32(&out, descriptor ? 0 : body.size());
    Put32(&out, descriptor ? 0 : entry.data.size());
    Put16(&out, entry.name.size());
    Put16(&out, 0);
    out += entry.name;
    out += body;
    if (descriptor) {
      Put32(&out, 0x08074b50);
      Put32(&out, crc);
      Put32(&out, body.size());
      Put32(&out, entry.data.size());
    }
    Put32(&central, 0x02014b50);
    Put16(&central, 20);
    Put16(&central, 20);
    Put16(&central, flags);
    Put16(&central, entry.deflate ? 8 : 0);
    Put32(&central, 0);
    Put32(&central, crc);
    Put32(&central, body.size());
    Put32(&central, entry.data.size());
    Put16(&central, entry.name.size());
    Put32(&central, 0);  // Extra and comment lengths.
    Put32(&central, 0);  // Disk number and internal attributes.
    Put32(&central, 0);  // External attributes.
    Put32(&central, offset);
    central += entry.name;
  }
  const uint32_t central_at = out.size();
  out += central;
  Put32(&out, 0x06054b50);
  Put32(&out, 0);
  Put16(&out, entries.size());
  Put16(&out, entries.size());
  Put32(&out, central.size());
  Put32(&out, central_at);
  Put16(&out, 0);
  return out;
}

std::string AvroFile(const char* codec, int records) {
  const char* schema_json =
      R"({"type":"record","name":"R","fields":[{"name":"id","type":"long"},)"
      R"({"name":"name","type":["null","string"]},{"name":"kind","type":{"type":"enum",)"
      R"("name":"K","symbols":["A","B"]}},{"name":"raw","type":"bytes"},)"
      R"({"name":"score","type":"double"},{"name":"tags","type":{"type":"array","items":"string"}}]})";
  avro_schema_t schema;
  Check(avro_schema_from_json_length(schema_json, std::strlen(schema_json), &schema));
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/avro-" + std::to_string(::getpid()) +
                           "-" + codec + ".avro";
  ::unlink(path.c_str());
  avro_file_writer_t writer;
  Check(avro_file_writer_create_with_codec(path.c_str(), schema, &writer, codec, 0));
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t record, field, branch;
  avro_generic_value_new(iface, &record);
  for (int i = 0; i < records; ++i) {
    avro_value_get_by_name(&record, "id", &field, nullptr);
    avro_value_set_long(&field, i);
    avro_value_get_by_name(&record, "name", &field, nullptr);
    if (i % 2 == 0) {
      avro_value_set_branch(&field, 1, &branch);
      avro_value_set_string(&branch, "2024-01-02 03:04:05");
    } else {
      avro_value_set_branch(&field, 0, &branch);
      avro_value_set_null(&branch);
    }
    avro_value_get_by_name(&record, "kind", &field, nullptr);
    avro_value_set_enum(&field, i % 2);
    avro_value_get_by_name(&record, "raw", &field, nullptr);
    avro_value_set_bytes(&field, const_cast<char*>("hi!"), 3);
    avro_value_get_by_name(&record, "score", &field, nullptr);
    avro_value_set_double(&field, i == 1 ? NAN : 1.5);
    avro_value_get_by_name(&record, "tags", &field, nullptr);
    avro_value_reset(&field);
    avro_value_t item;
    avro_value_append(&field, &item, nullptr);
    avro_value_set_string(&item, "t");
    Check(avro_file_writer_append_value(writer, &record));
  }
  avro_file_writer_close(writer);
  avro_value_decref(&record);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  ::unlink(path.c_str());
  return bytes.str();
}

}  // namespace connectors::filesource::testing
