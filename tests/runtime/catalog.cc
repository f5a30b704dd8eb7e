#include "tests/runtime/catalog.h"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "libs/base/strings.h"
#include "libs/json/parse.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"

namespace connectors::local {
namespace {

// Deep enough for any real schema, shallow enough that simdjson (1024 levels) re-parses the
// output, and a guard against yaml-cpp's self-referencing aliases (`&a [*a]`), which are cycles.
constexpr int kMaxDepth = 512;
// Aliases can multiply a small file into a huge document ("billion laughs").
constexpr size_t kMaxJsonBytes = size_t{64} << 20;

// ---------------------------------------------------------------------------------------------
// Locations and messages.

// A key path for messages: `captures.acmeCo/hello.bindings[0].target`. Keys that would make the
// path ambiguous are quoted: `collections["a.b"]`.
std::string Member(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!key.empty() && key.find_first_of(".[]\" ") == std::string_view::npos) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[';
    json::AppendQuoted(key, &out);
    out += ']';
  }
  return out;
}

std::string Element(std::string_view path, size_t index) { return StrCat(path, "[", index, "]"); }

// A YAML node and where to point when reporting it. Never assign one: YAML::Node's assignment
// operator rewrites the node it refers to (inside the parsed document) instead of rebinding.
struct Located {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
  std::string_view file;  // Empty for YamlTextToJson.
};

Located RootOf(const YAML::Node& node, std::string_view file) {
  return {node, node.Mark(), "", file};
}

// A value written as `key:` with nothing after it is null, and yaml-cpp marks it where the next
// token starts (often the next line); the key is where the user should look.
Located ValueOf(const Located& parent, const YAML::Node& key, const YAML::Node& value,
                std::string_view name) {
  return {value, value.IsNull() ? key.Mark() : value.Mark(), Member(parent.path, name),
          parent.file};
}

Located ItemOf(const Located& parent, const YAML::Node& item, size_t index) {
  return {item, item.IsNull() ? parent.mark : item.Mark(), Element(parent.path, index),
          parent.file};
}

// Runaway nesting (a recursive alias) would bury a message under its path: keep both ends, cut
// at key boundaries so that what is left still reads as a path.
std::string ShortPath(std::string_view path) {
  constexpr size_t kHead = 120, kTail = 60;
  if (path.size() <= kHead + kTail) return std::string(path);
  size_t head = path.find_last_of('.', kHead);
  if (head == std::string_view::npos) head = kHead;
  size_t tail = path.find('.', path.size() - kTail);
  tail = tail == std::string_view::npos ? path.size() - kTail : tail + 1;
  return StrCat(path.substr(0, head), "...", path.substr(tail));
}

absl::Status ErrorAt(std::string_view file, const YAML::Mark& mark, std::string_view path,
                     std::string_view message) {
  std::string out;
  if (!file.empty()) StrAppend(&out, file, ":");
  if (mark.line >= 0) StrAppend(&out, mark.line + 1, ":", mark.column + 1, ":");
  if (!out.empty()) out += ' ';
  if (!path.empty()) StrAppend(&out, ShortPath(path), ": ");
  out += message;
  return absl::InvalidArgumentError(out);
}

absl::Status Error(const Located& at, std::string_view message) {
  return ErrorAt(at.file, at.mark, at.path, message);
}

std::string Quoted(std::string_view text) {
  std::string out;
  json::AppendQuoted(text, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scalar typing, YAML 1.2 core schema.

enum class ScalarKind { kNull, kBool, kInt, kFloat, kString };

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view WithoutSign(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return s;
}

bool IsCoreInt(std::string_view s) {
  if (s.starts_with("0o")) return AllOf(s.substr(2), IsOctal);
  if (s.starts_with("0x")) return AllOf(s.substr(2), IsHex);
  return AllOf(WithoutSign(s), IsDigit);
}

size_t CountDigits(std::string_view s, size_t from) {
  size_t i = from;
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i - from;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFiniteFloat(std::string_view s) {
  s = WithoutSign(s);
  size_t i = CountDigits(s, 0);
  const bool leading_digits = i > 0;
  if (i < s.size() && s[i] == '.') {
    const size_t fraction = CountDigits(s, i + 1);
    if (!leading_digits && fraction == 0) return false;
    i += 1 + fraction;
  } else if (!leading_digits) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t exponent = CountDigits(s, i);
    if (exponent == 0) return false;
    i += exponent;
  }
  return i == s.size();
}

bool IsCoreInfOrNan(std::string_view s) {
  const std::string_view unsigned_part = WithoutSign(s);
  if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") return true;
  return s == ".nan" || s == ".NaN" || s == ".NAN";
}

ScalarKind ResolvePlain(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return ScalarKind::kNull;
  }
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarKind::kBool;
  }
  if (IsCoreInt(s)) return ScalarKind::kInt;
  if (IsCoreFiniteFloat(s) || IsCoreInfOrNan(s)) return ScalarKind::kFloat;
  return ScalarKind::kString;
}

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// The JSON type of a scalar or null node: from its tag when it has one ("!" marks quoted and
// block scalars, which are always strings), otherwise from its plain text.
absl::StatusOr<ScalarKind> KindOf(const Located& at) {
  if (at.node.IsNull()) return ScalarKind::kNull;
  const std::string& tag = at.node.Tag();
  const std::string& text = at.node.Scalar();
  if (tag == "!" || tag == StrCat(kTagPrefix, "str")) return ScalarKind::kString;
  const ScalarKind plain = ResolvePlain(text);
  if (tag == "?") return plain;
  static constexpr std::pair<std::string_view, ScalarKind> kTyped[] = {
      {"null", ScalarKind::kNull},
      {"bool", ScalarKind::kBool},
      {"int", ScalarKind::kInt},
      {"float", ScalarKind::kFloat}};
  for (const auto& [name, kind] : kTyped) {
    if (tag != StrCat(kTagPrefix, name)) continue;
    if (plain == kind || (kind == ScalarKind::kFloat && plain == ScalarKind::kInt)) return kind;
    return Error(at, StrCat(Quoted(text), " is not a valid !!", name));
  }
  return Error(at, StrCat("unsupported tag ", Quoted(tag),
                          " (only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq)"));
}

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

absl::Status WriteInt(const Located& at, std::string_view text, json::Writer& writer) {
  int base = 10;
  std::string_view digits = text;
  if (text.starts_with("0o") || text.starts_with("0x")) {
    base = text[1] == 'o' ? 8 : 16;
    digits.remove_prefix(2);
  } else if (text.starts_with('+')) {
    digits.remove_prefix(1);
  }
  const char* end = digits.data() + digits.size();
  if (digits.starts_with('-')) {
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    if (ec == std::errc() && ptr == end) {
      writer.Int(value);
      return absl::OkStatus();
    }
  } else {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
    if (ec == std::errc() && ptr == end) {
      if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        writer.Int(static_cast<int64_t>(value));
      } else {
        writer.Uint(value);
      }
      return absl::OkStatus();
    }
  }
  return Error(at, StrCat("integer ", text, " does not fit in 64 bits"));
}

