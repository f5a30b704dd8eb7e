// The catalog the local runtime drives: captures, collections and materializations read from a
// file in Flow's YAML shape (the subset documented in tests/runtime/CATALOG.md), validated up
// front, and written back after discovery.
//
// Contract:
//  - LoadCatalog never throws. Every problem is an InvalidArgument (NotFound for an unreadable
//    catalog file) whose message starts with "file:line:column: key.path: " so the user can
//    jump to it.
//  - YAML values become compact JSON under YAML 1.2 core schema rules: plain true/false, null/~
//    and numbers are typed, every quoted or block scalar is a string, mappings keep key order.
//    Values with no JSON form (.inf, .nan, integers beyond 64 bits) are errors.
//  - `config`, `resource` and `schema` values are inline mappings or file paths (YAML, or JSON
//    when the name ends in .json) relative to the catalog's directory. The path is remembered as
//    written so that ToYaml writes it back instead of inlining the file.
//  - ToYaml writes block-style YAML that LoadCatalog reads back to an equal Catalog (when
//    written next to the original, so relative paths still resolve).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace connectors::local {

// How to reach a connector. Exactly one of the three forms, chosen by `kind`.
struct Endpoint {
  enum class Kind {
    kLocal,  // `local`: run `command` once per RPC.
    kImage,  // `connector`: run `image` with podman once per RPC.
    kGrpc,   // `grpc`: our extension, a connector already serving gRPC at `address`.
  };
  Kind kind = Kind::kLocal;
  std::vector<std::string> command;        // kLocal: argv, command[0] is the program.
  std::string image;                       // kImage.
  std::string address;                     // kGrpc: host:port.
  std::map<std::string, std::string> env;  // kLocal and kImage: extra environment.
  bool protobuf = false;                   // kLocal: speak the proto codec instead of JSON.
  std::string config_json;                 // Endpoint config, compact JSON object.
  std::string config_path;                 // The file it came from as written; empty if inline.

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct CaptureBinding {
  std::string resource_json;  // Compact JSON object.
  std::string resource_path;  // The file it came from as written; empty if inline.
  std::string target;         // A collection declared in the catalog.
  bool disable = false;
  uint32_t backfill = 0;

  friend bool operator==(const CaptureBinding&, const CaptureBinding&) = default;
};

struct Capture {
  std::string name;
  Endpoint endpoint;
  std::optional<absl::Duration> interval;  // Positive when set.
  std::vector<CaptureBinding> bindings;

  friend bool operator==(const Capture&, const Capture&) = default;
};

struct Collection {
  std::string name;
  std::vector<std::string> key;  // JSON pointers, each starting with '/'.
  // The `schema` form sets only the write schema; `writeSchema` + `readSchema` set both.
  std::string write_schema_json;  // Compact JSON object.
  std::string write_schema_path;  // The file it came from as written; empty if inline.
  std::string read_schema_json;   // Empty: the write schema is also the read schema.
  std::string read_schema_path;

  friend bool operator==(const Collection&, const Collection&) = default;
};

struct FieldSelection {
  bool recommended = true;
  std::map<std::string, std::string> include;  // Field -> field config, compact JSON object.
  std::vector<std::string> exclude;

  friend bool operator==(const FieldSelection&, const FieldSelection&) = default;
};

struct MaterializationBinding {
  std::string source;  // A collection declared in the catalog.
  std::string resource_json;
  std::string resource_path;
  FieldSelection fields;
  uint32_t backfill = 0;

  friend bool operator==(const MaterializationBinding&, const MaterializationBinding&) = default;
};

struct Materialization {
  std::string name;
  Endpoint endpoint;
  std::vector<MaterializationBinding> bindings;

  friend bool operator==(const Materialization&, const Materialization&) = default;
};

// Keyed by name so that iteration (and ToYaml) is deterministic.
struct Catalog {
  std::string path;  // The catalog file as given to LoadCatalog.
  std::map<std::string, Capture> captures;
  std::map<std::string, Collection> collections;
  std::map<std::string, Materialization> materializations;

  friend bool operator==(const Catalog&, const Catalog&) = default;
};

// Reads and validates the catalog at `path`.
absl::StatusOr<Catalog> LoadCatalog(const std::string& path);

// The catalog as editable YAML (block style, keys in catalog order, strings quoted only when a
// YAML reader could take them for something else). An empty catalog is "{}\n".
// Precondition: the *_json fields hold valid JSON, as LoadCatalog and MergeDiscovered leave
// them.
std::string ToYaml(const Catalog& catalog);

// One binding a connector's Discover response proposes.
struct DiscoveredBinding {
  std::string recommended_name;  // Collection name below the prefix, e.g. "public/users".
  std::string resource_json;
  std::string document_schema_json;
  std::vector<std::string> key;  // JSON pointers.
  bool disable = false;          // Proposed disabled (used only for new bindings).
};

// Folds a Discover response into capture `capture_name`. Each discovered binding targets the
// collection "<collection_prefix>/<recommended_name>":
//  - a capture binding to that collection is added, or its resource updated (the user's
//    `disable` and `backfill` stay);
//  - the collection is added, or its key and write schema replaced (an explicit read schema
//    stays). A value that changes is inlined: its file path is dropped, the file is untouched.
// Other bindings and collections are left alone. On error nothing is modified: NotFound for an
// unknown capture, InvalidArgument for malformed JSON, keys or names, or two discovered
// bindings with the same name.
absl::Status MergeDiscovered(Catalog& catalog, const std::string& capture_name,
                             const std::vector<DiscoveredBinding>& discovered,
                             std::string_view collection_prefix);

// One YAML document as compact JSON, typed as LoadCatalog types values. Errors carry
// "line:column: key.path: ". Empty text is "null".
absl::StatusOr<std::string> YamlTextToJson(std::string_view yaml);

// Valid JSON text as block-style YAML, ending in a newline; YamlTextToJson reads it back to the
// same compact JSON. Invalid JSON gives an empty string.
std::string JsonToYamlText(std::string_view json);

}  // namespace connectors::local
