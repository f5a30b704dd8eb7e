#include "source-http-file/http_file.h"

#include <set>
#include <string>
#include <vector>

#include "libs/base/strings.h"
#include "libs/filesource/parse.h"
#include "libs/filesource/parser_config.h"
#include "libs/filesource/parser_schema.h"
#include "libs/filesource/state.h"
#include "libs/json/parse.h"
#include "libs/json/writer.h"
#include "libs/schema-gen/schema.h"

namespace connectors::http_file {
namespace {

using filesource::FileState;

// How many times a file that changed while it was read is started over within one run.
constexpr int kMaxFileRestarts = 3;

struct Config {
  std::vector<std::string> urls;  // The main URL first.
  HttpAuth auth;
  std::vector<std::pair<std::string, std::string>> headers;
  filesource::ParserConfig parser;
};

schema::Schema EndpointSchema() {
  using namespace schema;
  return Object("HTTP File", "Captures files served over HTTP(S), one document per record.")
      .Property("url", String("HTTP File URL",
                              "A full URL with scheme and host, e.g. "
                              "https://example.com/data/file.csv.gz.")
                           .Pattern("^[hH][tT][tT][pP][sS]?://[^/?#]+")
                           .Order(0))
      .Property(
          "credentials",
          OneOf("Authentication", "How to authenticate to the server.", "auth_type", "none",
                {{"No Authentication", "none", Object()},
                 {"Basic Authentication", "basic",
                  Object()
                      .Property("user", String("Username", "HTTP Basic user.").Order(1))
                      .Property("password",
                                String("Password", "HTTP Basic password.").Secret().Order(2))
                      .Required({"user", "password"})},
                 {"Bearer Token", "bearer",
                  Object()
                      .Property("token",
                                String("Token", "Sent as Authorization: Bearer.").Secret().Order(1))
                      .Required({"token"})}})
              .Order(1))
      .Property("headers",
                Object("Headers", "Additional HTTP headers sent with every request.")
                    .Property("items",
                              Array("Additional HTTP Headers", "Name and value of each header.",
                                    Object()
                                        .Property("key", String("Header Key").Order(0))
                                        .Property("value", String("Header Value").Secret().Order(1))
                                        .Required({"key", "value"})))
                    .Order(2))
      .Property("parser", filesource::ParserSchema().Order(3))
      .Property("additionalUrls",
                Array("Additional URLs",
                      "More files captured into the same collection; each document's "
                      "_meta.file names its URL. Shards of the capture split the files.",
                      String().Pattern("^[hH][tT][tT][pP][sS]?://[^/?#]+"))
                    .Order(4)
                    .Advanced())
      .Required({"url"});
}

schema::Schema ResourceSchema() {
  using namespace schema;
  return Object("HTTP File Stream", "The collection the files are captured into.")
      .Property(
          "stream",
          String("Stream", "Name of the captured stream.").MinLength(1).CollectionName().Order(0))
      .Required({"stream"});
}

constexpr std::string_view kDocumentSchema =
    R"({"type":"object","x-infer-schema":true,"required":["_meta"],"properties":{"_meta":)"
    R"({"type":"object","required":["file","offset"],"properties":{"file":{"type":"string",)"
    R"("description":"The file's URL (without credentials)."},"offset":{"type":"integer",)"
    R"("minimum":0,"description":"The record's 0-based index within the file."},"etag":)"
    R"({"type":"string","description":"The ETag of the file version read."},"lastModified":)"
    R"({"type":"string","description":"The Last-Modified of the file version read."}}}}})";

absl::Status CheckUrl(std::string_view url, std::string_view field) {
  const size_t scheme = url.find("://");
  const std::string prefix = [&] {
    std::string s(url.substr(0, scheme == std::string_view::npos ? 0 : scheme));
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }();
  const bool bad_char = std::any_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x21 || c == 0x7F;
  });
  if (scheme == std::string_view::npos || (prefix != "http" && prefix != "https") ||
      url.size() == scheme + 3 || url[scheme + 3] == '/' || bad_char) {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", RedactUrl(url),
               "\" is not a full URL; give one with scheme and host, like "
               "https://example.com/file.csv"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfig(std::string_view config_json) {
  json::Parser parser;
  auto root = parser.Parse(config_json);
  if (!root.ok()) return root.status();
  Config config;
  std::string_view url;
  if ((*root)["url"].get(url) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("endpoint config: url is required");
  }
  if (auto s = CheckUrl(url, "url"); !s.ok()) return s;
  config.urls.emplace_back(url);
  simdjson::dom::array more;
  if ((*root)["additionalUrls"].get(more) == simdjson::SUCCESS) {
    size_t i = 0;
    for (auto item : more) {
      std::string_view extra;
      if (item.get(extra) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("additionalUrls: a list of URLs");
      }
      if (auto s = CheckUrl(extra, StrCat("additionalUrls/", i)); !s.ok()) return s;
      if (std::find(config.urls.begin(), config.urls.end(), extra) == config.urls.end()) {
        config.urls.emplace_back(extra);
      }
      ++i;
    }
  }
  simdjson::dom::object credentials;
  if ((*root)["credentials"].get(credentials) == simdjson::SUCCESS) {
    std::string_view type = "none", user, password, token;
    if (credentials["auth_type"].get(type) != simdjson::SUCCESS) type = "none";
    if (type == "basic") {
      if (credentials["user"].get(user) != simdjson::SUCCESS ||
          credentials["password"].get(password) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("credentials: basic needs user and password");
      }
      config.auth = {HttpAuth::Kind::kBasic, std::string(user), std::string(password), ""};
    } else if (type == "bearer") {
      if (credentials["token"].get(token) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("credentials: bearer needs a token");
      }
      config.auth = {HttpAuth::Kind::kBearer, "", "", std::string(token)};
    } else if (type != "none") {
      return absl::InvalidArgumentError(StrCat("credentials.auth_type: unknown \"", type, "\""));
    }
  }
  simdjson::dom::array items;
  if ((*root)["headers"]["items"].get(items) == simdjson::SUCCESS) {
    for (auto item : items) {
      std::string_view key, value;
      if (item["key"].get(key) != simdjson::SUCCESS ||
          item["value"].get(value) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("headers.items: each needs a key and a value");
      }
      config.headers.emplace_back(std::string(key), std::string(value));
    }
  }
  simdjson::dom::element parser_config;
  if ((*root)["parser"].get(parser_config) == simdjson::SUCCESS) {
    auto parsed = filesource::ParseParserConfig(parser_config);
    if (!parsed.ok()) return parsed.status();
    config.parser = *std::move(parsed);
  }
  return config;
}

absl::StatusOr<std::string> StreamOf(std::string_view resource_config_json) {
  json::Parser parser;
  auto root = parser.Parse(resource_config_json);
  if (!root.ok()) return root.status();
  std::string_view stream;
  if ((*root)["stream"].get(stream) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("resource config has no \"stream\"");
  }
  return std::string(stream);
}

HttpFileRequest RequestFor(const Config& config, const std::string& url) {
  HttpFileRequest request;
  request.url = url;
  request.auth = config.auth;
  request.headers = config.headers;
  return request;
}

// Column name -> "integer" / "number" / "boolean" for top-level properties whose schema type
// is one of those (optionally with null), so CSV text can be typed as the collection expects.
std::map<std::string, std::string, std::less<>> ColumnTypes(std::string_view schema_json) {
  std::map<std::string, std::string, std::less<>> out;
  if (schema_json.empty()) return out;
  json::Parser parser;
  auto root = parser.Parse(schema_json);
  simdjson::dom::object properties;
  if (!root.ok() || (*root)["properties"].get(properties) != simdjson::SUCCESS) return out;
  for (auto field : properties) {
    std::vector<std::string_view> types;
    std::string_view one;
    simdjson::dom::array many;
    if (field.value["type"].get(one) == simdjson::SUCCESS) {
      types.push_back(one);
    } else if (field.value["type"].get(many) == simdjson::SUCCESS) {
      for (auto t : many) {
        if (t.get(one) == simdjson::SUCCESS) types.push_back(one);
      }
    }
    std::string chosen;
    bool other = false;
    for (std::string_view t : types) {
      if (t == "null") continue;
      if ((t == "integer" || t == "number" || t == "boolean") && chosen.empty()) {
        chosen = std::string(t);
      } else {
        other = true;
      }
    }
    if (!chosen.empty() && !other) out[std::string(field.key)] = chosen;
  }
  return out;
}

std::string HttpDateToRfc3339(std::string_view http_date) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(http_date), absl::UTCTimeZone(),
                       &time, &error)) {
    return "";
  }
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

