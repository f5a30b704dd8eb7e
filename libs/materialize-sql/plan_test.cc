// Apply planning and validation against an in-memory info schema, through a minimal dialect:
// the decisions (add, relax, migrate, truncate, re-create, incompatible) without a database.
#include <gtest/gtest.h>

#include "libs/materialize-sql/apply.h"
#include "libs/materialize-sql/validate.h"

namespace connectors::sql {
namespace {

// Quotes everything; BIGINT and TEXT only; BIGINT -> TEXT is the one migration.
class TinyDialect final : public Dialect {
 public:
  std::string Name(std::string_view field) const override { return std::string(field); }
  std::string Quote(std::string_view name) const override {
    return "\"" + std::string(name) + "\"";
  }
  std::string Literal(std::string_view text) const override {
    return "'" + std::string(text) + "'";
  }
  ColumnType MapType(const FieldShape& shape) const override {
    if (shape.is_root) return {"JSON", {"json"}, ValueKind::kDocument};
    if (SingleType(shape) == "integer") return {"BIGINT", {"bigint"}, ValueKind::kInteger};
    return {"TEXT", {"text"}, ValueKind::kText};
  }
  std::optional<std::string> MigrationCast(std::string_view from, const ColumnType& to,
                                           std::string_view column) const override {
    if (from == "bigint" && to.ddl == "TEXT") return "CAST(" + std::string(column) + " AS TEXT)";
    return std::nullopt;
  }
};

flow::Projection P(std::string field, std::string type, bool key = false, bool must = true) {
  flow::Projection p;
  p.set_field(field);
  p.set_ptr(field == "doc" ? "" : "/" + field);
  p.set_is_primary_key(key);
  p.mutable_inference()->add_types(type);
  p.mutable_inference()->set_exists(must ? flow::Inference::MUST : flow::Inference::MAY);
  return p;
}

flow::MaterializationSpec Spec(std::vector<flow::Projection> values, uint32_t backfill = 0) {
  flow::MaterializationSpec spec;
  auto* b = spec.add_bindings();
  b->set_resource_config_json(R"({"table":"t"})");
  b->add_resource_path("s");
  b->add_resource_path("t");
  b->set_backfill(backfill);
  auto* c = b->mutable_collection();
  c->set_name("c");
  c->add_key("/id");
  *c->add_projections() = P("id", "integer", true);
  *c->add_projections() = P("doc", "object");
  b->mutable_field_selection()->add_keys("id");
  for (auto& v : values) {
    b->mutable_field_selection()->add_values(v.field());
    *c->add_projections() = v;
  }
  b->mutable_field_selection()->set_document("doc");
  return spec;
}

InfoSchema Existing(std::vector<ExistingColumn> columns) {
  InfoSchema info;
  info.schemas = {"s"};
  info.tables[{"s", "flow_checkpoints_v1"}];
  info.tables[{"s", "t"}].columns = std::move(columns);
  return info;
}

std::string Plan(const flow::MaterializationSpec& spec, const flow::MaterializationSpec* last,
                 const InfoSchema& info) {
  auto plan = PlanApply(spec, last, info, TinyDialect(), "s");
  if (!plan.ok()) return "error: " + std::string(plan.status().message());
  std::string out;
  for (const auto& s : *plan) out += s + "\n";
  return out;
}

TEST(PlanApply, AddsRelaxesAndMigrates) {
  const auto info = Existing({{"id", "bigint", false},
                              {"doc", "json", false},
                              {"n", "bigint", false},
                              {"gone", "text", false}});
  EXPECT_EQ(Plan(Spec({P("n", "string", false, false), P("extra", "integer")}), nullptr, info),
            "ALTER TABLE \"s\".\"t\"\n"
            "  ADD COLUMN \"extra\" BIGINT,\n"
            "  ALTER COLUMN \"n\" TYPE TEXT USING CAST(\"n\" AS TEXT),\n"
            "  ALTER COLUMN \"n\" DROP NOT NULL,\n"
            "  ALTER COLUMN \"gone\" DROP NOT NULL;\n");
  EXPECT_EQ(Plan(Spec({P("n", "integer"), P("gone", "string")}), nullptr, info), "");
}

TEST(PlanApply, BackfillTruncatesOrRecreates) {
  const auto info =
      Existing({{"id", "bigint", false}, {"doc", "json", false}, {"n", "text", true}});
  const auto last = Spec({P("n", "string")});
  EXPECT_EQ(Plan(Spec({P("n", "string")}, 1), &last, info), "TRUNCATE TABLE \"s\".\"t\";\n");
  // TEXT -> BIGINT cannot be converted: the table is re-created.
  const std::string recreate = Plan(Spec({P("n", "integer")}, 1), &last, info);
  EXPECT_TRUE(recreate.starts_with("DROP TABLE IF EXISTS \"s\".\"t\";\nCREATE TABLE")) << recreate;
  // Without a backfill the same change is refused.
  EXPECT_NE(Plan(Spec({P("n", "integer")}), &last, info).find("cannot be converted"),
            std::string::npos);
}

TEST(ValidateBinding, IncompatibleColumnsAndKeys) {
  const auto info = Existing(
      {{"id", "text", false}, {"doc", "json", false}, {"n", "text", true}, {"m", "bigint", true}});
  const auto spec = Spec({P("n", "integer"), P("m", "string")});
  materialize::Request::Validate::Binding binding;
  binding.set_resource_config_json(R"({"table":"t"})");
  *binding.mutable_collection() = spec.bindings(0).collection();
  auto out = ValidateBinding(binding, {"t", "s", false}, info, nullptr, TinyDialect());
  ASSERT_TRUE(out.ok()) << out.status();
  using C = materialize::Response::Validated::Constraint;
  EXPECT_EQ(out->constraints().at("id").type(), C::INCOMPATIBLE) << "key types never migrate";
  EXPECT_EQ(out->constraints().at("n").type(), C::INCOMPATIBLE);
  EXPECT_EQ(out->constraints().at("m").type(), C::LOCATION_RECOMMENDED) << "migratable";
  EXPECT_EQ(out->constraints().at("doc").type(), C::FIELD_REQUIRED);
  EXPECT_EQ(out->projection_constraints_size(), 4);
  // With a new backfill counter the table is as good as new.
  binding.set_backfill(1);
  const auto last = Spec({});
  out = ValidateBinding(binding, {"t", "s", false}, info, &last.bindings(0), TinyDialect());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->constraints().at("n").type(), C::LOCATION_RECOMMENDED);
  EXPECT_EQ(out->constraints().at("id").type(), C::LOCATION_REQUIRED);
}

}  // namespace
}  // namespace connectors::sql
