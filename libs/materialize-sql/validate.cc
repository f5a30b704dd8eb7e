#include "libs/materialize-sql/validate.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "libs/base/strings.h"

namespace connectors::sql {
namespace {

using Constraint = materialize::Response::Validated::Constraint;
using Type = Constraint::Type;

struct Decision {
  Type type;
  std::string reason;
};

bool Forbidden(Type t) { return t == Constraint::FIELD_FORBIDDEN || t == Constraint::INCOMPATIBLE; }

// Constraint for a projection that has no column yet (section 1.3).
Decision NewConstraint(const FieldShape& shape, bool delta) {
  if (shape.is_key)
    return {Constraint::LOCATION_RECOMMENDED,
            "All locations that are part of the collection key are recommended"};
  if (shape.is_root) {
    if (delta)
      return {Constraint::LOCATION_RECOMMENDED, "The root document should usually be materialized"};
    return {Constraint::LOCATION_REQUIRED,
            "The root document is required for a standard updates materialization"};
  }
  if (shape.types.empty()) {
    return {Constraint::FIELD_FORBIDDEN,
            shape.nullable ? "Cannot materialize a field whose only possible value is null"
                           : "Cannot materialize a field with no possible types"};
  }
  if (shape.field == "_meta/op")
    return {Constraint::LOCATION_RECOMMENDED, "The operation type should usually be materialized"};
  if (shape.field.starts_with("_meta/"))
    return {Constraint::FIELD_OPTIONAL, "Metadata fields are able to be materialized"};
  const std::string_view single = SingleType(shape);
  if (!single.empty() && single != "object" && single != "array") {
    return {Constraint::LOCATION_RECOMMENDED, "The projection has a single scalar type"};
  }
  if (single == "object")
    return {Constraint::FIELD_OPTIONAL, "Object fields may be materialized as JSON"};
  return {Constraint::LOCATION_RECOMMENDED, "This field is able to be materialized as JSON"};
}

std::string SchemaDescription(const FieldShape& shape) {
  std::string out = "{type: [";
  for (size_t i = 0; i < shape.types.size(); ++i) StrAppend(&out, i ? ", " : "", shape.types[i]);
  if (shape.nullable) StrAppend(&out, shape.types.empty() ? "" : ", ", "null");
  out += "]";
  if (!shape.format.empty()) StrAppend(&out, ", format: ", shape.format);
  return out + "}";
}

Decision Incompatible(const Column& column, const ExistingColumn& existing) {
  return {Constraint::INCOMPATIBLE,
          StrCat("Field \"", column.field, "\" is already materialized as column ", column.ident,
                 " of type ", absl::AsciiStrToUpper(existing.type), ", but ", column.type.ddl,
                 " is required by its schema ", SchemaDescription(column.shape),
                 ". Increment the binding's backfill counter to re-create the table, or change ",
                 "the column's type back")};
}

}  // namespace

const flow::MaterializationSpec::Binding* FindLastBinding(const flow::MaterializationSpec& last,
                                                          const std::vector<std::string>& path) {
  for (const auto& b : last.bindings()) {
    if (std::equal(b.resource_path().begin(), b.resource_path().end(), path.begin(), path.end())) {
      return &b;
    }
  }
  return nullptr;
}

absl::StatusOr<materialize::Response::Validated::Binding> ValidateBinding(
    const materialize::Request::Validate::Binding& binding, const ResourceConfig& resource,
    const InfoSchema& info, const flow::MaterializationSpec::Binding* last,
    const Dialect& dialect) {
  const auto& collection = binding.collection();
  const bool delta = resource.delta_updates;
  const std::vector<std::string> path = ResourcePath(resource, dialect);
  const ExistingTable* existing = info.Find(path[0], path[1]);
  const std::string where = StrCat("collection ", collection.name(), " (table ",
                                   QualifiedIdent(dialect, path[0], path[1]), ")");

  std::string first_root;
  for (const auto& p : collection.projections()) {
    const FieldShape shape = ShapeOf(p);
    if (shape.is_key && shape.nullable && !shape.has_default) {
      return absl::InvalidArgumentError(
          StrCat(where, ": key field \"", p.field(), "\" may be null or absent; make it ",
                 "required and non-null in the collection schema, or give it a default"));
    }
    if (shape.is_root && first_root.empty()) first_root = p.field();
  }
  if (!delta && first_root.empty()) {
    return absl::InvalidArgumentError(
        StrCat(where, ": the collection has no projection of the root document, which a ",
               "standard updates binding stores; add one or use delta_updates"));
  }
  if (last != nullptr && existing != nullptr && last->delta_updates() && !delta &&
      last->backfill() == binding.backfill()) {
    return absl::InvalidArgumentError(
        StrCat(where, ": cannot switch from delta updates to standard updates without a ",
               "backfill; increment the binding's backfill counter to re-create the table"));
  }
  const bool as_new =
      existing == nullptr || (last != nullptr && last->backfill() != binding.backfill());
  std::string document = first_root;
  if (last != nullptr && !last->field_selection().document().empty()) {
    document = last->field_selection().document();
  }
  const std::string first_key =
      collection.key().empty() ? std::string() : std::string(collection.key(0));

  materialize::Response::Validated::Binding out;
  for (const auto& p : path) out.add_resource_path(p);
  out.set_delta_updates(delta);

  std::map<std::string, std::string> column_owner;  // Column name -> field.
  for (const auto& p : collection.projections()) {
    const FieldShape shape = ShapeOf(p);
    Decision d = NewConstraint(shape, delta);
    Column column;
    column.field = p.field();
    column.shape = shape;
    column.name = dialect.Name(p.field());
    column.ident = dialect.Quote(column.name);
    column.type = dialect.MapType(shape);

    if (as_new) {
      if (!delta && shape.is_root && p.field() != first_root) {
        d = {Constraint::FIELD_FORBIDDEN,
             StrCat("Only one document column: \"", first_root, "\" already holds the document")};
      } else if (!delta && shape.ptr == first_key && !Forbidden(d.type) &&
                 d.type != Constraint::FIELD_REQUIRED) {
        d = {Constraint::LOCATION_REQUIRED, "The first collection key component is required"};
      }
    } else if (!Forbidden(d.type)) {
      const ExistingColumn* have = existing->Find(column.name);
      if (!delta && shape.is_root) {
        if (p.field() != document) {
          d = {Constraint::FIELD_FORBIDDEN,
               StrCat("Only one document column: \"", document, "\" already holds the document")};
        } else if (have != nullptr && !IsCompatible(have->type, column.type)) {
          d = Incompatible(column, *have);
        } else {
          d = {Constraint::FIELD_REQUIRED,
               "This field is the document in the current materialization"};
        }
      } else if (have != nullptr) {
        const bool compatible = IsCompatible(have->type, column.type);
        const bool migratable =
            !shape.is_key &&
            dialect.MigrationCast(have->type, column.type, column.ident).has_value();
        if (!compatible && !migratable) {
          d = Incompatible(column, *have);
        } else if (shape.is_key) {
          d = {Constraint::FIELD_REQUIRED, "This location is part of the current materialization"};
        } else if (!compatible) {
          d.reason = StrCat("Column ", column.ident, " of type ", absl::AsciiStrToUpper(have->type),
                            " will be migrated to ", column.type.ddl);
        }
      }
    }
    if (!Forbidden(d.type)) {
      auto [it, inserted] = column_owner.emplace(column.name, p.field());
      if (!inserted) {
        d = {Constraint::FIELD_FORBIDDEN,
             StrCat("Field \"", p.field(), "\" would be column \"", column.name,
                    "\" (identifiers are limited in length), which field \"", it->second,
                    "\" already uses; add a projection with a shorter name")};
      }
    }
    Constraint c;
    c.set_type(d.type);
    c.set_reason(d.reason);
    (*out.mutable_constraints())[p.field()] = c;
    auto* pc = out.add_projection_constraints();
    pc->set_field(p.field());
    *pc->mutable_constraint() = c;
  }
  return out;
}

}  // namespace connectors::sql
