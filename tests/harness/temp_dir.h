// Scratch space and loopback ports for services that tests start. Names are never fixed: every
// directory comes from mkdtemp and every port from the kernel, so any number of tests (and test
// targets) can run at once on one machine.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::harness {

// A fresh directory that lives as long as the object: the destructor removes it with everything
// in it. Movable, not copyable; a moved-from TempDir owns nothing.
class TempDir {
 public:
  // Creates `<base>/<prefix>XXXXXX` under DefaultTempBase().
  static absl::StatusOr<TempDir> Create(std::string_view prefix = "harness-");
  // Same under an explicit base directory, which must exist.
  static absl::StatusOr<TempDir> CreateIn(std::string_view base, std::string_view prefix);

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  // Absolute path; empty once removed or moved from.
  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Path(std::string_view relative) const;
  // Removes the directory now and reports what went wrong; the destructor ignores errors.
  absl::Status Remove();

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// $TEST_TMPDIR (Bazel gives each test its own), else $TMPDIR, else /tmp.
std::string DefaultTempBase();

// A TCP port on 127.0.0.1 that was free a moment ago: the kernel picks it when a socket binds
// port 0. Another process may take it before the service binds it, so callers that hand a port
// to a service retry with a new one when the service reports "address already in use".
absl::StatusOr<int> FreePort();

// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
bool AcceptsConnections(int port);

// Whole-file helpers for configs and keys. WriteFile truncates and sets `mode` on new files.
absl::Status WriteFile(const std::string& path, std::string_view contents, mode_t mode = 0644);
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace connectors::harness
