#include "libs/connector/message_kind.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <vector>

#include "libs/base/strings.h"

namespace connectors::runtime {

absl::StatusOr<std::string_view> SingleKind(const google::protobuf::Message& message) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  const google::protobuf::FieldDescriptor* kind = nullptr;
  for (const auto* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (kind != nullptr) {
      return absl::InvalidArgumentError(
          StrCat(message.GetDescriptor()->full_name(), " sets both \"", kind->json_name(),
                 "\" and \"", field->json_name(), "\"; exactly one kind is allowed per message"));
    }
    kind = field;
  }
  if (kind == nullptr) {
    return absl::InvalidArgumentError(
        StrCat(message.GetDescriptor()->full_name(), " is empty: no kind is set"));
  }
  return std::string_view(kind->json_name());
}

}  // namespace connectors::runtime
