#include "libs/materialize-sql/transactor.h"

#include <charconv>

#include "libs/base/strings.h"
#include "libs/materialize-sql/encode.h"
#include "libs/materialize-sql/sql.h"

namespace connectors::sql {
namespace {

using runtime::LoadedFn;
using runtime::LoadIterator;
using runtime::StoreIterator;

absl::Status Context(const absl::Status& s, std::string_view what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), StrCat(what, ": ", MessageOf(s)));
}

class SqlTransactor final : public runtime::Transactor {
 public:
  SqlTransactor(std::unique_ptr<Client> client, std::vector<Table> tables, Fence fence,
                TransactorOptions options)
      : client_(std::move(client)),
        tables_(std::move(tables)),
        fence_(std::move(fence)),
        options_(options),
        staged_(tables_.size()) {}

  absl::Status Load(LoadIterator& loads, LoadedFn loaded) override {
    std::vector<bool> has_keys(tables_.size());
    while (true) {
      auto load = loads.Next();
      if (!load.ok()) return load.status();
      if (*load == nullptr) break;
      const auto& l = **load;
      auto table = TableOf(l.binding());
      if (!table.ok()) return table.status();
      if ((*table)->delta_updates) {
        return absl::InvalidArgumentError(StrCat("Load for delta-updates ", (*table)->Describe()));
      }
      auto status = AppendKeys(**table, l.key_packed(), &staged_[l.binding()].rows);
      if (!status.ok()) return status;
      has_keys[l.binding()] = true;
      if (auto s = MaybeFlush(/*load=*/true); !s.ok()) return s;
    }
    std::vector<const Table*> queried;
    for (size_t b = 0; b < tables_.size(); ++b) {
      if (has_keys[b]) queried.push_back(&tables_[b]);
    }
    if (queried.empty()) return absl::OkStatus();
    if (auto s = Flush(/*load=*/true); !s.ok()) return s;
    auto status = client_->Query(LoadQuery(queried), {}, [&](RowView row) -> absl::Status {
      uint32_t binding = 0;
      const std::string_view b = row[0].value_or("");
      std::from_chars(b.data(), b.data() + b.size(), binding);
      if (!row[1].has_value()) return absl::OkStatus();
      return loaded(binding, *row[1]);
    });
    if (!status.ok()) return Abort(Context(status, "loading documents"));
    // Committing empties the temp tables of keys.
    return EndTransaction("COMMIT");
  }

