// http_file_server: serves a directory over HTTP on a loopback address, for tests of connectors
// that read files over HTTP. Tests start it through harness::HttpFileServer.
//
//   http_file_server --root=DIR [--host=127.0.0.1] [--port=0] [--port_file=PATH]
//                    [--basic_auth=USER:PASSWORD] [--bearer_token=TOKEN] [--gzip]
//                    [--no_etag] [--no_last_modified]
//
// GET and HEAD of a file answer its bytes with Content-Length, Content-Type (from the
// extension), Last-Modified and a strong ETag; Range requests get 206 (416 when unsatisfiable);
// If-None-Match / If-Modified-Since get 304. A directory answers an index: HTML, or JSON
// ({"path", "entries": [{"name", "type", "size", "modified"}]}) for `?format=json` or
// `Accept: application/json`. With --basic_auth and/or --bearer_token every request must carry
// one of them (else 401). Responses are never compressed unless --gzip is given, and then only
// text-like types for clients that send Accept-Encoding: gzip (never ranges).
// --port=0 lets the kernel pick a free port; --port_file receives it (written atomically once
// the socket listens), which is how the harness learns it without a race.
// --no_etag / --no_last_modified leave those validators out (servers that lack them), and
// If-Range is honoured (a stale validator gets the whole file with 200).
//
// Failure injection for client tests: a file ROOT/.faults/PATH scripts the next requests for
// /PATH, one line per request, consumed in order (afterwards requests are served normally):
//   ok                          serve normally
//   status CODE [RETRY_AFTER]   answer CODE (with a Retry-After header when given)
//   drop-after BYTES            send the headers and BYTES of the body, then close the socket
//   slow MILLISECONDS           pause this long before each 16 KiB of the body
//   redirect LOCATION           answer 302 to LOCATION
#include <dirent.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "libs/base/strings.h"