struct Binding {
  uint32_t index;
  std::string state_key;
  filesource::BindingState state;
  filesource::ParserConfig parser;
};

// Emits a file's records, skipping those already committed, and checkpoints progress.
class FileSink final : public filesource::RecordSink {
 public:
  FileSink(runtime::CaptureSession& session, const Binding& binding, std::string file,
           FileState* state, uint64_t skip, uint64_t checkpoint_bytes)
      : session_(session),
        binding_(binding),
        file_(std::move(file)),
        state_(state),
        skip_(skip),
        checkpoint_bytes_(checkpoint_bytes) {}

  absl::Status Record(uint64_t offset, std::string_view doc) override {
    if (offset < skip_) return absl::OkStatus();
    if (auto s = session_.output().Document(binding_.index, doc); !s.ok()) {
      output_failed_ = true;
      return s;
    }
    emitted_ = offset + 1;
    pending_ += doc.size();
    if (pending_ >= checkpoint_bytes_) return Checkpoint(false);
    if (session_.stopping()) {
      if (auto s = Checkpoint(false); !s.ok()) return s;
      return absl::CancelledError("stopping");
    }
    return absl::OkStatus();
  }

  absl::Status Checkpoint(bool complete) {
    state_->records = std::max(emitted_, state_->records);
    state_->complete = complete;
    pending_ = 0;
    absl::Status status = session_.output().Checkpoint(
        filesource::FileStatePatch(binding_.state_key, file_, *state_));
    if (!status.ok()) output_failed_ = true;
    return status;
  }

