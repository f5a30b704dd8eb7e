// Rendering tuple elements and documents as fields of COPY's text format (tab-separated,
// "\N" for NULL, backslash escapes), according to a column's ValueKind.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "libs/materialize-sql/dialect.h"
#include "libs/tuple/tuple.h"

namespace connectors::sql {

// Appends `text` escaped for COPY text format. NUL bytes, which text columns cannot hold, are
// dropped.
void AppendCopyText(std::string_view text, std::string* out);
inline void AppendCopyNull(std::string* out) { out->append("\\N"); }

// Appends `element` as a value of a column of `kind`. Fails when the element's type cannot be
// stored in such a column (e.g. a string into an integer column), naming neither value nor
// secrets: the caller adds the column.
absl::Status AppendCopyValue(const tuple::Element& element, ValueKind kind, std::string* out);

}  // namespace connectors::sql
