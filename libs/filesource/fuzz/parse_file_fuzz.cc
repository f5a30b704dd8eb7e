// The whole pipeline a file goes through (compression and format detection, encodings, every
// parser), as a capture runs it on a file of unknown content.
#include "libs/filesource/byte_source.h"
#include "libs/filesource/fuzz/fuzz_util.h"
#include "libs/filesource/parse.h"

using namespace connectors::filesource;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in = fuzz::Split(data, size);
  static const char* kNames[] = {"f",     "f.csv", "f.json", "f.xlsx",
                                 "f.zip", "f.log", "f.avro", "f.tsv.gz"};
  ParserConfig config;
  config.csv.error_threshold_percent = (in.selector & 8) ? 10 : 0;
  const std::string name = kNames[in.selector & 7];
  StringSource source(in.payload, in.chunk);
  DocumentBuilder builder({name, "", ""}, "+00:00");
  fuzz::CollectSink sink;
  ParseFile(source, config, {name, "", ""}, builder, sink).IgnoreError();
  return 0;
}
