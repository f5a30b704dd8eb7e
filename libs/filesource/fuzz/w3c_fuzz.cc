// W3C extended log parser.
#include "libs/filesource/byte_source.h"
#include "libs/filesource/csv.h"
#include "libs/filesource/fuzz/fuzz_util.h"

using namespace connectors::filesource;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in = fuzz::Split(data, size);
  auto run = [&](size_t chunk, std::vector<std::string>* docs) {
    StringSource source(in.payload, chunk);
    DocumentBuilder builder({"f.log", "", ""}, "+00:00");
    fuzz::CollectSink sink;
    absl::Status status = ParseW3c(source, builder, sink);
    *docs = std::move(sink.docs);
    return status;
  };
  std::vector<std::string> whole, chunked;
  const absl::Status a = run(1 << 20, &whole);
  const absl::Status b = run(in.chunk, &chunked);
  fuzz::ExpectSame(a, whole, b, chunked);
  return 0;
}
