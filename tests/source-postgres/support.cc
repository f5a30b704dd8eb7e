#include "tests/source-postgres/support.h"

#include "absl/time/clock.h"
#include "libs/base/strings.h"
#include "libs/json/merge_patch.h"
#include "libs/json/parse.h"
#include "libs/json/pointer.h"
#include "libs/json/writer.h"
#include "source-postgres/driver.h"

namespace connectors::pgtest {

std::string ConfigJson(const harness::Postgres& pg, std::string_view extra) {
  std::string out;
  json::Writer w(&out);
  w.BeginObject()
      .Key("address")
      .String(StrCat(pg.host(), ":", pg.port()))
      .Key("user")
      .String(pg.user())
      .Key("password")
      .String(pg.password())
      .Key("database")
      .String("postgres")
      .EndObject();
  if (!extra.empty()) {
    out.pop_back();
    StrAppend(&out, ",", extra, "}");
  }
  return out;
}

class CaptureRun::Session final : public runtime::CaptureSession, public runtime::CaptureOutput {
 public:
  Session() : log_(2, LogLevel::kInfo) {}

  runtime::CaptureOutput& output() override { return *this; }
  const Logger& log() const override { return log_; }
  bool stopping() const override { return stop_.load(); }
  bool WaitForStop(absl::Duration timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] { return stop_.load(); });
    return stop_.load();
  }
  uint64_t acknowledged() const override {
    std::lock_guard lock(mu_);
    return hold_ ? held_at_ : checkpoints_.size();
  }
  void Hold(bool hold) {
    std::lock_guard lock(mu_);
    held_at_ = checkpoints_.size();
    hold_ = hold;
  }
  bool WaitForAcknowledged(uint64_t n, absl::Duration) override { return acknowledged() >= n; }

  absl::Status Document(uint32_t binding, std::string_view doc_json) override {
    json::Parser parser;
    if (auto parsed = parser.Parse(doc_json); !parsed.ok()) {
      return absl::InternalError(
          StrCat("invalid document: ", MessageOf(parsed.status()), ": ", doc_json));
    }
    std::lock_guard lock(mu_);
    pending_.push_back(Doc{binding, std::string(doc_json)});
    return absl::OkStatus();
  }
  absl::Status SourcedSchema(uint32_t, std::string_view) override { return absl::OkStatus(); }
  absl::Status Checkpoint(std::string_view state_json, bool merge_patch) override {
    std::lock_guard lock(mu_);
    if (merge_patch) {
      auto merged = json::ApplyMergePatch(state_, state_json);
      if (!merged.ok()) return merged.status();
      state_ = *merged;
    } else {
      state_ = std::string(state_json);
    }
    // Documents become visible only with their checkpoint, as in a runtime.
    for (Doc& d : pending_) docs_.push_back(std::move(d));
    pending_.clear();
    checkpoints_.push_back(std::string(state_json));
    cv_.notify_all();
    return absl::OkStatus();
  }

  void RequestStop() {
    stop_ = true;
    cv_.notify_all();
  }

  bool WaitFor(const std::function<bool(const std::vector<Doc>&)>& pred, absl::Duration timeout,
               const std::atomic<bool>& done) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
      return pred(docs_) || done.load();
    }) && pred(docs_);
  }

  std::vector<Doc> docs() {
    std::lock_guard lock(mu_);
    return docs_;
  }
  std::string state() {
    std::lock_guard lock(mu_);
    return state_;
  }
  size_t checkpoint_count() {
    std::lock_guard lock(mu_);
    return checkpoints_.size();
  }
  void NotifyAll() { cv_.notify_all(); }

  std::atomic<bool> done{false};

 private:
  Logger log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::vector<Doc> docs_, pending_;
  std::vector<std::string> checkpoints_;
  std::string state_ = "{}";
  bool hold_ = false;
  uint64_t held_at_ = 0;
};

