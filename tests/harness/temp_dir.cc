#include "tests/harness/temp_dir.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "libs/base/strings.h"
#include "libs/base/unique_fd.h"

namespace connectors::harness {
namespace {

absl::Status ErrnoError(std::string_view what, int error) {
  return absl::InternalError(StrCat(what, ": ", std::strerror(error)));
}

// Closes a descriptor when the scope ends.
using Fd = UniqueFd;

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

std::string DefaultTempBase() {
  for (const char* name : {"TEST_TMPDIR", "TMPDIR"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return "/tmp";
}

absl::StatusOr<TempDir> TempDir::Create(std::string_view prefix) {
  return CreateIn(DefaultTempBase(), prefix);
}

absl::StatusOr<TempDir> TempDir::CreateIn(std::string_view base, std::string_view prefix) {
  std::error_code error;
  // Services get absolute paths (sshd insists on them), so resolve a relative base now.
  std::string absolute = std::filesystem::absolute(std::string(base), error).string();
  if (error) return absl::InternalError(StrCat("temp base ", base, ": ", error.message()));
  std::string pattern = StrCat(absolute, "/", prefix, "XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) return ErrnoError(StrCat("mkdtemp ", pattern), errno);
  return TempDir(std::move(pattern));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove().IgnoreError();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() { Remove().IgnoreError(); }

std::string TempDir::Path(std::string_view relative) const { return StrCat(path_, "/", relative); }

absl::Status TempDir::Remove() {
  if (path_.empty()) return absl::OkStatus();
  std::error_code error;
  std::filesystem::remove_all(path_, error);
  if (error) return absl::InternalError(StrCat("remove ", path_, ": ", error.message()));
  path_.clear();
  return absl::OkStatus();
}

absl::StatusOr<int> FreePort() {
  Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) return ErrnoError("socket", errno);
  sockaddr_in address = Loopback(0);
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoError("bind 127.0.0.1:0", errno);
  }
  socklen_t length = sizeof(address);
  if (::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return ErrnoError("getsockname", errno);
  }
  return static_cast<int>(ntohs(address.sin_port));
}

bool AcceptsConnections(int port) {
  Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) return false;
  sockaddr_in address = Loopback(port);
  return ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

absl::Status WriteFile(const std::string& path, std::string_view contents, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (fd.get() < 0) return ErrnoError(StrCat("open ", path), errno);
  while (!contents.empty()) {
    const ssize_t n = ::write(fd.get(), contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(StrCat("write ", path), errno);
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(StrCat("no file ", path));
    return ErrnoError(StrCat("open ", path), error);
  }
  std::string out;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(StrCat("read ", path), errno);
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace connectors::harness
