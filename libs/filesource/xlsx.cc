#include "libs/filesource/xlsx.h"

#include <expat.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libs/base/strings.h"
#include "libs/filesource/decompress.h"

namespace connectors::filesource {
namespace {

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  const size_t colon = n.rfind(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

const char* Attribute(const char** attrs, std::string_view name) {
  for (int i = 0; attrs[i] != nullptr; i += 2) {
    if (LocalName(attrs[i]) == name) return attrs[i + 1];
  }
  return nullptr;
}

// Feeds a byte source through an expat parser whose callbacks are `Handler` methods.
template <class Handler>
absl::Status ParseXml(ByteSource& input, Handler& handler, std::string_view what) {
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate("UTF-8"),
                                                                 XML_ParserFree);
  XML_SetUserData(parser.get(), &handler);
  XML_SetElementHandler(
      parser.get(),
      [](void* h, const char* name, const char** attrs) {
        static_cast<Handler*>(h)->Start(LocalName(name), attrs);
      },
      [](void* h, const char* name) { static_cast<Handler*>(h)->End(LocalName(name)); });
  XML_SetCharacterDataHandler(parser.get(), [](void* h, const char* text, int len) {
    static_cast<Handler*>(h)->Text(std::string_view(text, size_t(len)));
  });
  while (true) {
    auto chunk = input.Next();
    if (!chunk.ok()) return chunk.status();
    const bool final = chunk->empty();
    if (XML_Parse(parser.get(), chunk->data(), int(chunk->size()), final) == XML_STATUS_ERROR) {
      return absl::InvalidArgumentError(StrCat(what, ": malformed XML at line ",
                                               XML_GetCurrentLineNumber(parser.get()), ": ",
                                               XML_ErrorString(XML_GetErrorCode(parser.get()))));
    }
    if (!handler.status.ok()) return handler.status;
    if (final) return absl::OkStatus();
  }
}

struct SharedStrings {
  std::vector<std::string> strings;
  std::string current;
  bool in_si = false, in_t = false, in_phonetic = false;
  absl::Status status;

  void Start(std::string_view name, const char**) {
    if (name == "si") in_si = true, current.clear();
    if (name == "rPh") in_phonetic = true;
    if (name == "t" && in_si && !in_phonetic) in_t = true;
  }
  void End(std::string_view name) {
    if (name == "t") in_t = false;
    if (name == "rPh") in_phonetic = false;
    if (name == "si") in_si = false, strings.push_back(std::move(current));
  }
  void Text(std::string_view text) {
    if (in_t) current.append(text);
  }
};

size_t ColumnIndex(std::string_view ref) {
  size_t col = 0;
  for (char c : ref) {
    if (c < 'A' || c > 'Z') break;
    col = col * 26 + size_t(c - 'A' + 1);
  }
  return col == 0 ? 0 : col - 1;
}

std::string ColumnName(size_t index) {
  std::string out;
  for (size_t n = index + 1; n > 0; n = (n - 1) / 26)
    out.insert(out.begin(), char('A' + (n - 1) % 26));
  return out;
}

struct Cell {
  size_t column;
  std::string type;
  std::string value;
};

class Sheet {
 public:
  Sheet(const std::vector<std::string>& strings, DocumentBuilder& docs, RecordSink& sink,
        std::string name)
      : strings_(strings), docs_(docs), sink_(sink), name_(std::move(name)) {}

  absl::Status status;

  void Start(std::string_view name, const char** attrs) {
    if (name == "row") {
      cells_.clear();
      next_column_ = 0;
    } else if (name == "c") {
      const char* ref = Attribute(attrs, "r");
      const char* type = Attribute(attrs, "t");
      cell_ = Cell{ref ? ColumnIndex(ref) : next_column_, type ? type : "n", ""};
      next_column_ = cell_.column + 1;
      in_cell_ = true;
    } else if ((name == "v" || name == "t") && in_cell_) {
      in_value_ = true;
    }
  }
  void End(std::string_view name) {
    if (name == "v" || name == "t") {
      in_value_ = false;
    } else if (name == "c") {
      in_cell_ = false;
      if (!cell_.value.empty() || cell_.type == "inlineStr" || cell_.type == "str") {
        cells_.push_back(std::move(cell_));
      }
    } else if (name == "row" && status.ok()) {
      status = Row();
    }
  }
  void Text(std::string_view text) {
    if (in_value_) cell_.value.append(text);
  }