CaptureRun::CaptureRun(std::string config_json, std::vector<BindingDef> bindings,
                       std::string state_json)
    : config_json_(std::move(config_json)),
      bindings_(std::move(bindings)),
      state_json_(std::move(state_json)),
      session_(std::make_unique<Session>()) {}

CaptureRun::~CaptureRun() {
  if (running_) (void)Stop();
}

absl::Status CaptureRun::Start() {
  ::capture::Request::Open open;
  open.mutable_capture()->set_config_json(config_json_);
  for (const BindingDef& b : bindings_) {
    auto* binding = open.mutable_capture()->add_bindings();
    std::string resource;
    json::Writer w(&resource);
    w.BeginObject().Key("namespace").String(b.schema).Key("stream").String(b.table);
    if (!b.mode.empty()) w.Key("mode").String(b.mode);
    if (b.priority != 0) w.Key("priority").Int(b.priority);
    w.EndObject();
    binding->set_resource_config_json(resource);
    binding->set_state_key(StrCat(b.schema, "%2F", b.table));
  }
  open.set_state_json(state_json_);
  postgres::PostgresDriver driver;
  auto capture = driver.Open(open, session_->log());
  if (!capture.ok()) return capture.status();
  capture_ = std::move(*capture);
  running_ = true;
  thread_ = std::thread([this] {
    run_status_ = capture_->Run(*session_);
    session_->done = true;
    session_->NotifyAll();
  });
  return absl::OkStatus();
}

bool CaptureRun::WaitFor(const std::function<bool(const std::vector<Doc>&)>& pred,
                         absl::Duration timeout) {
  return session_->WaitFor(pred, timeout, session_->done);
}

absl::Status CaptureRun::Stop() {
  if (!running_) return run_status_;
  session_->RequestStop();
  thread_.join();
  running_ = false;
  capture_.reset();
  return run_status_;
}

void CaptureRun::HoldAcknowledgements(bool hold) { session_->Hold(hold); }
std::vector<Doc> CaptureRun::docs() { return session_->docs(); }
std::string CaptureRun::state() { return session_->state(); }
size_t CaptureRun::checkpoints() { return session_->checkpoint_count(); }

std::map<std::string, std::string> Reduce(const std::vector<Doc>& docs, uint32_t binding,
                                          const std::vector<std::string>& key) {
  // Top-level merge: a document's columns replace the current ones, absent columns (unchanged
  // TOAST values) keep theirs, as Flow's merge reduction does.
  std::map<std::string, std::map<std::string, std::string>> current;
  json::Parser parser;
  for (const Doc& d : docs) {
    if (d.binding != binding) continue;
    auto root = parser.Parse(d.json);
    if (!root.ok()) continue;
    std::string id;
    for (const std::string& k : key) {
      auto ptr = json::Pointer::Parse(k);
      auto v = json::Lookup(*root, *ptr);
      if (!id.empty()) id += "|";
      id += v.has_value() ? json::ToJson(*v, true) : "<missing>";
    }
    std::string_view op;
    (void)(*root)["_meta"]["op"].get(op);
    if (op == "d") {
      current.erase(id);
      continue;
    }
    auto& fields = current[id];
    for (auto [k, v] : simdjson::dom::object(*root)) {
      if (k == "_meta") continue;
      fields[std::string(k.data(), k.size())] = json::ToJson(v, true);
    }
  }
  std::map<std::string, std::string> out;
  for (const auto& [id, fields] : current) {
    std::string body = "{";
    for (const auto& [k, v] : fields) {
      if (body.size() > 1) body += ',';
      json::AppendQuoted(k, &body);
      body += ':';
      body += v;
    }
    body += '}';
    out[id] = body;
  }
  return out;
}

size_t CountFor(const std::vector<Doc>& docs, uint32_t binding) {
  size_t n = 0;
  for (const Doc& d : docs) n += d.binding == binding;
  return n;
}

}  // namespace connectors::pgtest