absl::Status WriteFloat(const Located& at, std::string_view text, json::Writer& writer) {
  if (IsCoreInfOrNan(text)) {
    return Error(at, StrCat(text, " has no JSON form (JSON numbers are finite)"));
  }
  std::string_view digits = text.starts_with('+') ? text.substr(1) : text;
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return Error(at, StrCat("number ", text, " is out of range"));
  }
  writer.Double(value);
  return absl::OkStatus();
}

absl::Status WriteScalar(const Located& at, json::Writer& writer) {
  absl::StatusOr<ScalarKind> kind = KindOf(at);
  if (!kind.ok()) return kind.status();
  if (*kind == ScalarKind::kNull) {
    writer.Null();
    return absl::OkStatus();
  }
  const std::string& text = at.node.Scalar();
  switch (*kind) {
    case ScalarKind::kBool:
      writer.Bool(text[0] == 't' || text[0] == 'T');
      return absl::OkStatus();
    case ScalarKind::kInt:
      return WriteInt(at, text, writer);
    case ScalarKind::kFloat:
      return WriteFloat(at, text, writer);
    default:
      break;
  }
  if (!ValidUtf8(text)) return Error(at, "string is not valid UTF-8");
  writer.String(text);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Mappings.

struct Entry {
  std::string key;
  Located key_at;
  Located value;
};
using Entries = std::vector<Entry>;

std::string Join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view word : words) StrAppend(&out, out.empty() ? "" : ", ", word);
  return out;
}

std::string_view Describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  if (node.IsNull()) return "null";
  return "a scalar";
}

// The members of a mapping in document order. Keys must be unique strings and, unless `allowed`
// is empty, among `allowed`.
absl::StatusOr<Entries> ReadMapping(const Located& at,
                                    std::initializer_list<std::string_view> allowed) {
  if (!at.node.IsMap()) return Error(at, StrCat("expected a mapping, found ", Describe(at.node)));
  Entries entries;
  std::map<std::string, YAML::Mark> seen;
  for (YAML::const_iterator it = at.node.begin(); it != at.node.end(); ++it) {
    // Copies: `it->` hands out a temporary proxy, so references into it would dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    Located key_at{key, key.Mark(), at.path, at.file};
    if (!key.IsScalar()) {
      return Error(key_at, StrCat("mapping keys must be strings, found ", Describe(key)));
    }
    const std::string& name = key.Scalar();
    if (!ValidUtf8(name)) return Error(key_at, "key is not valid UTF-8");
    const auto [first, inserted] = seen.emplace(name, key.Mark());
    if (!inserted) {
      return Error(key_at, StrCat("duplicate key ", Quoted(name), " (first at line ",
                                  first->second.line + 1, ")"));
    }
    if (allowed.size() > 0 && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return Error(key_at,
                   StrCat("unknown key ", Quoted(name), "; expected one of: ", Join(allowed)));
    }
    entries.push_back({name, key_at, ValueOf(at, key, value, name)});
  }
  return entries;
}

const Located* Find(const Entries& entries, std::string_view key) {
  for (const Entry& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

absl::StatusOr<const Located*> Require(const Located& at, const Entries& entries,
                                       std::string_view key) {
  const Located* value = Find(entries, key);
  if (value == nullptr) return Error(at, StrCat("missing required key ", Quoted(key)));
  return value;
}

// ---------------------------------------------------------------------------------------------
// YAML to JSON.

absl::Status WriteJson(const Located& at, json::Writer& writer, int depth);

absl::Status CheckContainerTag(const Located& at, std::string_view own) {
  const std::string& tag = at.node.Tag();
  if (tag == "?" || tag == "!" || tag == StrCat(kTagPrefix, own)) return absl::OkStatus();
  return Error(
      at, StrCat("unsupported tag ", Quoted(tag), " on a ", own == "map" ? "mapping" : "sequence"));
}

absl::Status WriteMappingJson(const Located& at, json::Writer& writer, int depth) {
  if (absl::Status tag = CheckContainerTag(at, "map"); !tag.ok()) return tag;
  absl::StatusOr<Entries> entries = ReadMapping(at, {});
  if (!entries.ok()) return entries.status();
  writer.BeginObject();
  for (const Entry& entry : *entries) {
    writer.Key(entry.key);
    if (absl::Status s = WriteJson(entry.value, writer, depth + 1); !s.ok()) return s;
  }
  writer.EndObject();
  return absl::OkStatus();
}

absl::Status WriteSequenceJson(const Located& at, json::Writer& writer, int depth) {
  if (absl::Status tag = CheckContainerTag(at, "seq"); !tag.ok()) return tag;
  writer.BeginArray();
  size_t index = 0;
  for (YAML::const_iterator it = at.node.begin(); it != at.node.end(); ++it, ++index) {
    if (absl::Status s = WriteJson(ItemOf(at, *it, index), writer, depth + 1); !s.ok()) return s;
  }
  writer.EndArray();
  return absl::OkStatus();
}

absl::Status WriteJson(const Located& at, json::Writer& writer, int depth) {
  if (depth > kMaxDepth) {
    return Error(at, StrCat("nested deeper than ", kMaxDepth, " levels (or a recursive alias)"));
  }
  if (writer.out()->size() > kMaxJsonBytes) {
    return Error(at, StrCat("value expands to more than ", kMaxJsonBytes >> 20,
                            " MiB of JSON (aliases repeating aliases?)"));
  }
  if (at.node.IsMap()) return WriteMappingJson(at, writer, depth);
  if (at.node.IsSequence()) return WriteSequenceJson(at, writer, depth);
  if (at.node.IsScalar() || at.node.IsNull()) return WriteScalar(at, writer);
  return Error(at, "undefined value");
}

absl::StatusOr<std::string> ToJsonText(const Located& at) {
  std::string out;
  json::Writer writer(&out);
  if (absl::Status s = WriteJson(at, writer, 0); !s.ok()) return s;
  return out;
}

absl::StatusOr<YAML::Node> ParseYaml(std::string_view text, std::string_view file) {
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.empty()) return YAML::Node();
    if (documents.size() > 1) {
      return ErrorAt(file, documents[1].Mark(), "", "expected one YAML document, found several");
    }
    return documents[0];
  } catch (const YAML::Exception& e) {
    return ErrorAt(file, e.mark, "", e.msg);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON to YAML.

constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";

// Decodes the UTF-8 sequence at s[i] (valid UTF-8, as simdjson guarantees) and advances i.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  const int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (int k = 1; k < length && i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  i += length;
  return cp;
}

// Characters a YAML reader may take as line breaks, byte order marks or non-printable, and so
// must be escaped in double quotes: C0 and C1 controls (0x85 is NEL), DEL, U+2028/U+2029, the
// BOM and the non-characters U+FFFE/U+FFFF.
bool NeedsEscape(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
         cp == 0xFFFE || cp == 0xFFFF;
}

bool PrintableExceptNewlines(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = NextCodePoint(s, i);
    if (cp != '\n' && NeedsEscape(cp)) return false;
  }
  return true;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Text that YAML 1.1 readers (PyYAML, older Go yaml) would type: yes/no/on/off words, and
// numbers, dates, times and sexagesimals. Quoting these keeps the file portable.
bool AmbiguousForOtherReaders(std::string_view s) {
  for (std::string_view word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
                                "=", "<<", ".inf", "-.inf", "+.inf", ".nan"}) {
    if (EqualsIgnoringCase(s, word)) return true;
  }
  const std::string_view rest = WithoutSign(s.starts_with('.') ? s.substr(1) : s);
  if (rest.empty() || !IsDigit(rest[0])) return false;
  return s.find_first_not_of("0123456789abcdefABCDEFxXoO_.:+-tTzZ ") == std::string_view::npos;
}

