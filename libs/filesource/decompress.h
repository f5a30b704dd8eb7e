// Streaming decompression: gzip (every member of a multi-member file), zstd (every frame), and
// zip archives read front to back from their local headers, so no layer ever holds a whole
// file. Truncated or corrupt input is an error naming the compressed byte offset.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "libs/filesource/byte_source.h"

namespace connectors::filesource {

// Decompressed bytes of a gzip stream made of one or more members.
std::unique_ptr<ByteSource> GzipSource(ByteSource* compressed);

// Decompressed bytes of one or more concatenated zstd frames.
std::unique_ptr<ByteSource> ZstdSource(ByteSource* compressed);

// A zip archive read as a stream. Entries are visited in archive order; directories and hidden
// entries (a base name starting with '.', which covers __MACOSX/._* and .DS_Store) are skipped.
// Stored and deflated entries are supported; an entry is read through its local header, so the
// central directory is never needed (a stored entry whose size is only in a trailing data
// descriptor cannot be streamed and is an error).
class ZipStream {
 public:
  explicit ZipStream(ByteSource* archive);
  ~ZipStream();
  // Moves to the next file entry, skipping what is left of the current one. False at the end of
  // the entries (the central directory).
  absl::StatusOr<bool> NextEntry();
  const std::string& entry_name() const;
  // The current entry's uncompressed bytes.
  ByteSource& entry();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace connectors::filesource
