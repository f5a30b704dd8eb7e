#include "tests/snapshot/snapshot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace connectors::snapshot {
namespace {

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in{std::string(text)};
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The first differing lines, enough to see what changed.
std::string Diff(std::string_view expected, std::string_view actual) {
  const auto a = Lines(expected);
  const auto b = Lines(actual);
  std::ostringstream out;
  int shown = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) && shown < 10; ++i) {
    const std::string* x = i < a.size() ? &a[i] : nullptr;
    const std::string* y = i < b.size() ? &b[i] : nullptr;
    if (x != nullptr && y != nullptr && *x == *y) continue;
    out << "line " << i + 1 << ":\n";
    if (x != nullptr) out << "  - " << *x << "\n";
    if (y != nullptr) out << "  + " << *y << "\n";
    ++shown;
  }
  return out.str();
}

}  // namespace

std::vector<Mask> DefaultMasks() {
  return {
      {R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))", "<timestamp>"},
      {R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", "<uuid>"},
  };
}

std::string Normalize(std::string_view text, const std::vector<Mask>& masks) {
  std::string out(text);
  for (const auto& mask : masks) {
    out = std::regex_replace(out, std::regex(mask.pattern), mask.replacement);
  }
  return out;
}

void ExpectMatches(const std::string& path, std::string_view actual,
                   const std::vector<Mask>& masks) {
  const std::string normalized = Normalize(actual, masks);
  if (const char* update_dir = std::getenv("SNAPSHOT_UPDATE_DIR"); update_dir != nullptr) {
    const std::filesystem::path target = std::filesystem::path(update_dir) / path;
    std::filesystem::create_directories(target.parent_path());
    std::ofstream(target, std::ios::trunc) << normalized;
    return;
  }
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "snapshot " << path << " is missing (list it in the test's data, or run "
                  << "./scripts/update-snapshots.sh to create it). Output:\n"
                  << normalized;
    return;
  }
  std::stringstream expected;
  expected << file.rdbuf();
  if (expected.str() != normalized) {
    ADD_FAILURE() << "output differs from snapshot " << path
                  << " (run ./scripts/update-snapshots.sh to accept it):\n"
                  << Diff(expected.str(), normalized);
  }
}

}  // namespace connectors::snapshot