// Whether `s` can be written unquoted in block context and read back as the same string.
bool PlainSafe(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.find('\n') != std::string_view::npos || !PrintableExceptNewlines(s)) return false;
  if (s.starts_with("---") || s.starts_with("...")) return false;
  if (kIndicators.find(s[0]) != std::string_view::npos) {
    // "-foo" and "--flag" are plain; "-" and "- x" start a sequence entry.
    if (s[0] != '-' || s.size() == 1 || s[1] == ' ') return false;
  }
  // Flow indicators are harmless in block context but keep the text valid anywhere.
  if (s.find_first_of(",[]{}") != std::string_view::npos) return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) {
    return false;
  }
  return ResolvePlain(s) == ScalarKind::kString && !AmbiguousForOtherReaders(s);
}

// Multi-line text reads best as a literal block (`|`), which keeps every character as long as
// no line needs an indentation indicator (a leading space or empty first line), no line is only
// spaces (those would be folded into indentation), and it ends in at most one newline.
bool LiteralSafe(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || !PrintableExceptNewlines(s)) return false;
  if (s.front() == ' ' || s.front() == '\n' || s.ends_with("\n\n")) return false;
  if (s.find('\t') != std::string_view::npos) return false;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view line = s.substr(start, end - start);
    if (!line.empty() &&
        (line.find_first_not_of(' ') == std::string_view::npos || line.back() == ' ')) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

void AppendDoubleQuoted(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t cp = NextCodePoint(s, i);
    if (cp == '"' || cp == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out->append("\\n");
    } else if (cp == '\t') {
      out->append("\\t");
    } else if (cp == '\r') {
      out->append("\\r");
    } else if (cp <= 0xFF && NeedsEscape(cp)) {
      StrAppend(out, "\\x", kHex[cp >> 4], kHex[cp & 0xF]);
    } else if (NeedsEscape(cp)) {
      StrAppend(out, "\\u", kHex[(cp >> 12) & 0xF], kHex[(cp >> 8) & 0xF], kHex[(cp >> 4) & 0xF],
                kHex[cp & 0xF]);
    } else {
      out->append(s.substr(start, i - start));
    }
  }
  out->push_back('"');
}

void AppendIndent(int indent, std::string* out) { out->append(static_cast<size_t>(indent), ' '); }

// `|` keeps the final newline, `|-` strips it (LiteralSafe allows at most one).
void AppendLiteral(std::string_view s, int indent, std::string* out) {
  const bool final_newline = s.ends_with('\n');
  if (final_newline) s.remove_suffix(1);
  out->append(final_newline ? "|\n" : "|-\n");
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) {
      AppendIndent(indent, out);
      out->append(s.substr(start, end - start));
    }
    out->push_back('\n');
    start = end + 1;
  }
}

// Writes JSON values as block-style YAML. `indent` is the column of the keys or dashes being
// written; a nested block goes two columns right. `inline_first` means the first key or dash
// continues a line already started by a parent's "- ".
class YamlEmitter {
 public:
  explicit YamlEmitter(std::string* out) : out_(out) {}

  void Document(const simdjson::dom::element& root) {
    if (IsBlock(root)) {
      Block(root, 0, false);
    } else {
      Scalar(root, 2);
    }
  }

 private:
  static bool IsBlock(const simdjson::dom::element& value) {
    if (value.is_object()) return value.get_object().value_unsafe().size() > 0;
    if (value.is_array()) return value.get_array().value_unsafe().size() > 0;
    return false;
  }

  void Block(const simdjson::dom::element& value, int indent, bool inline_first) {
    if (value.is_object()) {
      Mapping(value.get_object().value_unsafe(), indent, inline_first);
    } else {
      Sequence(value.get_array().value_unsafe(), indent, inline_first);
    }
  }

  void Mapping(const simdjson::dom::object& object, int indent, bool inline_first) {
    bool first = true;
    for (const simdjson::dom::key_value_pair& field : object) {
      if (!first || !inline_first) AppendIndent(indent, out_);
      first = false;
      String(field.key);
      out_->push_back(':');
      Value(field.value, indent, /*after_dash=*/false);
    }
  }

  void Sequence(const simdjson::dom::array& array, int indent, bool inline_first) {
    bool first = true;
    for (simdjson::dom::element item : array) {
      if (!first || !inline_first) AppendIndent(indent, out_);
      first = false;
      out_->push_back('-');
      Value(item, indent, /*after_dash=*/true);
    }
  }

  // A value after "key:" or "-". Nested blocks under a key start on the next line; under a dash
  // they continue the dash's line ("- name: x").
  void Value(const simdjson::dom::element& value, int indent, bool after_dash) {
    if (!IsBlock(value)) {
      out_->push_back(' ');
      Scalar(value, indent + 2);
    } else if (after_dash) {
      out_->push_back(' ');
      Block(value, indent + 2, /*inline_first=*/true);
    } else {
      out_->push_back('\n');
      Block(value, indent + 2, /*inline_first=*/false);
    }
  }

  // A scalar or empty container and its line end. `content_indent` positions literal lines.
  void Scalar(const simdjson::dom::element& value, int content_indent) {
    switch (value.type()) {
      case simdjson::dom::element_type::OBJECT:
        out_->append("{}");
        break;
      case simdjson::dom::element_type::ARRAY:
        out_->append("[]");
        break;
      case simdjson::dom::element_type::STRING: {
        const std::string_view text = value.get_string().value_unsafe();
        if (LiteralSafe(text)) {
          AppendLiteral(text, content_indent, out_);
          return;  // Ends with its own newline.
        }
        String(text);
        break;
      }
      default:
        // Numbers, booleans and null are written as JSON writes them, which is also their
        // YAML core schema form.
        out_->append(json::ToJson(value));
        break;
    }
    out_->push_back('\n');
  }

