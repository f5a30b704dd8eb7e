// CSV tokenizer, dialect sniffing and record parser. The selector picks explicit or sniffed
// delimiter/quote, an escape, headers and an error threshold; the documents must not depend
// on how the text is chunked.
#include "libs/filesource/byte_source.h"
#include "libs/filesource/csv.h"
#include "libs/filesource/fuzz/fuzz_util.h"

using namespace connectors::filesource;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in = fuzz::Split(data, size);
  CsvOptions options;
  if (in.selector & 1) options.delimiter = ",;|\t"[(in.selector >> 1) & 3];
  if (in.selector & 8)
    options.quote = (in.selector & 16) ? std::optional<char>('\'') : std::nullopt;
  if (in.selector & 32) options.escape = '\\';
  if (in.selector & 64) options.headers = {"a", "b", "a"};
  options.error_threshold_percent = (in.selector & 128) ? 50 : 0;
  options.column_types = {{"a", "integer"}, {"b", "number"}};
  auto run = [&](size_t chunk, std::vector<std::string>* docs) {
    StringSource source(in.payload, chunk);
    DocumentBuilder builder({"f.csv", "", ""}, "+00:00");
    fuzz::CollectSink sink;
    absl::Status status = ParseCsv(source, options, builder, sink, [](std::string_view) {});
    *docs = std::move(sink.docs);
    return status;
  };
  std::vector<std::string> whole, chunked;
  const absl::Status a = run(1 << 20, &whole);
  const absl::Status b = run(in.chunk, &chunked);
  fuzz::ExpectSame(a, whole, b, chunked);
  return 0;
}