 private:
  absl::Status Row() {
    if (cells_.empty()) return absl::OkStatus();
    if (headers_.empty()) {
      for (const Cell& cell : cells_) {
        if (headers_.size() <= cell.column) headers_.resize(cell.column + 1);
        headers_[cell.column] = Text(cell);
      }
      for (size_t i = 0; i < headers_.size(); ++i) {
        if (headers_[i].empty()) headers_[i] = ColumnName(i);
      }
      return absl::OkStatus();
    }
    json::Writer& w = docs_.Begin();
    for (const Cell& cell : cells_) {
      w.Key(cell.column < headers_.size() ? headers_[cell.column] : ColumnName(cell.column));
      if (cell.type == "b") {
        w.Bool(cell.value == "1");
      } else if (cell.type == "n") {
        int64_t i;
        double d;
        const char* begin = cell.value.data();
        const char* end = begin + cell.value.size();
        if (auto [p, ec] = std::from_chars(begin, end, i); ec == std::errc() && p == end) {
          w.Int(i);
        } else if (auto [q, ec2] = std::from_chars(begin, end, d); ec2 == std::errc() && q == end) {
          w.Double(d);
        } else {
          docs_.String(cell.value);
        }
      } else {
        docs_.String(Text(cell));
      }
    }
    docs_.set_sheet(name_);
    return docs_.Finish(sink_);
  }

  std::string Text(const Cell& cell) const {
    if (cell.type == "s") {
      size_t index = 0;
      std::from_chars(cell.value.data(), cell.value.data() + cell.value.size(), index);
      return index < strings_.size() ? strings_[index] : "";
    }
    return cell.value;
  }

  const std::vector<std::string>& strings_;
  DocumentBuilder& docs_;
  RecordSink& sink_;
  std::string name_;
  std::vector<std::string> headers_;
  std::vector<Cell> cells_;
  Cell cell_;
  size_t next_column_ = 0;
  bool in_cell_ = false, in_value_ = false;
};

// Reads a spooled temp file back.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(FILE* file) : file_(file), buffer_(64 * 1024, '\0') { std::rewind(file_); }
  absl::StatusOr<std::string_view> Next() override {
    const size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_);
    if (n == 0 && std::ferror(file_)) return absl::InternalError("reading a spooled worksheet");
    return std::string_view(buffer_.data(), n);
  }

 private:
  FILE* file_;
  std::string buffer_;
};

bool IsWorksheet(std::string_view name) {
  return name.rfind("xl/worksheets/", 0) == 0 && name.size() > 18 &&
         name.substr(name.size() - 4) == ".xml" && name.find('/', 14) == std::string_view::npos;
}

std::string SheetName(std::string_view entry) {
  entry.remove_prefix(14);
  return std::string(entry.substr(0, entry.size() - 4));
}

}  // namespace

absl::Status ParseXlsx(ByteSource& archive, DocumentBuilder& docs, RecordSink& sink) {
  ZipStream zip(&archive);
  SharedStrings shared;
  bool have_strings = false;
  std::vector<std::pair<std::string, std::unique_ptr<FILE, int (*)(FILE*)>>> spooled;
  auto parse_sheet = [&](ByteSource& bytes, const std::string& name) {
    Sheet sheet(shared.strings, docs, sink, name);
    return ParseXml(bytes, sheet, StrCat("worksheet ", name));
  };
  while (true) {
    auto more = zip.NextEntry();
    if (!more.ok()) return more.status();
    if (!*more) break;
    const std::string entry = zip.entry_name();
    if (entry == "xl/sharedStrings.xml") {
      if (auto s = ParseXml(zip.entry(), shared, "shared strings"); !s.ok()) return s;
      have_strings = true;
    } else if (IsWorksheet(entry)) {
      // Stream it unless it would overtake a spooled sheet (sheets keep archive order).
      if (have_strings && spooled.empty()) {
        if (auto s = parse_sheet(zip.entry(), SheetName(entry)); !s.ok()) return s;
        continue;
      }
      std::unique_ptr<FILE, int (*)(FILE*)> file(std::tmpfile(), std::fclose);
      if (!file) return absl::InternalError("cannot create a temp file to spool a worksheet");
      while (true) {
        auto chunk = zip.entry().Next();
        if (!chunk.ok()) return chunk.status();
        if (chunk->empty()) break;
        if (std::fwrite(chunk->data(), 1, chunk->size(), file.get()) != chunk->size()) {
          return absl::InternalError("cannot spool a worksheet to a temp file");
        }
      }
      spooled.emplace_back(SheetName(entry), std::move(file));
    }
  }
  for (auto& [name, file] : spooled) {
    FileSource bytes(file.get());
    if (auto s = parse_sheet(bytes, name); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace connectors::filesource