  void String(std::string_view text) {
    if (PlainSafe(text)) {
      out_->append(text);
    } else {
      AppendDoubleQuoted(text, out_);
    }
  }

  std::string* out_;
};

// ---------------------------------------------------------------------------------------------
// Loading the catalog.

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(StrCat("cannot read ", path, ": it is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(StrCat("cannot read ", path));
  return text.str();
}

// Flow names are slash-separated paths: "acmeCo/postgres/users".
std::optional<std::string> NameProblem(std::string_view name) {
  if (name.empty()) return "names must not be empty";
  for (char c : name) {
    if (static_cast<unsigned char>(c) <= ' ') return "names must not contain spaces or controls";
  }
  if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string_view::npos) {
    return "names are paths like acmeCo/name, without empty components";
  }
  return std::nullopt;
}

std::optional<std::string> PointerProblem(std::string_view text) {
  if (!text.starts_with('/')) {
    return StrCat(Quoted(text), " is not a JSON pointer: it must start with '/' (e.g. \"/id\")");
  }
  absl::StatusOr<json::Pointer> pointer = json::Pointer::Parse(text);
  if (!pointer.ok()) {
    return StrCat(Quoted(text), " is not a JSON pointer: ", MessageOf(pointer.status()));
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ReadString(const Located& at) {
  if (!at.node.IsScalar()) return Error(at, StrCat("expected a string, found ", Describe(at.node)));
  if (!ValidUtf8(at.node.Scalar())) return Error(at, "string is not valid UTF-8");
  return at.node.Scalar();
}

absl::StatusOr<bool> ReadBool(const Located& at) {
  absl::StatusOr<ScalarKind> kind = KindOf(at);
  if (!kind.ok()) return kind.status();
  if (*kind != ScalarKind::kBool) return Error(at, "expected true or false");
  const char first = at.node.Scalar()[0];
  return first == 't' || first == 'T';
}

absl::StatusOr<uint32_t> ReadUint32(const Located& at) {
  absl::StatusOr<ScalarKind> kind = KindOf(at);
  if (!kind.ok()) return kind.status();
  uint32_t value = 0;
  if (*kind == ScalarKind::kInt) {
    const std::string& text = at.node.Scalar();
    const std::string_view digits = text.starts_with('+') ? std::string_view(text).substr(1) : text;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && ptr == digits.data() + digits.size()) return value;
  }
  return Error(at, "expected an integer from 0 to 4294967295");
}

absl::StatusOr<std::vector<std::string>> ReadStringList(const Located& at, bool allow_empty) {
  if (!at.node.IsSequence()) {
    return Error(at, StrCat("expected a sequence, found ", Describe(at.node)));
  }
  std::vector<std::string> out;
  size_t index = 0;
  for (YAML::const_iterator it = at.node.begin(); it != at.node.end(); ++it, ++index) {
    absl::StatusOr<std::string> item = ReadString(ItemOf(at, *it, index));
    if (!item.ok()) return item.status();
    out.push_back(std::move(*item));
  }
  if (out.empty() && !allow_empty) return Error(at, "must not be empty");
  return out;
}

absl::StatusOr<absl::Duration> ReadDuration(const Located& at) {
  absl::StatusOr<std::string> text = ReadString(at);
  if (!text.ok()) return text.status();
  absl::Duration duration;
  if (!absl::ParseDuration(*text, &duration) || duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return Error(at, StrCat("invalid duration ", Quoted(*text),
                            ": expected a positive duration such as 30s, 5m or 1h30m"));
  }
  return duration;
}

// Reads one catalog file. Keeps no state beyond the file's location, so errors can name it.
class Loader {
 public:
  explicit Loader(const std::string& path)
      : path_(path), dir_(std::filesystem::path(path).parent_path().string()) {}

  absl::StatusOr<Catalog> Load() {
    absl::StatusOr<std::string> text = ReadFile(path_);
    if (!text.ok()) return text.status();
    absl::StatusOr<YAML::Node> root = ParseYaml(*text, path_);
    if (!root.ok()) return root.status();
    Catalog catalog;
    catalog.path = path_;
    const Located at = RootOf(*root, path_);
    if (at.node.IsNull()) return catalog;
    absl::StatusOr<Entries> top = ReadMapping(at, {"captures", "collections", "materializations"});
    if (!top.ok()) return top.status();
    // Collections first: bindings refer to them.
    if (absl::Status s =
            ReadSection(*top, "collections", catalog.collections, &Loader::ReadCollection, catalog);
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            ReadSection(*top, "captures", catalog.captures, &Loader::ReadCapture, catalog);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = ReadSection(*top, "materializations", catalog.materializations,
                                     &Loader::ReadMaterialization, catalog);
        !s.ok()) {
      return s;
    }
    return catalog;
  }

 private:
  template <class T>
  using ReadFn = absl::StatusOr<T> (Loader::*)(const std::string&, const Located&, const Catalog&);

  // A top-level section: a mapping from names to specs. Absent or null is empty.
  template <class T>
  absl::Status ReadSection(const Entries& top, std::string_view section,
                           std::map<std::string, T>& out, ReadFn<T> read, const Catalog& catalog) {
    const Located* at = Find(top, section);
    if (at == nullptr || at->node.IsNull()) return absl::OkStatus();
    absl::StatusOr<Entries> entries = ReadMapping(*at, {});
    if (!entries.ok()) return entries.status();
    for (const Entry& entry : *entries) {
      if (std::optional<std::string> problem = NameProblem(entry.key)) {
        return Error(entry.key_at, StrCat(Quoted(entry.key), ": ", *problem));
      }
      absl::StatusOr<T> item = (this->*read)(entry.key, entry.value, catalog);
      if (!item.ok()) return item.status();
      out.emplace(entry.key, std::move(*item));
    }
    return absl::OkStatus();
  }

  // An inline mapping, or a string naming a YAML or JSON file relative to the catalog. The
  // file's name as written goes to *path (empty for inline values).
  absl::StatusOr<std::string> ReadObject(const Located& at, std::string* path) {
    path->clear();
    if (at.node.IsMap()) return ToJsonText(at);
    absl::StatusOr<ScalarKind> kind = KindOf(at);
    if (at.node.IsScalar() && kind.ok() && *kind == ScalarKind::kString) {
      *path = at.node.Scalar();
      return ReadObjectFile(at, *path);
    }
    return Error(at, StrCat("expected a mapping or a file path, found ", Describe(at.node)));
  }

  absl::StatusOr<std::string> ReadObjectFile(const Located& at, const std::string& reference) {
    const std::filesystem::path relative(reference);
    const std::string file =
        relative.is_absolute() ? reference : (std::filesystem::path(dir_) / relative).string();
    absl::StatusOr<std::string> text = ReadFile(file);
    if (!text.ok()) return Error(at, MessageOf(text.status()));
    if (file.ends_with(".json")) {
      json::Parser parser;
      absl::StatusOr<simdjson::dom::element> root = parser.Parse(*text);
      if (!root.ok()) return Error(at, StrCat(file, ": ", MessageOf(root.status())));
      if (!root->is_object()) return Error(at, StrCat(file, ": expected a JSON object"));
      return json::ToJson(*root);
    }
    absl::StatusOr<YAML::Node> root = ParseYaml(*text, file);
    if (!root.ok()) return root.status();
    const Located file_at = RootOf(*root, file);
    if (!file_at.node.IsMap()) {
      return Error(at, StrCat(file, ": expected a mapping, found ", Describe(file_at.node)));
    }
    return ToJsonText(file_at);
  }

  absl::Status CheckDeclared(const Located& at, const std::string& collection,
                             const Catalog& catalog) {
    if (catalog.collections.contains(collection)) return absl::OkStatus();
    return Error(at,
                 StrCat("collection ", Quoted(collection), " is not declared under collections"));
  }

  absl::StatusOr<Collection> ReadCollection(const std::string& name, const Located& at,
                                            const Catalog&) {
    absl::StatusOr<Entries> entries =
        ReadMapping(at, {"key", "schema", "writeSchema", "readSchema"});
    if (!entries.ok()) return entries.status();
    Collection collection;
    collection.name = name;
    absl::StatusOr<const Located*> key = Require(at, *entries, "key");
    if (!key.ok()) return key.status();
    absl::Status pointers = ForEachItem(*key, [&](const Located& item, size_t) -> absl::Status {
      absl::StatusOr<std::string> pointer = ReadString(item);
      if (!pointer.ok()) return pointer.status();
      if (std::optional<std::string> problem = PointerProblem(*pointer)) {
        return Error(item, *problem);
      }
      collection.key.push_back(std::move(*pointer));
      return absl::OkStatus();
    });
    if (!pointers.ok()) return pointers;
    if (collection.key.empty())
      return Error(**key, "expected a sequence of JSON pointers such as [/id]");
    if (absl::Status s = ReadSchemas(at, *entries, collection); !s.ok()) return s;
    return collection;
  }

  // Either `schema`, or both `writeSchema` and `readSchema`.
  absl::Status ReadSchemas(const Located& at, const Entries& entries, Collection& collection) {
    const Located* schema = Find(entries, "schema");
    const Located* write = Find(entries, "writeSchema");
    const Located* read = Find(entries, "readSchema");
    if (schema != nullptr && (write != nullptr || read != nullptr)) {
      return Error(*schema, "use either schema, or writeSchema and readSchema, not both");
    }
    if (schema == nullptr && (write == nullptr || read == nullptr)) {
      return Error(at, schema == nullptr && write == nullptr && read == nullptr
                           ? "missing required key \"schema\" (or writeSchema and readSchema)"
                           : "writeSchema and readSchema go together; give both or use schema");
    }
    absl::StatusOr<std::string> write_json =
        ReadObject(schema != nullptr ? *schema : *write, &collection.write_schema_path);
    if (!write_json.ok()) return write_json.status();
    collection.write_schema_json = std::move(*write_json);
    if (read == nullptr) return absl::OkStatus();
    absl::StatusOr<std::string> read_json = ReadObject(*read, &collection.read_schema_path);
    if (!read_json.ok()) return read_json.status();
    collection.read_schema_json = std::move(*read_json);
    return absl::OkStatus();
  }

  absl::StatusOr<std::map<std::string, std::string>> ReadEnv(const Located& at) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {});
    if (!entries.ok()) return entries.status();
    std::map<std::string, std::string> env;
    for (const Entry& entry : *entries) {
      if (entry.key.empty() || entry.key.find('=') != std::string::npos) {
        return Error(entry.key_at, StrCat(Quoted(entry.key), " is not a variable name"));
      }
      absl::StatusOr<std::string> value = ReadString(entry.value);
      if (!value.ok()) return value.status();
      env.emplace(entry.key, std::move(*value));
    }
    return env;
  }

  absl::StatusOr<Entries> ReadEndpointMapping(const Located& at, Endpoint::Kind kind) {
    switch (kind) {
      case Endpoint::Kind::kLocal:
        return ReadMapping(at, {"command", "env", "protobuf", "config"});
      case Endpoint::Kind::kImage:
        return ReadMapping(at, {"image", "env", "config"});
      case Endpoint::Kind::kGrpc:
        break;
    }
    return ReadMapping(at, {"address", "config"});
  }

  // The fields of one endpoint form (`local`, `connector` or `grpc`).
  absl::Status ReadEndpointForm(const Located& at, Endpoint& endpoint) {
    absl::StatusOr<Entries> entries = ReadEndpointMapping(at, endpoint.kind);
    if (!entries.ok()) return entries.status();
    if (absl::Status s = ReadEndpointTarget(at, *entries, endpoint); !s.ok()) return s;
    if (const Located* env = Find(*entries, "env")) {
      absl::StatusOr<std::map<std::string, std::string>> vars = ReadEnv(*env);
      if (!vars.ok()) return vars.status();
      endpoint.env = std::move(*vars);
    }
    if (const Located* protobuf = Find(*entries, "protobuf")) {
      absl::StatusOr<bool> value = ReadBool(*protobuf);
      if (!value.ok()) return value.status();
      endpoint.protobuf = *value;
    }
    absl::StatusOr<const Located*> config = Require(at, *entries, "config");
    if (!config.ok()) return config.status();
    absl::StatusOr<std::string> config_json = ReadObject(**config, &endpoint.config_path);
    if (!config_json.ok()) return config_json.status();
    endpoint.config_json = std::move(*config_json);
    return absl::OkStatus();
  }

  // What to run or dial: command, image or address.
  absl::Status ReadEndpointTarget(const Located& at, const Entries& entries, Endpoint& endpoint) {
    if (endpoint.kind == Endpoint::Kind::kLocal) {
      absl::StatusOr<const Located*> command = Require(at, entries, "command");
      if (!command.ok()) return command.status();
      absl::StatusOr<std::vector<std::string>> argv = ReadStringList(**command, false);
      if (!argv.ok()) return argv.status();
      if ((*argv)[0].empty()) return Error(**command, "the program name must not be empty");
      endpoint.command = std::move(*argv);
      return absl::OkStatus();
    }
    const bool image = endpoint.kind == Endpoint::Kind::kImage;
    absl::StatusOr<const Located*> field = Require(at, entries, image ? "image" : "address");
    if (!field.ok()) return field.status();
    absl::StatusOr<std::string> value = ReadString(**field);
    if (!value.ok()) return value.status();
    if (value->empty()) return Error(**field, "must not be empty");
    (image ? endpoint.image : endpoint.address) = std::move(*value);
    return absl::OkStatus();
  }

  absl::StatusOr<Endpoint> ReadEndpoint(const Located& at) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {"local", "connector", "grpc"});
    if (!entries.ok()) return entries.status();
    if (entries->size() != 1) {
      std::string found;
      for (const Entry& entry : *entries) StrAppend(&found, found.empty() ? "" : ", ", entry.key);
      return Error(at, StrCat("needs exactly one of local, connector, grpc; found ",
                              found.empty() ? "none" : found));
    }
    const Entry& form = entries->front();
    Endpoint endpoint;
    endpoint.kind = form.key == "local"       ? Endpoint::Kind::kLocal
                    : form.key == "connector" ? Endpoint::Kind::kImage
                                              : Endpoint::Kind::kGrpc;
    if (absl::Status s = ReadEndpointForm(form.value, endpoint); !s.ok()) return s;
    return endpoint;
  }

  // Calls read(item, index) for each item of an optional sequence (absent or null is empty).
  template <class Fn>
  absl::Status ForEachItem(const Located* at, Fn read) {
    if (at == nullptr || at->node.IsNull()) return absl::OkStatus();
    if (!at->node.IsSequence()) {
      return Error(*at, StrCat("expected a sequence, found ", Describe(at->node)));
    }
    size_t index = 0;
    for (YAML::const_iterator it = at->node.begin(); it != at->node.end(); ++it, ++index) {
      if (absl::Status s = read(ItemOf(*at, *it, index), index); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Capture> ReadCapture(const std::string& name, const Located& at,
                                      const Catalog& catalog) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {"endpoint", "interval", "bindings"});
    if (!entries.ok()) return entries.status();
    Capture capture;
    capture.name = name;
    absl::StatusOr<const Located*> endpoint_at = Require(at, *entries, "endpoint");
    if (!endpoint_at.ok()) return endpoint_at.status();
    absl::StatusOr<Endpoint> endpoint = ReadEndpoint(**endpoint_at);
    if (!endpoint.ok()) return endpoint.status();
    capture.endpoint = std::move(*endpoint);
    if (const Located* interval = Find(*entries, "interval")) {
      absl::StatusOr<absl::Duration> duration = ReadDuration(*interval);
      if (!duration.ok()) return duration.status();
      capture.interval = *duration;
    }
    std::map<std::string, size_t> targets;  // Collection -> first binding index.
    absl::Status bindings = ForEachItem(
        Find(*entries, "bindings"), [&](const Located& item, size_t index) -> absl::Status {
          absl::StatusOr<CaptureBinding> binding = ReadCaptureBinding(item, catalog);
          if (!binding.ok()) return binding.status();
          const auto [first, inserted] = targets.emplace(binding->target, index);
          if (!inserted) {
            return Error(item, StrCat("collection ", Quoted(binding->target),
                                      " is already the target of bindings[", first->second, "]"));
          }
          capture.bindings.push_back(std::move(*binding));
          return absl::OkStatus();
        });
    if (!bindings.ok()) return bindings;
    return capture;
  }

  absl::StatusOr<CaptureBinding> ReadCaptureBinding(const Located& at, const Catalog& catalog) {
    absl::StatusOr<Entries> entries =
        ReadMapping(at, {"resource", "target", "disable", "backfill"});
    if (!entries.ok()) return entries.status();
    CaptureBinding binding;
    absl::StatusOr<const Located*> resource = Require(at, *entries, "resource");
    if (!resource.ok()) return resource.status();
    absl::StatusOr<std::string> resource_json = ReadObject(**resource, &binding.resource_path);
    if (!resource_json.ok()) return resource_json.status();
    binding.resource_json = std::move(*resource_json);
    absl::StatusOr<const Located*> target_at = Require(at, *entries, "target");
    if (!target_at.ok()) return target_at.status();
    absl::StatusOr<std::string> target = ReadString(**target_at);
    if (!target.ok()) return target.status();
    if (absl::Status s = CheckDeclared(**target_at, *target, catalog); !s.ok()) return s;
    binding.target = std::move(*target);
    if (const Located* disable = Find(*entries, "disable")) {
      absl::StatusOr<bool> value = ReadBool(*disable);
      if (!value.ok()) return value.status();
      binding.disable = *value;
    }
    if (const Located* backfill = Find(*entries, "backfill")) {
      absl::StatusOr<uint32_t> value = ReadUint32(*backfill);
      if (!value.ok()) return value.status();
      binding.backfill = *value;
    }
    return binding;
  }

  absl::StatusOr<Materialization> ReadMaterialization(const std::string& name, const Located& at,
                                                      const Catalog& catalog) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {"endpoint", "bindings"});
    if (!entries.ok()) return entries.status();
    Materialization materialization;
    materialization.name = name;
    absl::StatusOr<const Located*> endpoint_at = Require(at, *entries, "endpoint");
    if (!endpoint_at.ok()) return endpoint_at.status();
    absl::StatusOr<Endpoint> endpoint = ReadEndpoint(**endpoint_at);
    if (!endpoint.ok()) return endpoint.status();
    materialization.endpoint = std::move(*endpoint);
    absl::Status bindings =
        ForEachItem(Find(*entries, "bindings"), [&](const Located& item, size_t) -> absl::Status {
          absl::StatusOr<MaterializationBinding> binding =
              ReadMaterializationBinding(item, catalog);
          if (!binding.ok()) return binding.status();
          materialization.bindings.push_back(std::move(*binding));
          return absl::OkStatus();
        });
    if (!bindings.ok()) return bindings;
    return materialization;
  }

  absl::StatusOr<MaterializationBinding> ReadMaterializationBinding(const Located& at,
                                                                    const Catalog& catalog) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {"source", "resource", "fields", "backfill"});
    if (!entries.ok()) return entries.status();
    MaterializationBinding binding;
    absl::StatusOr<const Located*> source_at = Require(at, *entries, "source");
    if (!source_at.ok()) return source_at.status();
    absl::StatusOr<std::string> source = ReadString(**source_at);
    if (!source.ok()) return source.status();
    if (absl::Status s = CheckDeclared(**source_at, *source, catalog); !s.ok()) return s;
    binding.source = std::move(*source);
    absl::StatusOr<const Located*> resource = Require(at, *entries, "resource");
    if (!resource.ok()) return resource.status();
    absl::StatusOr<std::string> resource_json = ReadObject(**resource, &binding.resource_path);
    if (!resource_json.ok()) return resource_json.status();
    binding.resource_json = std::move(*resource_json);
    if (const Located* fields = Find(*entries, "fields")) {
      absl::StatusOr<FieldSelection> selection = ReadFields(*fields);
      if (!selection.ok()) return selection.status();
      binding.fields = std::move(*selection);
    }
    if (const Located* backfill = Find(*entries, "backfill")) {
      absl::StatusOr<uint32_t> value = ReadUint32(*backfill);
      if (!value.ok()) return value.status();
      binding.backfill = *value;
    }
    return binding;
  }

  absl::StatusOr<FieldSelection> ReadFields(const Located& at) {
    absl::StatusOr<Entries> entries = ReadMapping(at, {"recommended", "include", "exclude"});
    if (!entries.ok()) return entries.status();
    FieldSelection fields;
    if (const Located* recommended = Find(*entries, "recommended")) {
      absl::StatusOr<bool> value = ReadBool(*recommended);
      if (!value.ok()) return value.status();
      fields.recommended = *value;
    }
    if (const Located* include = Find(*entries, "include")) {
      absl::StatusOr<Entries> included = ReadMapping(*include, {});
      if (!included.ok()) return included.status();
      for (const Entry& entry : *included) {
        if (!entry.value.node.IsMap()) {
          return Error(entry.value,
                       StrCat("expected a mapping of field options (use {} for none), found ",
                              Describe(entry.value.node)));
        }
        absl::StatusOr<std::string> config = ToJsonText(entry.value);
        if (!config.ok()) return config.status();
        fields.include.emplace(entry.key, std::move(*config));
      }
    }
    if (const Located* exclude = Find(*entries, "exclude")) {
      absl::StatusOr<std::vector<std::string>> names = ReadStringList(*exclude, true);
      if (!names.ok()) return names.status();
      fields.exclude = std::move(*names);
    }
    return fields;
  }

  const std::string path_;
  const std::string dir_;
};

