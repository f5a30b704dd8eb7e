// Streaming JSON records (object streams and unrolled top-level arrays): chunking must not
// change the documents, and every emitted document must itself be valid JSON.
#include "libs/filesource/byte_source.h"
#include "libs/filesource/fuzz/fuzz_util.h"
#include "libs/filesource/json_records.h"
#include "libs/json/parse.h"

using namespace connectors::filesource;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in = fuzz::Split(data, size);
  auto run = [&](size_t chunk, std::vector<std::string>* docs) {
    StringSource source(in.payload, chunk);
    DocumentBuilder builder({"f.json", "e", ""}, "+00:00");
    fuzz::CollectSink sink;
    absl::Status status = ParseJsonRecords(source, builder, sink);
    *docs = std::move(sink.docs);
    return status;
  };
  std::vector<std::string> whole, chunked;
  const absl::Status a = run(1 << 20, &whole);
  const absl::Status b = run(in.chunk, &chunked);
  fuzz::ExpectSame(a, whole, b, chunked);
  connectors::json::Parser parser;
  for (const std::string& doc : whole) {
    if (!parser.Parse(doc).ok()) std::abort();
  }
  return 0;
}