  // The runtime refused output: the session is over and nothing more may be written.
  bool output_failed() const { return output_failed_; }

  // Records emitted so far (committed or about to be), the next offset to emit.
  uint64_t emitted() const { return std::max(emitted_, skip_); }

 private:
  runtime::CaptureSession& session_;
  const Binding& binding_;
  std::string file_;
  FileState* state_;
  uint64_t skip_;
  uint64_t checkpoint_bytes_;
  uint64_t emitted_ = 0;
  uint64_t pending_ = 0;
  bool output_failed_ = false;
};

class HttpFileCapture final : public runtime::Capture {
 public:
  HttpFileCapture(Config config, std::vector<Binding> bindings, uint32_t key_begin,
                  uint32_t key_end, HttpFileOptions options)
      : config_(std::move(config)),
        bindings_(std::move(bindings)),
        key_begin_(key_begin),
        key_end_(key_end),
        options_(options) {}

  bool explicit_acknowledgements() const override { return false; }

  absl::Status Run(runtime::CaptureSession& session) override {
    for (Binding& binding : bindings_) {
      for (const std::string& url : config_.urls) {
        const std::string file = RedactUrl(url);
        if (!filesource::InShard(file, key_begin_, key_end_)) continue;
        absl::Status status = CaptureFile(session, binding, url, file);
        if (absl::IsCancelled(status) && session.stopping()) return absl::OkStatus();
        if (!status.ok()) return status;
        if (session.stopping()) return absl::OkStatus();
      }
    }
    // One sweep per session: the runtime starts the next after the capture's interval.
    return absl::OkStatus();
  }