// ---------------------------------------------------------------------------------------------
// Writing the catalog.

// An inline object, or the path it was loaded from.
void WriteObjectOrPath(json::Writer& writer, std::string_view key, const std::string& json,
                       const std::string& path) {
  writer.Key(key);
  if (!path.empty()) {
    writer.String(path);
  } else if (json.empty()) {
    writer.BeginObject().EndObject();
  } else {
    writer.Raw(json);
  }
}

void WriteStringMap(json::Writer& writer, const std::map<std::string, std::string>& map) {
  writer.BeginObject();
  for (const auto& [key, value] : map) writer.Key(key).String(value);
  writer.EndObject();
}

void WriteEndpoint(json::Writer& writer, const Endpoint& endpoint) {
  writer.Key("endpoint").BeginObject();
  switch (endpoint.kind) {
    case Endpoint::Kind::kLocal:
      writer.Key("local").BeginObject().Key("command").BeginArray();
      for (const std::string& arg : endpoint.command) writer.String(arg);
      writer.EndArray();
      break;
    case Endpoint::Kind::kImage:
      writer.Key("connector").BeginObject().Key("image").String(endpoint.image);
      break;
    case Endpoint::Kind::kGrpc:
      writer.Key("grpc").BeginObject().Key("address").String(endpoint.address);
      break;
  }
  if (!endpoint.env.empty() && endpoint.kind != Endpoint::Kind::kGrpc) {
    writer.Key("env");
    WriteStringMap(writer, endpoint.env);
  }
  if (endpoint.protobuf && endpoint.kind == Endpoint::Kind::kLocal) {
    writer.Key("protobuf").Bool(true);
  }
  WriteObjectOrPath(writer, "config", endpoint.config_json, endpoint.config_path);
  writer.EndObject().EndObject();
}

