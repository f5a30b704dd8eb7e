#include "libs/connector/config_check.h"

#include "libs/base/strings.h"
#include "libs/schema-gen/validator.h"

namespace connectors::runtime {

absl::StatusOr<ConfigCheck> ConfigCheck::Compile(std::string_view config_schema_json,
                                                 std::string_view resource_config_schema_json) {
  auto endpoint = schema::Validator::Compile(config_schema_json);
  if (!endpoint.ok()) {
    return absl::InvalidArgumentError(
        StrCat("endpoint config schema: ", MessageOf(endpoint.status())));
  }
  auto resource = schema::Validator::Compile(resource_config_schema_json);
  if (!resource.ok()) {
    return absl::InvalidArgumentError(
        StrCat("resource config schema: ", MessageOf(resource.status())));
  }
  return ConfigCheck(std::make_unique<schema::Validator>(std::move(*endpoint)),
                     std::make_unique<schema::Validator>(std::move(*resource)));
}

ConfigCheck::ConfigCheck(std::unique_ptr<schema::Validator> endpoint,
                         std::unique_ptr<schema::Validator> resource)
    : endpoint_(std::move(endpoint)), resource_(std::move(resource)) {}
ConfigCheck::ConfigCheck(ConfigCheck&&) noexcept = default;
ConfigCheck& ConfigCheck::operator=(ConfigCheck&&) noexcept = default;
ConfigCheck::~ConfigCheck() = default;

absl::Status ConfigCheck::Endpoint(std::string_view config_json) const {
  return endpoint_->Check(config_json, "endpoint config");
}

absl::Status ConfigCheck::Resource(size_t binding, std::string_view resource_config_json) const {
  return resource_->Check(resource_config_json, StrCat("resource config of binding ", binding));
}

}  // namespace connectors::runtime
