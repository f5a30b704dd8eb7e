// The JSON schema of the `parser` object (see parser_config.h), which file-like connectors embed
// in their endpoint config schema. Kept apart from the parsing code so parsers and fuzz targets
// do not depend on the schema builder.
#pragma once

#include "libs/schema-gen/schema.h"

namespace connectors::filesource {

schema::Schema ParserSchema();

}  // namespace connectors::filesource
