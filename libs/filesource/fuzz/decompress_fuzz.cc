// gzip, zstd and streaming zip over arbitrary (mostly corrupt) bytes: errors are fine, crashes
// and unbounded output are not, and chunking must not change the bytes produced.
#include "libs/filesource/byte_source.h"
#include "libs/filesource/decompress.h"
#include "libs/filesource/fuzz/fuzz_util.h"

using namespace connectors::filesource;

namespace {

constexpr size_t kMaxOutput = 64 << 20;

absl::Status Drain(ByteSource& source, std::string* out) {
  while (true) {
    auto chunk = source.Next();
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) return absl::OkStatus();
    if (out->size() < kMaxOutput) out->append(*chunk);
  }
}

absl::Status Run(const std::string& payload, size_t chunk, int kind, std::string* out) {
  StringSource raw(payload, chunk);
  if (kind == 0) return Drain(*GzipSource(&raw), out);
  if (kind == 1) return Drain(*ZstdSource(&raw), out);
  ZipStream zip(&raw);
  while (true) {
    auto more = zip.NextEntry();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    out->append(zip.entry_name()).push_back('\0');
    if (auto s = Drain(zip.entry(), out); !s.ok()) return s;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in = fuzz::Split(data, size);
  const int kind = in.selector % 3;
  std::string whole, chunked;
  const absl::Status a = Run(in.payload, 1 << 20, kind, &whole);
  const absl::Status b = Run(in.payload, in.chunk, kind, &chunked);
  // Error messages may name the offset where a chunk ended; the status code and the bytes
  // produced before it must agree.
  if (a.code() != b.code()) std::abort();
  if (a.ok() && whole != chunked) std::abort();
  return 0;
}
