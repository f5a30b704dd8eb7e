// source-http-file: captures files served over HTTP(S), one document per record, through
// libs/filesource. Each run fetches every configured URL this shard owns with a conditional
// GET (If-None-Match / If-Modified-Since from the checkpoint), so an unchanged file is neither
// downloaded nor re-emitted; a changed one is parsed as a stream and emitted with periodic
// checkpoints recording how many records are committed, so a restart skips exactly those.
#pragma once

#include <cstdint>

#include "libs/connector/capture.h"
#include "source-http-file/http_stream.h"

namespace connectors::http_file {

struct HttpFileOptions {
  // A checkpoint is written once this many bytes of documents are pending (and at the end of
  // every file).
  uint64_t checkpoint_bytes = 4 << 20;
  HttpRetryOptions retry;
};

class HttpFileDriver final : public runtime::CaptureDriver {
 public:
  explicit HttpFileDriver(HttpFileOptions options = {}) : options_(options) {}

  ::capture::Response::Spec Spec() const override;
  absl::StatusOr<::capture::Response::Discovered> Discover(
      const ::capture::Request::Discover& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Validated> Validate(
      const ::capture::Request::Validate& request, const Logger& log) override;
  absl::StatusOr<::capture::Response::Applied> Apply(const ::capture::Request::Apply& request,
                                                     const Logger& log) override;
  absl::StatusOr<std::unique_ptr<runtime::Capture>> Open(const ::capture::Request::Open& request,
                                                         const Logger& log) override;

 private:
  HttpFileOptions options_;
};

// The stream name a URL gets: its last non-empty path segment, else its host.
absl::StatusOr<std::string> StreamName(std::string_view url);

}  // namespace connectors::http_file