  absl::Status Store(StoreIterator& stores) override {
    while (true) {
      auto store = stores.Next();
      if (!store.ok()) return store.status();
      if (*store == nullptr) break;
      if (auto s = StageStore(**store); !s.ok()) return Abort(s);
      if (auto s = MaybeFlush(/*load=*/false); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<flow::ConnectorState>> StartCommit(
      const consumer::Checkpoint& runtime_checkpoint) override {
    if (auto s = Flush(/*load=*/false); !s.ok()) return s;
    if (auto s = Begin(); !s.ok()) return s;
    for (auto& table : tables_) {
      auto& counts = staged_[table.binding].ops;
      if (auto s = Apply(table, counts); !s.ok()) return Abort(s);
      counts = {0, 0, 0};
    }
    if (auto s = CommitFence(*client_, fence_, runtime_checkpoint); !s.ok()) return Abort(s);
    if (auto s = EndTransaction("COMMIT"); !s.ok()) return s;
    return std::nullopt;
  }

  absl::StatusOr<std::optional<flow::ConnectorState>> Acknowledge() override {
    return std::nullopt;
  }

 private:
  struct Staged {
    std::string rows;                        // COPY text for the staging table, not yet sent.
    std::string inserts;                     // COPY text of new rows, straight into the table.
    std::array<int64_t, 3> ops = {0, 0, 0};  // Rows staged per StoreOp this transaction.
  };

  absl::StatusOr<const Table*> TableOf(uint32_t binding) const {
    if (binding >= tables_.size()) {
      return absl::InvalidArgumentError(StrCat("binding ", binding, " out of range"));
    }
    return &tables_[binding];
  }

  absl::Status AppendKeys(const Table& table, std::string_view packed, std::string* out) {
    auto keys = tuple::Unpack(packed);
    if (!keys.ok()) return keys.status();
    if (keys->size() != table.num_keys) {
      return absl::InvalidArgumentError(StrCat(table.Describe(), ": key has ", keys->size(),
                                               " elements, expected ", table.num_keys));
    }
    for (size_t i = 0; i < keys->size(); ++i) {
      if (i > 0) out->push_back('\t');
      if (auto s = Encode(table, table.columns[i], (*keys)[i], out); !s.ok()) return s;
    }
    out->push_back('\n');
    return absl::OkStatus();
  }

  static absl::Status Encode(const Table& table, const Column& column, const tuple::Element& e,
                             std::string* out) {
    auto s = AppendCopyValue(e, column.type.kind, out);
    if (s.ok()) return s;
    return absl::InvalidArgumentError(StrCat(table.Describe(), ", column ", column.ident,
                                             " (field \"", column.field, "\", ", column.type.ddl,
                                             "): ", MessageOf(s)));
  }

  absl::Status StageStore(const materialize::Request::Store& store) {
    auto table_or = TableOf(store.binding());
    if (!table_or.ok()) return table_or.status();
    const Table& table = **table_or;
    StoreOp op = store.exists() ? StoreOp::kUpdate : StoreOp::kInsert;
    if (store.delete_() && options_.hard_delete && !table.delta_updates) {
      if (!store.exists()) return absl::OkStatus();  // Nothing to delete.
      op = StoreOp::kDelete;
    }
    // Keys are stored at most once per transaction, so a new row (not loaded, not stored
    // before) cannot meet another statement of this transaction: it goes straight into the
    // table with COPY, saving the staging table's second write.
    const bool direct = table.delta_updates || op == StoreOp::kInsert;
    std::string& out = direct ? staged_[table.binding].inserts : staged_[table.binding].rows;
    const size_t start = out.size();
    auto keys = tuple::Unpack(store.key_packed());
    if (!keys.ok()) return keys.status();
    auto values = tuple::Unpack(store.values_packed());
    if (!values.ok()) return values.status();
    const size_t num_values = table.columns.size() - table.num_keys - (table.has_document ? 1 : 0);
    if (keys->size() != table.num_keys || values->size() != num_values) {
      return absl::InvalidArgumentError(StrCat(table.Describe(), ": store has ", keys->size(),
                                               " keys and ", values->size(), " values, expected ",
                                               table.num_keys, " and ", num_values));
    }
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (i > 0) out.push_back('\t');
      const Column& column = table.columns[i];
      absl::Status s;
      if (column.role == Role::kDocument) {
        if (store.doc_json().empty()) {
          AppendCopyNull(&out);
        } else {
          AppendCopyText(store.doc_json(), &out);
        }
      } else if (column.role == Role::kKey) {
        s = Encode(table, column, (*keys)[i], &out);
      } else {
        s = Encode(table, column, (*values)[i - table.num_keys], &out);
      }
      if (!s.ok()) {
        out.resize(start);
        return s;
      }
    }
    if (!direct) StrAppend(&out, "\t", static_cast<int>(op));
    out.push_back('\n');
    staged_bytes_ += out.size() - start;
    if (!direct) staged_[table.binding].ops[static_cast<int>(op)]++;
    return absl::OkStatus();
  }

  absl::Status MaybeFlush(bool load) {
    size_t total = 0;
    for (const auto& s : staged_) total += s.rows.size() + s.inserts.size();
    return total >= options_.batch_bytes ? Flush(load) : absl::OkStatus();
  }

  // Sends every binding's staged rows with one COPY each (and its new rows with another).
  absl::Status Flush(bool load) {
    for (auto& table : tables_) {
      Staged& staged = staged_[table.binding];
      if (auto s = Send(table, load ? CopyLoadKeys(table) : CopyStoreRows(table), staged.rows,
                        load ? "staging keys of " : "storing into ");
          !s.ok()) {
        return s;
      }
      if (auto s = Send(table, CopyDeltaRows(table), staged.inserts, "storing into "); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Send(const Table& table, const std::string& copy, std::string& rows,
                    std::string_view what) {
    if (rows.empty()) return absl::OkStatus();
    if (auto s = Begin(); !s.ok()) return s;
    auto s = client_->CopyIn(copy, rows);
    rows.clear();
    if (!s.ok()) return Abort(Context(s, StrCat(what, table.Describe())));
    return absl::OkStatus();
  }

  absl::Status Apply(const Table& table, const std::array<int64_t, 3>& ops) {
    if (table.delta_updates) return absl::OkStatus();
    auto run = [&](StoreOp op, std::string sql) -> absl::Status {
      if (ops[static_cast<int>(op)] == 0 || sql.empty()) return absl::OkStatus();
      return Context(client_->Exec(sql), StrCat("storing into ", table.Describe()));
    };
    if (auto s = run(StoreOp::kDelete, StoreDelete(table)); !s.ok()) return s;
    if (auto s = run(StoreOp::kUpdate, StoreUpdate(table)); !s.ok()) return s;
    return run(StoreOp::kInsert, StoreInsert(table));
  }

  absl::Status Begin() {
    if (in_transaction_) return absl::OkStatus();
    if (auto s = client_->Exec("BEGIN"); !s.ok()) return s;
    in_transaction_ = true;
    return absl::OkStatus();
  }

  absl::Status EndTransaction(std::string_view how) {
    if (!in_transaction_) return absl::OkStatus();
    in_transaction_ = false;
    return client_->Exec(how);
  }

  // Rolls back (best effort: a dropped connection has rolled back already) and returns `s`.
  absl::Status Abort(absl::Status s) {
    for (auto& staged : staged_) staged = Staged();
    if (in_transaction_) (void)EndTransaction("ROLLBACK");
    return s;
  }

  std::unique_ptr<Client> client_;
  std::vector<Table> tables_;
  Fence fence_;
  TransactorOptions options_;
  std::vector<Staged> staged_;
  size_t staged_bytes_ = 0;
  bool in_transaction_ = false;
};

}  // namespace

absl::StatusOr<runtime::OpenedTransactor> OpenTransactor(
    std::unique_ptr<Client> client, std::vector<Table> tables, std::string_view checkpoints,
    const materialize::Request::Open& open, TransactorOptions options, const Logger& log) {
  std::string ddl;
  for (const auto& table : tables) {
    if (!table.delta_updates) StrAppend(&ddl, CreateLoadTable(table), "\n");
    if (!table.delta_updates) StrAppend(&ddl, CreateStoreTable(table), "\n");
  }
  if (!ddl.empty()) {
    if (auto s = client->Exec(ddl); !s.ok()) {
      return Context(s, "creating temporary tables (was the materialization applied?)");
    }
  }
  auto fence = InstallFence(*client, checkpoints, open.materialization().name(),
                            open.range().key_begin(), open.range().key_end());
  if (!fence.ok()) return Context(fence.status(), StrCat("installing the fence in ", checkpoints));
  log.Info("fence installed",
           {LogField::Int("fence", fence->fence), LogField::Uint("keyBegin", fence->key_begin),
            LogField::Uint("keyEnd", fence->key_end)});
  runtime::OpenedTransactor opened;
  *opened.opened.mutable_runtime_checkpoint() = fence->checkpoint;
  opened.transactor = std::make_unique<SqlTransactor>(std::move(client), std::move(tables),
                                                      std::move(*fence), options);
  return opened;
}

}  // namespace connectors::sql
