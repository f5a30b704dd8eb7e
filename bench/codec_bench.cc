// Throughput of a capture's document output, and of the runtime's reading of it, in both codecs,
// beside the physical limit of the same bytes measured in the same run:
//   write: FrameWriter::WriteCaptured and FrameWriter::Write(Response) to /dev/null, against
//          raw write() of the pre-encoded frames in FrameWriter's 64 KiB chunks;
//   read:  FrameReader::Next from a memfd holding the frames, against raw read() of that memfd.
// Dividing by a limit measured on the same machine in the same run keeps the ratios comparable
// across machines and load, where absolute rates are not.
//
// Usage: codec_bench [--seconds=S] [--repeats=N]  (defaults 0.8 and 3: ten measurements, 25 s).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/base/strings.h"
#include "libs/connector/codec.h"
#include "proto/capture.pb.h"

namespace connectors::bench {
namespace {

using codec::Codec;

constexpr size_t kDocBytes = 200;
// About 0.9 MB of frames per pass: several FrameWriter flushes per pass, and a working set
// larger than L2, as a capture streaming fresh rows has.
constexpr size_t kDocCount = 4096;
constexpr uint32_t kBindings = 3;
// FrameWriter writes through once its buffer passes 64 KiB and FrameReader reads 64 KiB at a
// time; the raw baselines use the same size so that only the per-byte work differs.
constexpr size_t kChunk = size_t{64} << 10;

struct Options {
  double seconds = 0.8;  // Minimum duration of one timed run of one measurement.
  int repeats = 3;       // Runs per measurement; the fastest counts.
};

// ----------------------------------------------------------------------------------------------
// Errors: a benchmark that silently measured a failing path would report nonsense.

[[noreturn]] void Fail(std::string_view what) {
  std::fprintf(stderr, "codec_bench: %.*s\n", static_cast<int>(what.size()), what.data());
  std::exit(1);
}

void Check(const absl::Status& status, std::string_view what) {
  if (!status.ok()) Fail(StrCat(what, ": ", MessageOf(status)));
}

void CheckSyscall(bool ok, std::string_view what) {
  if (!ok) Fail(StrCat(what, ": ", std::strerror(errno)));
}

// ----------------------------------------------------------------------------------------------
// Documents: varied, realistic rows of exactly kDocBytes, generated once before any timing.

struct Document {
  uint32_t binding;
  std::string json;
};

constexpr std::string_view kFirstNames[] = {"Ada",     "Grace",    "Alan",  "Edsger",
                                            "Barbara", "Donald",   "Ken",   "Frances",
                                            "Niklaus", "Margaret", "Radia", "John"};
constexpr std::string_view kLastNames[] = {"Lovelace", "Hopper",   "Turing",   "Dijkstra",
                                           "Liskov",   "Knuth",    "Thompson", "Allen",
                                           "Wirth",    "Hamilton", "Perlman",  "Backus"};
constexpr std::string_view kCities[] = {"Lisbon", "Osaka",  "Nairobi", "Toronto",
                                        "Lyon",   "Austin", "Pune",    "Bergen"};
constexpr std::string_view kWords[] = {"express", "gift",    "repeat",  "customer", "late",
                                       "bulk",    "fragile", "weekend", "priority", "return"};

// `value` in decimal, zero-padded to `width` digits.
std::string Padded(int64_t value, size_t width) {
  std::string digits = StrCat(value);
  return digits.size() >= width ? digits : std::string(width - digits.size(), '0') + digits;
}

// RFC 3339 with milliseconds, as captures emit source timestamps.
std::string Timestamp(std::chrono::sys_time<std::chrono::milliseconds> t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{t - day};
  return StrCat(static_cast<int>(date.year()), "-", Padded(unsigned{date.month()}, 2), "-",
                Padded(unsigned{date.day()}, 2), "T", Padded(time.hours().count(), 2), ":",
                Padded(time.minutes().count(), 2), ":", Padded(time.seconds().count(), 2), ".",
                Padded(time.subseconds().count(), 3), "Z");
}

// Free text of exactly `length` bytes, so that every document has the same size.
std::string Note(size_t length, std::mt19937_64& rng) {
  std::string note;
  while (note.size() < length) {
    if (!note.empty()) note.push_back(' ');
    note.append(kWords[rng() % std::size(kWords)]);
  }
  note.resize(length);
  if (!note.empty() && note.back() == ' ') note.back() = '.';
  return note;
}

template <size_t N>
std::string_view Pick(const std::string_view (&choices)[N], std::mt19937_64& rng) {
  return choices[rng() % N];
}

std::string MakeDocument(size_t index, std::mt19937_64& rng) {
  using namespace std::chrono;
  const std::string_view first = Pick(kFirstNames, rng);
  const std::string_view last = Pick(kLastNames, rng);
  std::string email = StrCat(first.substr(0, 1), last, rng() % 100, "@example.com");
  for (char& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Rows arrive roughly in commit order: timestamps increase with jitter.
  const auto created = sys_days{year{2024} / 3 / 1} + milliseconds(index * 7919 + rng() % 5000);
  const uint64_t cents = rng() % 5000000;
  std::string doc =
      StrCat("{\"id\":", 1000 + index * 37 + rng() % 37, ",\"name\":\"", first, " ", last,
             "\",\"email\":\"", email, "\",\"created_at\":\"", Timestamp(created),
             "\",\"address\":{\"city\":\"", Pick(kCities, rng), "\",\"zip\":\"",
             Padded(static_cast<int64_t>(rng() % 100000), 5), "\"},\"total\":", cents / 100, ".",
             Padded(static_cast<int64_t>(cents % 100), 2), ",\"note\":\"");
  constexpr std::string_view kEnd = "\"}";
  if (doc.size() + kEnd.size() > kDocBytes) Fail(StrCat("document too long: ", doc));
  StrAppend(&doc, Note(kDocBytes - doc.size() - kEnd.size(), rng), kEnd);
  return doc;
}

std::vector<Document> MakeDocuments() {
  std::mt19937_64 rng(20240301);  // Fixed: every run measures the same documents.
  std::vector<Document> docs;
  docs.reserve(kDocCount);
  for (size_t i = 0; i < kDocCount; ++i) {
    docs.push_back({static_cast<uint32_t>(i % kBindings), MakeDocument(i, rng)});
  }
  return docs;
}

// ----------------------------------------------------------------------------------------------
// Encoding up front: the bytes the raw baselines write and the readers decode.

std::string EncodeCaptured(Codec codec, const std::vector<Document>& docs) {
  std::string out;
  for (const Document& doc : docs) codec::AppendCapturedFrame(codec, doc.binding, doc.json, &out);
  return out;
}

::capture::Response CapturedResponse(const Document& doc) {
  ::capture::Response response;
  response.mutable_captured()->set_binding(doc.binding);
  response.mutable_captured()->set_doc_json(doc.json);
  return response;
}

std::string EncodeResponses(Codec codec, const std::vector<Document>& docs) {
  std::string out;
  for (const Document& doc : docs) codec::AppendFrame(codec, CapturedResponse(doc), &out);
  return out;
}

// One raw baseline serves both write paths only if they produce the same bytes.
void CheckSameFrames(Codec codec, const std::string& frames, const std::vector<Document>& docs) {
  if (EncodeResponses(codec, docs) != frames) {
    Fail(StrCat(codec::CodecName(codec), ": Write(Response) and WriteCaptured frames differ"));
  }
}

// ----------------------------------------------------------------------------------------------
// File descriptors.

int OpenDevNull() {
  const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  CheckSyscall(fd >= 0, "open /dev/null");
  return fd;
}

void WriteFully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    CheckSyscall(n >= 0, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void Rewind(int fd) { CheckSyscall(::lseek(fd, 0, SEEK_SET) == 0, "lseek"); }

// An in-memory file: reads cost the kernel's copy only, never a disk.
int MemfdWith(std::string_view name, std::string_view bytes) {
  const int fd = ::memfd_create(std::string(name).c_str(), MFD_CLOEXEC);
  CheckSyscall(fd >= 0, "memfd_create");
  WriteFully(fd, bytes);
  return fd;
}

// ----------------------------------------------------------------------------------------------
// Passes: each processes every document (or its frame bytes) once.

using Pass = std::function<void()>;

Pass WriteCapturedPass(Codec codec, int fd, const std::vector<Document>& docs) {
  auto writer = std::make_shared<codec::FrameWriter>(fd, codec);
  return [writer, &docs] {
    for (const Document& doc : docs) {
      Check(writer->WriteCaptured(doc.binding, doc.json), "WriteCaptured");
    }
    // A capture flushes at each checkpoint; here, one checkpoint per pass.
    Check(writer->Flush(), "Flush");
  };
}

// A fresh Response per document, as a connector would build one to call Write.
Pass WriteResponsePass(Codec codec, int fd, const std::vector<Document>& docs) {
  auto writer = std::make_shared<codec::FrameWriter>(fd, codec);
  return [writer, &docs] {
    for (const Document& doc : docs) Check(writer->Write(CapturedResponse(doc)), "Write");
    Check(writer->Flush(), "Flush");
  };
}

Pass RawWritePass(int fd, const std::string& frames) {
  return [fd, &frames] {
    const std::string_view bytes = frames;
    for (size_t at = 0; at < bytes.size(); at += kChunk) WriteFully(fd, bytes.substr(at, kChunk));
  };
}

// Decodes as the runtime reads a connector's output: unknown keys rejected.
Pass ReadNextPass(Codec codec, int fd) {
  auto reader = std::make_shared<codec::FrameReader>(fd, codec, codec::UnknownKeys::kReject);
  auto response = std::make_shared<::capture::Response>();
  return [fd, reader, response] {
    Rewind(fd);
    size_t count = 0;
    while (true) {
      absl::StatusOr<bool> more = reader->Next(response.get());
      Check(more.status(), "Next");
      if (!*more) break;
      ++count;
    }
    if (count != kDocCount) Fail(StrCat("read ", count, " of ", kDocCount, " messages"));
  };
}

Pass RawReadPass(int fd, size_t expected_bytes) {
  auto buffer = std::make_shared<std::string>(kChunk, '\0');
  return [fd, expected_bytes, buffer] {
    Rewind(fd);
    size_t total = 0;
    while (true) {
      const ssize_t n = ::read(fd, buffer->data(), kChunk);
      if (n < 0 && errno == EINTR) continue;
      CheckSyscall(n >= 0, "read");
      if (n == 0) break;
      total += static_cast<size_t>(n);
    }
    if (total != expected_bytes) Fail(StrCat("read ", total, " of ", expected_bytes, " bytes"));
  };
}

// The reader must hand back exactly what was written, or its rate means nothing.
void CheckDecodes(Codec codec, int fd, const std::vector<Document>& docs) {
  Rewind(fd);
  codec::FrameReader reader(fd, codec, codec::UnknownKeys::kReject);
  ::capture::Response response;
  for (const Document& doc : docs) {
    absl::StatusOr<bool> more = reader.Next(&response);
    Check(more.status(), "Next");
    if (!*more || response.captured().binding() != doc.binding ||
        response.captured().doc_json() != doc.json) {
      Fail(StrCat(codec::CodecName(codec), ": decoded document differs from ", doc.json));
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Timing and the table.

struct Measurement {
  std::string side;  // "write" or "read".
  Codec codec;
  std::string path;
  bool raw;  // The physical limit that the other rows of its side and codec are divided by.
  size_t bytes_per_pass;
  Pass pass;
  double best_seconds = std::numeric_limits<double>::infinity();  // Per pass.
};

// Mean seconds per pass over whole passes run for at least `seconds`.
double SecondsPerPass(const Pass& pass, double seconds) {
  using Clock = std::chrono::steady_clock;
  pass();  // Warm-up: first-touch faults and buffer growth are not what is measured.
  const Clock::time_point start = Clock::now();
  uint64_t passes = 0;
  double elapsed = 0;
  do {
    pass();
    ++passes;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return elapsed / static_cast<double>(passes);
}

// Repeats are the outer loop so that a burst of load from elsewhere on the machine hits one run
// of each measurement rather than every run of one.
void RunAll(std::vector<Measurement>& measurements, const Options& options) {
  for (int repeat = 0; repeat < options.repeats; ++repeat) {
    for (Measurement& m : measurements) {
      m.best_seconds = std::min(m.best_seconds, SecondsPerPass(m.pass, options.seconds));
    }
  }
}

std::string Grouped(uint64_t value) {
  std::string digits = StrCat(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

const Measurement& BaselineOf(const std::vector<Measurement>& measurements, const Measurement& m) {
  for (const Measurement& candidate : measurements) {
    if (candidate.raw && candidate.side == m.side && candidate.codec == m.codec) return candidate;
  }
  Fail(StrCat("no raw baseline for ", m.path));
}

void PrintTable(const std::vector<Measurement>& measurements) {
  std::printf("%-5s  %-5s  %-28s  %13s  %10s  %8s  %8s\n", "side", "codec", "path", "docs/s",
              "MB/s", "ns/doc", "of raw");
  for (const Measurement& m : measurements) {
    const double docs_per_second = kDocCount / m.best_seconds;
    const double mb_per_second = m.bytes_per_pass / m.best_seconds / 1e6;
    const double ratio = BaselineOf(measurements, m).best_seconds / m.best_seconds;
    const std::string codec_name(codec::CodecName(m.codec));
    std::printf("%-5s  %-5s  %-28s  %13s  %10.1f  %8.1f  %7.3g%%\n", m.side.c_str(),
                codec_name.c_str(), m.path.c_str(),
                Grouped(static_cast<uint64_t>(docs_per_second)).c_str(), mb_per_second,
                1e9 / docs_per_second, 100 * ratio);
  }
}

void PrintHeader(const Options& options, const std::vector<Document>& docs, size_t json_bytes,
                 size_t proto_bytes) {
  std::printf(
      "codec_bench: capture Response{captured{binding, doc}}, %zu documents of %zu bytes "
      "over %u bindings, e.g.\n  %s\n",
      docs.size(), kDocBytes, kBindings, docs[1].json.c_str());
  std::printf("frame bytes per document: json %.1f, proto %.1f; best of %d runs of >= %g s\n",
              static_cast<double>(json_bytes) / docs.size(),
              static_cast<double>(proto_bytes) / docs.size(), options.repeats, options.seconds);
  std::printf(
      "write: to /dev/null; read: from a memfd; MB = 10^6 bytes of frames; "
      "of raw = rate / raw rate of the same bytes\n\n");
}

// ----------------------------------------------------------------------------------------------

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--seconds=")) {
      options.seconds = std::atof(argv[i] + 10);
    } else if (arg.starts_with("--repeats=")) {
      options.repeats = std::atoi(argv[i] + 10);
    } else {
      Fail(StrCat("unknown argument ", arg, "; usage: codec_bench [--seconds=S] [--repeats=N]"));
    }
  }
  if (options.seconds <= 0 || options.repeats < 1) Fail("--seconds and --repeats must be > 0");
  return options;
}

void AddWriteRows(Codec codec, const std::vector<Document>& docs, const std::string& frames,
                  int null_fd, std::vector<Measurement>& out) {
  CheckSameFrames(codec, frames, docs);
  out.push_back({"write", codec, "FrameWriter::WriteCaptured", false, frames.size(),
                 WriteCapturedPass(codec, null_fd, docs)});
  out.push_back({"write", codec, "FrameWriter::Write(Response)", false, frames.size(),
                 WriteResponsePass(codec, null_fd, docs)});
  out.push_back(
      {"write", codec, "raw write() 64 KiB", true, frames.size(), RawWritePass(null_fd, frames)});
}

void AddReadRows(Codec codec, const std::vector<Document>& docs, const std::string& frames,
                 std::vector<Measurement>& out) {
  const int memfd = MemfdWith(StrCat("codec_bench_", codec::CodecName(codec)), frames);
  CheckDecodes(codec, memfd, docs);
  out.push_back(
      {"read", codec, "FrameReader::Next", false, frames.size(), ReadNextPass(codec, memfd)});
  out.push_back(
      {"read", codec, "raw read() 64 KiB", true, frames.size(), RawReadPass(memfd, frames.size())});
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  const std::vector<Document> docs = MakeDocuments();
  const std::string json_frames = EncodeCaptured(Codec::kJson, docs);
  const std::string proto_frames = EncodeCaptured(Codec::kProto, docs);
  const int null_fd = OpenDevNull();

  // Frames are kept alive here for the raw passes that write them.
  std::vector<Measurement> measurements;
  AddWriteRows(Codec::kJson, docs, json_frames, null_fd, measurements);
  AddWriteRows(Codec::kProto, docs, proto_frames, null_fd, measurements);
  AddReadRows(Codec::kJson, docs, json_frames, measurements);
  AddReadRows(Codec::kProto, docs, proto_frames, measurements);

  PrintHeader(options, docs, json_frames.size(), proto_frames.size());
  std::fflush(stdout);
  RunAll(measurements, options);
  PrintTable(measurements);
  return 0;
}

}  // namespace
}  // namespace connectors::bench

int main(int argc, char** argv) { return connectors::bench::Main(argc, argv); }
