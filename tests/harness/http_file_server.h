// A real HTTP server for a test: //tests/harness:http_file_server (see its main file for the
// exact behavior: Content-Length, HEAD, Range, ETag/Last-Modified, directory indexes, optional
// auth and gzip, and scripted faults from ROOT/.faults/PATH: 5xx with Retry-After, dropped
// connections, slow bodies, redirects) run as a separate process on 127.0.0.1, on a port the kernel
// picks. Files can be added to root() at any time; each request reads the disk. The destructor
// stops the server and deletes its temp dir (and root(), when the server made it).
//
//   auto http = harness::HttpFileServer::Start();
//   ASSERT_TRUE(http.ok()) << http.status();
//   WriteFile(StrCat(http->root(), "/data.csv"), "id\n1\n");
//   config["url"] = http->url("data.csv");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::harness {

struct HttpFileServerOptions {
  // The directory to serve. Empty: a fresh directory inside the server's temp dir.
  std::string root;
  // Both set: requests must carry this HTTP Basic authorization.
  std::string basic_auth_user;
  std::string basic_auth_password;
  // Set: requests must carry "Authorization: Bearer <token>" (either credential is accepted
  // when both are set).
  std::string bearer_token;
  // Compress text-like responses for clients that accept gzip. Off: bodies are never encoded.
  bool gzip = false;
  // Off: responses carry no ETag (or no Last-Modified), as some servers do.
  bool etag = true;
  bool last_modified = true;
  // The server binary. Empty: //tests/harness:http_file_server from the runfiles, which every
  // target depending on //tests/harness:services has.
  std::string binary;
};

class HttpFileServer {
 public:
  // Returns once the server accepts connections.
  static absl::StatusOr<HttpFileServer> Start(const HttpFileServerOptions& options = {});

  // A moved-from HttpFileServer may only be destroyed or assigned to.
  HttpFileServer(HttpFileServer&&) noexcept;
  HttpFileServer& operator=(HttpFileServer&&) noexcept;
  ~HttpFileServer();

  const std::string& host() const;  // "127.0.0.1"
  int port() const;
  // "http://127.0.0.1:<port>/" + `path` (without its leading slash). `path` is used as given:
  // percent-encode what needs it.
  std::string url(std::string_view path = "") const;
  // The directory being served.
  const std::string& root() const;
  // The server's temp dir (http_file_server.log is its request log).
  const std::string& dir() const;
  std::string LogTail() const;

  // Stops the server now; files stay until destruction. Idempotent.
  absl::Status Stop();

 private:
  struct State;
  explicit HttpFileServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The absolute path of `path` (relative to the workspace root, e.g.
// "tests/harness/http_file_server") in this binary's Bazel runfiles.
absl::StatusOr<std::string> FindRunfile(std::string_view path);

}  // namespace connectors::harness