 private:
  absl::Status CaptureFile(runtime::CaptureSession& session, Binding& binding,
                           const std::string& url, const std::string& file) {
    FileState& state = binding.state.files[file];
    // Records of the current version emitted during this session (a restart skips them).
    uint64_t emitted_here = 0;
    for (int restart = 0;; ++restart) {
      HttpFileRequest request = RequestFor(config_, url);
      if (state.complete) {
        request.if_none_match = state.etag;
        request.if_modified_since = state.last_modified;
      }
      auto stream = HttpFileStream::Open(std::move(request), options_.retry, session.log(),
                                         [&session] { return session.stopping(); });
      if (!stream.ok()) return stream.status();
      HttpFileStream& body = **stream;
      if (body.status() == 304 ||
          (state.complete && state.SameVersion(body.etag(), body.last_modified()))) {
        session.log().Info("file unchanged since it was captured",
                           {LogField::Str("file", file), LogField::Uint("records", state.records)});
        return absl::OkStatus();
      }
      uint64_t skip = 0;
      if (!state.complete && state.SameVersion(body.etag(), body.last_modified())) {
        skip = std::max(state.records, emitted_here);
      } else if (restart > 0 && state.etag.empty() && state.last_modified.empty() &&
                 body.etag().empty() && body.last_modified().empty()) {
        skip = emitted_here;  // Nothing identifies versions: assume the same content.
      } else {
        state = FileState{body.etag(), body.last_modified(), 0, false};
        emitted_here = 0;
      }
      session.log().Info("reading file",
                         {LogField::Str("file", file), LogField::Uint("skipRecords", skip),
                          LogField::Int("contentLength", body.content_length())});
      filesource::DocumentBuilder docs({file, body.etag(), HttpDateToRfc3339(body.last_modified())},
                                       binding.parser.default_offset);
      FileSink sink(session, binding, file, &state, skip, options_.checkpoint_bytes);
      filesource::ParseHooks hooks;
      hooks.warn = [&](std::string_view warning) {
        session.log().Warn(warning, {LogField::Str("file", file)});
      };
      const std::string path = PathOf(url);
      absl::Status status = filesource::ParseFile(
          body, binding.parser, {path, body.content_type(), body.content_encoding()}, docs, sink,
          hooks);
      emitted_here = sink.emitted();
      if (status.ok()) {
        session.log().Info("file captured", {LogField::Str("file", file),
                                             LogField::Uint("records", docs.next_offset()),
                                             LogField::Uint("bytes", body.bytes_received())});
        return sink.Checkpoint(true);
      }
      if (absl::IsCancelled(status)) return status;
      if (absl::IsAborted(status) && restart < kMaxFileRestarts) {
        session.log().Warn(
            "file changed while it was read; reading it again",
            {LogField::Str("file", file), LogField::Str("error", MessageOf(status))});
        continue;
      }
      // Whatever was emitted before the failure is committed with its checkpoint; the next run
      // resumes after it.
      if (!sink.output_failed() && sink.emitted() > state.records) {
        sink.Checkpoint(false).IgnoreError();
      }
      return absl::Status(status.code(), StrCat("capturing ", file, ": ", MessageOf(status)));
    }
  }

  // The URL's path (without query), which decides the format by its extension.
  static std::string PathOf(const std::string& url) {
    const size_t scheme = url.find("://");
    const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (slash == std::string::npos) return "/";
    const size_t query = url.find_first_of("?#", slash);
    return url.substr(slash, query == std::string::npos ? std::string::npos : query - slash);
  }

  Config config_;
  std::vector<Binding> bindings_;
  uint32_t key_begin_, key_end_;
  HttpFileOptions options_;
};

}  // namespace

absl::StatusOr<std::string> StreamName(std::string_view url) {
  if (auto s = CheckUrl(url, "url"); !s.ok()) return s;
  const std::string redacted = RedactUrl(url);
  std::string_view rest = redacted;
  rest.remove_prefix(rest.find("://") + 3);
  const size_t path_at = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  path = path.substr(0, path.find_first_of("?#"));
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t last = path.rfind('/');
  std::string_view name = last == std::string_view::npos ? path : path.substr(last + 1);
  if (!name.empty()) return std::string(name);
  // The host, without a port.
  if (!host.empty() && host.front() != '[') host = host.substr(0, host.find(':'));
  return std::string(host);
}