void WriteCapture(json::Writer& writer, const Capture& capture) {
  writer.Key(capture.name).BeginObject();
  WriteEndpoint(writer, capture.endpoint);
  if (capture.interval.has_value()) {
    writer.Key("interval").String(absl::FormatDuration(*capture.interval));
  }
  writer.Key("bindings").BeginArray();
  for (const CaptureBinding& binding : capture.bindings) {
    writer.BeginObject();
    WriteObjectOrPath(writer, "resource", binding.resource_json, binding.resource_path);
    writer.Key("target").String(binding.target);
    if (binding.disable) writer.Key("disable").Bool(true);
    if (binding.backfill != 0) writer.Key("backfill").Uint(binding.backfill);
    writer.EndObject();
  }
  writer.EndArray().EndObject();
}

void WriteCollection(json::Writer& writer, const Collection& collection) {
  writer.Key(collection.name).BeginObject().Key("key").BeginArray();
  for (const std::string& pointer : collection.key) writer.String(pointer);
  writer.EndArray();
  if (collection.read_schema_json.empty() && collection.read_schema_path.empty()) {
    WriteObjectOrPath(writer, "schema", collection.write_schema_json, collection.write_schema_path);
  } else {
    WriteObjectOrPath(writer, "writeSchema", collection.write_schema_json,
                      collection.write_schema_path);
    WriteObjectOrPath(writer, "readSchema", collection.read_schema_json,
                      collection.read_schema_path);
  }
  writer.EndObject();
}