namespace connectors::harness {
namespace {

struct Flags {
  std::string root;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  std::string basic_auth;  // USER:PASSWORD
  std::string bearer_token;
  bool gzip = false;
  bool etag = true;
  bool last_modified = true;
};

bool ParseFlags(int argc, char** argv, Flags* flags, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    const size_t equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const std::string value(equals == std::string_view::npos ? "" : arg.substr(equals + 1));
    if (name == "--root") {
      flags->root = value;
    } else if (name == "--host") {
      flags->host = value;
    } else if (name == "--port") {
      flags->port = std::atoi(value.c_str());
    } else if (name == "--port_file") {
      flags->port_file = value;
    } else if (name == "--basic_auth") {
      flags->basic_auth = value;
    } else if (name == "--bearer_token") {
      flags->bearer_token = value;
    } else if (name == "--gzip") {
      flags->gzip = true;
    } else if (name == "--no_etag") {
      flags->etag = false;
    } else if (name == "--no_last_modified") {
      flags->last_modified = false;
    } else {
      *error = StrCat("unknown flag ", arg);
      return false;
    }
  }
  if (flags->root.empty()) {
    *error = "--root is required";
    return false;
  }
  // Tests may only serve on this machine.
  const std::string_view host = flags->host;
  if (host != "localhost" && host != "::1" && host.substr(0, 4) != "127.") {
    *error = StrCat("--host must be a loopback address, not ", host);
    return false;
  }
  if (!flags->basic_auth.empty() && flags->basic_auth.find(':') == std::string::npos) {
    *error = "--basic_auth takes USER:PASSWORD";
    return false;
  }
  return true;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (rest == 2) n |= uint8_t(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string HttpDate(time_t time) {
  tm parts{};
  gmtime_r(&time, &parts);
  char text[64];
  // The process never calls setlocale, so %a and %b are the English names HTTP requires.
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return text;
}

std::string Rfc3339(time_t time) {
  tm parts{};
  gmtime_r(&time, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// Seconds since the epoch of an HTTP-date, or -1.
time_t ParseHttpDate(const std::string& text) {
  tm parts{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr) return -1;
  return timegm(&parts);
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string ContentType(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".txt", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".tsv", "text/tab-separated-values; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".jsonl", "application/x-ndjson"},
      {".ndjson", "application/x-ndjson"},
      {".xml", "application/xml"},
      {".gz", "application/gzip"},
      {".zst", "application/zstd"},
      {".zip", "application/zip"},
      {".parquet", "application/vnd.apache.parquet"},
      {".avro", "application/avro"},
      {".pdf", "application/pdf"},
      {".png", "image/png"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (path.size() >= extension.size() &&
        path.substr(path.size() - extension.size()) == extension) {
      return std::string(type);
    }
  }
  return "application/octet-stream";
}

// What a fault script asks of one request.
struct Fault {
  std::string kind;  // "", "ok", "status", "drop-after", "slow", "redirect".
  int status = 0;
  std::string retry_after;
  int64_t bytes = -1;
  int64_t millis = 0;
  std::string location;
};

// Per-path count of requests already answered from a fault script (requests run on several
// threads).
class FaultScripts {
 public:
  explicit FaultScripts(std::string root) : root_(std::move(root)) {}

  Fault Next(const std::string& path) {
    std::ifstream file(StrCat(root_, "/.faults", path));
    if (!file) return {};
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = used_[path]++;
    }
    if (index >= lines.size()) return {};
    std::istringstream words(lines[index]);
    Fault fault;
    words >> fault.kind;
    if (fault.kind == "status") {
      words >> fault.status >> fault.retry_after;
    } else if (fault.kind == "drop-after") {
      words >> fault.bytes;
    } else if (fault.kind == "slow") {
      words >> fault.millis;
    } else if (fault.kind == "redirect") {
      words >> fault.location;
    }
    return fault;
  }

 private:
  std::string root_;
  std::mutex mu_;
  std::map<std::string, size_t> used_;
};

struct Entry {
  std::string name;
  bool directory;
  off_t size;
  time_t modified;
};

std::vector<Entry> ListDirectory(const std::string& path) {
  std::vector<Entry> entries;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return entries;
  while (const dirent* item = ::readdir(dir)) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (::stat(StrCat(path, "/", name).c_str(), &info) != 0) continue;
    entries.push_back({name, S_ISDIR(info.st_mode), info.st_size, info.st_mtime});
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

void ServeDirectory(const std::string& path, const httplib::Request& request,
                    httplib::Response& response) {
  // Relative links in the index resolve against the directory only with a trailing slash.
  if (request.path.back() != '/') {
    response.status = 301;
    response.set_header("Location", StrCat(request.path, "/"));
    return;
  }
  const std::vector<Entry> entries = ListDirectory(path);
  const bool json =
      request.get_param_value("format") == "json" ||
      request.get_header_value("Accept").find("application/json") != std::string::npos;
  std::string body;
  if (json) {
    body = StrCat("{\"path\":", JsonString(request.path), ",\"entries\":[");
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& entry = entries[i];
      StrAppend(&body, i > 0 ? "," : "", "{\"name\":", JsonString(entry.name), ",\"type\":\"",
                entry.directory ? "directory" : "file",
                "\",\"size\":", static_cast<int64_t>(entry.size), ",\"modified\":\"",
                Rfc3339(entry.modified), "\"}");
    }
    body += "]}\n";
    response.set_content(body, "application/json");
    return;
  }
  const std::string title = HtmlEscape(request.path);
  body = StrCat("<!DOCTYPE html>\n<html><head><title>", title, "</title></head><body>\n<h1>", title,
                "</h1>\n<ul>\n");
  for (const Entry& entry : entries) {
    const std::string name = HtmlEscape(StrCat(entry.name, entry.directory ? "/" : ""));
    StrAppend(&body, "<li><a href=\"", name, "\">", name, "</a> ", static_cast<int64_t>(entry.size),
              "</li>\n");
  }
  body += "</ul>\n</body></html>\n";
  response.set_content(body, "text/html; charset=utf-8");
}

void ServeFile(const Flags& flags, const Fault& fault, const std::string& path,
               const struct stat& info, const httplib::Request& request,
               httplib::Response& response) {
  char etag[64];
  std::snprintf(etag, sizeof(etag), "\"%llx-%llx\"", static_cast<unsigned long long>(info.st_size),
                static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  if (flags.etag) response.set_header("ETag", etag);
  if (flags.last_modified) response.set_header("Last-Modified", HttpDate(info.st_mtime));
  response.set_header("Accept-Ranges", "bytes");

  // If-None-Match takes precedence over If-Modified-Since (RFC 9110 13.2.2).
  if (flags.etag && request.has_header("If-None-Match")) {
    const std::string match = request.get_header_value("If-None-Match");
    if (match == "*" || match.find(etag) != std::string::npos) {
      response.status = 304;
      return;
    }
  } else if (flags.last_modified && request.has_header("If-Modified-Since")) {
    const time_t since = ParseHttpDate(request.get_header_value("If-Modified-Since"));
    if (since >= 0 && info.st_mtime <= since) {
      response.status = 304;
      return;
    }
  }
  // If-Range: the range applies only while the validator still matches; otherwise the client
  // gets the whole (new) file. The request is httplib's own mutable local (see Main).
  if (request.has_header("If-Range")) {
    const std::string validator = request.get_header_value("If-Range");
    const bool matches = validator.front() == '"'
                             ? flags.etag && validator == etag
                             : flags.last_modified && validator == HttpDate(info.st_mtime);
    if (!matches) const_cast<httplib::Request&>(request).ranges.clear();
  }
  for (const auto& [first, last] : request.ranges) {
    // A range that starts past the end cannot be satisfied (a suffix range, -N, always can).
    if (first >= 0 && first >= info.st_size) {
      response.status = 416;
      response.set_header("Content-Range", StrCat("bytes */", static_cast<int64_t>(info.st_size)));
      return;
    }
  }
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  if (!*file) {
    response.status = 403;
    response.set_content("forbidden\n", "text/plain");
    return;
  }
  if (flags.gzip) {
    // httplib compresses only bodies it holds.
    std::ostringstream contents;
    contents << file->rdbuf();
    response.set_content(contents.str(), ContentType(path));
    return;
  }
  // Streamed from disk (large fixtures and benchmarks never sit in memory), with the scripted
  // fault applied to the body.
  auto sent = std::make_shared<int64_t>(0);
  response.set_content_provider(
      static_cast<size_t>(info.st_size), ContentType(path),
      [file, sent, fault](size_t offset, size_t length, httplib::DataSink& sink) {
        char buffer[16 * 1024];
        if (fault.millis > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fault.millis));
        size_t n = std::min(length, sizeof(buffer));
        if (fault.bytes >= 0) {
          if (*sent >= fault.bytes) return false;  // Closes the connection mid-body.
          n = std::min<size_t>(n, static_cast<size_t>(fault.bytes - *sent));
        }
        file->clear();
        file->seekg(static_cast<std::streamoff>(offset));
        file->read(buffer, static_cast<std::streamsize>(n));
        const std::streamsize got = file->gcount();
        if (got <= 0) return false;
        *sent += got;
        return sink.write(buffer, static_cast<size_t>(got));
      });
}

void Serve(const Flags& flags, FaultScripts& faults, const httplib::Request& request,
           httplib::Response& response) {
  // httplib hands over the path percent-decoded. Refuse any way out of the root.
  const std::string& path = request.path;
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
    response.status = 400;
    response.set_content("bad path\n", "text/plain");
    return;
  }
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    if (rest.substr(0, slash) == "..") {
      response.status = 403;
      response.set_content("forbidden\n", "text/plain");
      return;
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  const Fault fault = faults.Next(path);
  if (fault.kind == "status") {
    response.status = fault.status;
    if (!fault.retry_after.empty()) response.set_header("Retry-After", fault.retry_after);
    response.set_content(StrCat("injected status ", fault.status, "\n"), "text/plain");
    return;
  }
  if (fault.kind == "redirect") {
    response.set_redirect(fault.location, 302);
    return;
  }
  const std::string full = StrCat(flags.root, path);
  struct stat info {};
  if (::stat(full.c_str(), &info) != 0) {
    response.status = 404;
    response.set_content("not found\n", "text/plain");
    return;
  }
  if (S_ISDIR(info.st_mode)) {
    ServeDirectory(full, request, response);
  } else if (S_ISREG(info.st_mode)) {
    ServeFile(flags, fault, full, info, request, response);
  } else {
    response.status = 403;
    response.set_content("forbidden\n", "text/plain");
  }
}

bool Authorized(const Flags& flags, const std::string& basic_credentials,
                const httplib::Request& request) {
  if (flags.basic_auth.empty() && flags.bearer_token.empty()) return true;
  const std::string header = request.get_header_value("Authorization");
  if (!flags.basic_auth.empty() && header == StrCat("Basic ", basic_credentials)) return true;
  if (!flags.bearer_token.empty() && header == StrCat("Bearer ", flags.bearer_token)) return true;
  return false;
}

bool WritePortFile(const std::string& path, int port) {
  // Written under a temporary name and renamed, so a reader never sees a partial number.
  const std::string temporary = StrCat(path, ".tmp");
  FILE* file = std::fopen(temporary.c_str(), "w");
  if (file == nullptr) return false;
  const bool written = std::fprintf(file, "%d\n", port) > 0;
  if (std::fclose(file) != 0 || !written) return false;
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::fprintf(stderr, "http_file_server: %s\n", error.c_str());
    return 2;
  }
  while (flags.root.size() > 1 && flags.root.back() == '/') flags.root.pop_back();
  const std::string basic_credentials = Base64(flags.basic_auth);

  FaultScripts faults(flags.root);
  httplib::Server server;
  server.set_pre_routing_handler([&](const httplib::Request& request, httplib::Response& response) {
    if (!Authorized(flags, basic_credentials, request)) {
      response.status = 401;
      response.set_header("WWW-Authenticate",
                          flags.basic_auth.empty() ? "Bearer" : "Basic realm=\"files\"");
      response.set_content("unauthorized\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    // httplib gzips every text-like body for a client that accepts gzip, and has no switch for
    // it. Compression must be opt-in (connectors must work against servers that never
    // compress) and never apply to ranges, so hide the header from it. The request object is
    // httplib's own mutable local; only its handler interface is const.
    if (!flags.gzip || request.has_header("Range")) {
      const_cast<httplib::Request&>(request).headers.erase("Accept-Encoding");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get(".*", [&](const httplib::Request& request, httplib::Response& response) {
    Serve(flags, faults, request, response);
  });
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    std::fprintf(stderr, "%s %s %d\n", request.method.c_str(), request.path.c_str(),
                 response.status);
  });

  int port = flags.port;
  if (port == 0) {
    port = server.bind_to_any_port(flags.host);
  } else if (!server.bind_to_port(flags.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "http_file_server: cannot listen on %s:%d: %s\n", flags.host.c_str(),
                 flags.port, std::strerror(errno));
    return 1;
  }
  if (!flags.port_file.empty() && !WritePortFile(flags.port_file, port)) {
    std::fprintf(stderr, "http_file_server: cannot write %s\n", flags.port_file.c_str());
    return 1;
  }
  std::fprintf(stderr, "http_file_server: serving %s on http://%s:%d/\n", flags.root.c_str(),
               flags.host.c_str(), port);
  return server.listen_after_bind() ? 0 : 1;
}

}  // namespace
}  // namespace connectors::harness

int main(int argc, char** argv) { return connectors::harness::Main(argc, argv); }