::capture::Response::Spec HttpFileDriver::Spec() const {
  ::capture::Response::Spec spec;
  spec.set_config_schema_json(EndpointSchema().ToJson());
  spec.set_resource_config_schema_json(ResourceSchema().ToJson());
  spec.set_documentation_url("https://go.estuary.dev/source-http-file");
  spec.add_resource_path_pointers("/stream");
  return spec;
}

absl::StatusOr<::capture::Response::Discovered> HttpFileDriver::Discover(
    const ::capture::Request::Discover& request, const Logger& log) {
  auto config = ParseConfig(request.config_json());
  if (!config.ok()) return config.status();
  auto probe = HttpFileStream::Open(RequestFor(*config, config->urls[0]), options_.retry, log, {});
  if (!probe.ok()) return probe.status();
  auto name = StreamName(config->urls[0]);
  if (!name.ok()) return name.status();
  ::capture::Response::Discovered discovered;
  auto* binding = discovered.add_bindings();
  binding->set_recommended_name(*name);
  std::string resource;
  json::Writer w(&resource);
  w.BeginObject().Key("stream").String(*name).EndObject();
  binding->set_resource_config_json(resource);
  binding->set_document_schema_json(std::string(kDocumentSchema));
  binding->add_key("/_meta/file");
  binding->add_key("/_meta/offset");
  binding->add_resource_path(*name);
  return discovered;
}

absl::StatusOr<::capture::Response::Validated> HttpFileDriver::Validate(
    const ::capture::Request::Validate& request, const Logger& log) {
  auto config = ParseConfig(request.config_json());
  if (!config.ok()) return config.status();
  for (const std::string& url : config->urls) {
    auto probe = HttpFileStream::Open(RequestFor(*config, url), options_.retry, log, {});
    if (!probe.ok()) return probe.status();
  }
  ::capture::Response::Validated validated;
  std::set<std::string> seen;
  for (const auto& binding : request.bindings()) {
    auto stream = StreamOf(binding.resource_config_json());
    if (!stream.ok()) return stream.status();
    if (!seen.insert(*stream).second) {
      return absl::InvalidArgumentError(
          StrCat("two bindings use stream \"", *stream, "\"; give each its own stream name"));
    }
    validated.add_bindings()->add_resource_path(*stream);
  }
  return validated;
}

absl::StatusOr<::capture::Response::Applied> HttpFileDriver::Apply(
    const ::capture::Request::Apply& request, const Logger& log) {
  return ::capture::Response::Applied();  // Nothing to create at a web server.
}

absl::StatusOr<std::unique_ptr<runtime::Capture>> HttpFileDriver::Open(
    const ::capture::Request::Open& request, const Logger& log) {
  auto config = ParseConfig(request.capture().config_json());
  if (!config.ok()) return config.status();
  std::vector<Binding> bindings;
  for (int i = 0; i < request.capture().bindings_size(); ++i) {
    const auto& spec = request.capture().bindings(i);
    Binding binding;
    binding.index = uint32_t(i);
    binding.state_key = spec.state_key();
    if (binding.state_key.empty()) {
      auto stream = StreamOf(spec.resource_config_json());
      if (!stream.ok()) return stream.status();
      binding.state_key = *stream;
    }
    auto state = filesource::LoadBindingState(request.state_json(), binding.state_key);
    if (!state.ok()) return state.status();
    binding.state = *std::move(state);
    binding.parser = config->parser;
    const std::string& schema = spec.collection().read_schema_json().empty()
                                    ? spec.collection().write_schema_json()
                                    : spec.collection().read_schema_json();
    binding.parser.csv.column_types = ColumnTypes(schema);
    bindings.push_back(std::move(binding));
  }
  const uint32_t key_end = request.has_range() ? request.range().key_end() : 0xFFFFFFFF;
  return std::make_unique<HttpFileCapture>(*std::move(config), std::move(bindings),
                                           request.range().key_begin(), key_end, options_);
}

}  // namespace connectors::http_file