void WriteFields(json::Writer& writer, const FieldSelection& fields) {
  if (fields == FieldSelection()) return;
  writer.Key("fields").BeginObject().Key("recommended").Bool(fields.recommended);
  if (!fields.include.empty()) {
    writer.Key("include").BeginObject();
    for (const auto& [field, config] : fields.include) {
      writer.Key(field);
      if (config.empty()) {
        writer.BeginObject().EndObject();
      } else {
        writer.Raw(config);
      }
    }
    writer.EndObject();
  }
  if (!fields.exclude.empty()) {
    writer.Key("exclude").BeginArray();
    for (const std::string& field : fields.exclude) writer.String(field);
    writer.EndArray();
  }
  writer.EndObject();
}

void WriteMaterialization(json::Writer& writer, const Materialization& materialization) {
  writer.Key(materialization.name).BeginObject();
  WriteEndpoint(writer, materialization.endpoint);
  writer.Key("bindings").BeginArray();
  for (const MaterializationBinding& binding : materialization.bindings) {
    writer.BeginObject().Key("source").String(binding.source);
    WriteObjectOrPath(writer, "resource", binding.resource_json, binding.resource_path);
    WriteFields(writer, binding.fields);
    if (binding.backfill != 0) writer.Key("backfill").Uint(binding.backfill);
    writer.EndObject();
  }
  writer.EndArray().EndObject();
}

