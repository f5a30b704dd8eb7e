#include "libs/filesource/parser_schema.h"

namespace connectors::filesource {

schema::Schema ParserSchema() {
  using namespace schema;
  Schema csv_config =
      Object("CSV Options", "How rows and columns are separated; empty fields are detected.")
          .Property("headers", Array("Headers",
                                     "Column names. When set the first row is data, not a "
                                     "header.",
                                     String())
                                   .Order(1))
          .Property(
              "delimiter",
              String("Delimiter", "Column separator; detected when empty.").Nullable().Order(2))
          .Property("quote", String("Quote Character",
                                    "\" or '; an empty string disables quoting; detected when "
                                    "unset.")
                                 .Nullable()
                                 .Order(3))
          .Property("escape", String("Escape Character",
                                     "\\ to escape inside quoted fields; doubled quotes always "
                                     "work.")
                                  .Nullable()
                                  .Order(4))
          .Property("lineEnding", String("Line Ending",
                                         "\\r\\n accepts CR, LF and CRLF (the default); or \\r, "
                                         "\\n, or the record separator \\u001e.")
                                      .Nullable()
                                      .Order(5))
          .Property("encoding", String("Encoding",
                                       "UTF-8, UTF-16LE, UTF-16BE or windows-1252 (Latin-1); "
                                       "detected when unset.")
                                    .Nullable()
                                    .Order(6))
          .Property("errorThreshold",
                    Integer("Error Threshold",
                            "Percentage of malformed rows (of the last 1000) tolerated before "
                            "the file fails; malformed rows below it are skipped and logged.")
                        .Minimum(0)
                        .Maximum(100)
                        .Default(0)
                        .Order(7));
  Schema format =
      OneOf("Format", "The format of the file's records; Auto detects it.", "type", "auto",
            {{"Auto", "auto", Object()},
             {"CSV", "csv", Object().Property("config", std::move(csv_config))},
             {"JSON", "json", Object()},
             {"JSON Lines", "jsonl", Object()},
             {"W3C Extended Log", "w3cExtendedLog", Object()},
             {"Avro", "avro", Object()},
             {"Excel", "excel", Object()}});
  return Object("Parser Configuration", "How files are decompressed and parsed.")
      .Property("format", std::move(format).Order(0))
      .Property("compression",
                String("Compression", "auto detects it from the name, headers and bytes.")
                    .Enum({"auto", "none", "gzip", "zip", "zstd"})
                    .Default("auto")
                    .Order(1))
      .Property("defaultOffset", String("Default Timezone Offset",
                                        "Offset given to timestamps that have none, as +HH:MM.")
                                     .Pattern("^[+-][0-9]{2}:[0-9]{2}$")
                                     .Default("+00:00")
                                     .Order(2)
                                     .Advanced())
      .Advanced();
}

}  // namespace connectors::filesource