// Appends `yaml` shifted two columns right. Empty lines stay empty: inside a literal block they
// are content either way, and trailing spaces would only add noise.
void AppendIndented(std::string_view yaml, std::string* out) {
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string_view::npos) end = yaml.size();
    if (end > start) StrAppend(out, "  ", yaml.substr(start, end - start));
    out->push_back('\n');
    start = end + 1;
  }
}

// One top-level section, or nothing when it is empty. A blank line goes before each section and
// between its entries, which reads better than one unbroken block.
template <class T>
void AppendSection(std::string_view name, const std::map<std::string, T>& items,
                   void (*write)(json::Writer&, const T&), std::string* out) {
  if (items.empty()) return;
  if (!out->empty()) out->push_back('\n');
  StrAppend(out, name, ":\n");
  bool first = true;
  for (const auto& [key, item] : items) {
    if (!first) out->push_back('\n');
    first = false;
    std::string json_text;
    json::Writer writer(&json_text);
    writer.BeginObject();
    write(writer, item);
    writer.EndObject();
    AppendIndented(JsonToYamlText(json_text), out);
  }
}

// ---------------------------------------------------------------------------------------------
// Merging a Discover response.

struct Proposal {
  std::string target;
  std::string resource_json;
  std::string schema_json;
  std::vector<std::string> key;
  bool disable = false;
};

// The compact form of a JSON object, so that equal values compare equal as text.
absl::StatusOr<std::string> CompactObject(std::string_view text, std::string_view what) {
  json::Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(text);
  if (!root.ok()) return absl::InvalidArgumentError(StrCat(what, ": ", MessageOf(root.status())));
  if (!root->is_object())
    return absl::InvalidArgumentError(StrCat(what, ": expected a JSON object"));
  return json::ToJson(*root);
}

absl::StatusOr<Proposal> Propose(const DiscoveredBinding& discovered, std::string_view prefix,
                                 size_t index) {
  const std::string where =
      StrCat("discovered binding ", index, " (", Quoted(discovered.recommended_name), ")");
  Proposal proposal;
  proposal.target = StrCat(prefix, "/", discovered.recommended_name);
  if (std::optional<std::string> problem = NameProblem(discovered.recommended_name)) {
    return absl::InvalidArgumentError(StrCat(where, ": ", *problem));
  }
  absl::StatusOr<std::string> resource =
      CompactObject(discovered.resource_json, StrCat(where, ": resource"));
  if (!resource.ok()) return resource.status();
  absl::StatusOr<std::string> schema =
      CompactObject(discovered.document_schema_json, StrCat(where, ": document schema"));
  if (!schema.ok()) return schema.status();
  if (discovered.key.empty()) return absl::InvalidArgumentError(StrCat(where, ": empty key"));
  for (const std::string& pointer : discovered.key) {
    if (std::optional<std::string> problem = PointerProblem(pointer)) {
      return absl::InvalidArgumentError(StrCat(where, ": key: ", *problem));
    }
  }
  proposal.resource_json = std::move(*resource);
  proposal.schema_json = std::move(*schema);
  proposal.key = discovered.key;
  proposal.disable = discovered.disable;
  return proposal;
}

void ApplyToCapture(const Proposal& proposal, Capture& capture) {
  for (CaptureBinding& binding : capture.bindings) {
    if (binding.target != proposal.target) continue;
    if (binding.resource_json != proposal.resource_json) {
      binding.resource_json = proposal.resource_json;
      binding.resource_path.clear();
    }
    return;
  }
  capture.bindings.push_back({.resource_json = proposal.resource_json,
                              .target = proposal.target,
                              .disable = proposal.disable});
}

void ApplyToCollections(const Proposal& proposal, std::map<std::string, Collection>& collections) {
  auto [it, added] = collections.try_emplace(proposal.target);
  Collection& collection = it->second;
  if (added) collection.name = proposal.target;
  collection.key = proposal.key;
  if (collection.write_schema_json != proposal.schema_json) {
    collection.write_schema_json = proposal.schema_json;
    collection.write_schema_path.clear();
  }
}

}  // namespace

absl::StatusOr<Catalog> LoadCatalog(const std::string& path) {
  try {
    return Loader(path).Load();
  } catch (const YAML::Exception& e) {
    // The loader only reads nodes it has type-checked; this is a safety net, not a code path.
    return ErrorAt(path, e.mark, "", StrCat("YAML error: ", e.msg));
  }
}

std::string ToYaml(const Catalog& catalog) {
  std::string out;
  AppendSection<Capture>("captures", catalog.captures, &WriteCapture, &out);
  AppendSection<Collection>("collections", catalog.collections, &WriteCollection, &out);
  AppendSection<Materialization>("materializations", catalog.materializations,
                                 &WriteMaterialization, &out);
  return out.empty() ? "{}\n" : out;
}

absl::Status MergeDiscovered(Catalog& catalog, const std::string& capture_name,
                             const std::vector<DiscoveredBinding>& discovered,
                             std::string_view collection_prefix) {
  auto capture = catalog.captures.find(capture_name);
  if (capture == catalog.captures.end()) {
    return absl::NotFoundError(StrCat("capture ", Quoted(capture_name), " is not in the catalog"));
  }
  while (collection_prefix.ends_with('/')) collection_prefix.remove_suffix(1);
  if (std::optional<std::string> problem = NameProblem(collection_prefix)) {
    return absl::InvalidArgumentError(
        StrCat("collection prefix ", Quoted(collection_prefix), ": ", *problem));
  }
  // Check everything before changing anything.
  std::vector<Proposal> proposals;
  std::set<std::string> targets;
  for (size_t i = 0; i < discovered.size(); ++i) {
    absl::StatusOr<Proposal> proposal = Propose(discovered[i], collection_prefix, i);
    if (!proposal.ok()) return proposal.status();
    if (!targets.insert(proposal->target).second) {
      return absl::InvalidArgumentError(StrCat("discovered binding ", i,
                                               ": two bindings are named ",
                                               Quoted(discovered[i].recommended_name)));
    }
    proposals.push_back(std::move(*proposal));
  }
  for (const Proposal& proposal : proposals) {
    ApplyToCapture(proposal, capture->second);
    ApplyToCollections(proposal, catalog.collections);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> YamlTextToJson(std::string_view yaml) {
  try {
    absl::StatusOr<YAML::Node> root = ParseYaml(yaml, "");
    if (!root.ok()) return root.status();
    return ToJsonText(RootOf(*root, ""));
  } catch (const YAML::Exception& e) {
    return ErrorAt("", e.mark, "", StrCat("YAML error: ", e.msg));
  }
}

std::string JsonToYamlText(std::string_view json) {
  json::Parser parser;
  absl::StatusOr<simdjson::dom::element> root = parser.Parse(json);
  if (!root.ok()) return "";
  std::string out;
  YamlEmitter(&out).Document(*root);
  return out;
}

}  // namespace connectors::local
