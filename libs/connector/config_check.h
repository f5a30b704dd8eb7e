// Validates incoming endpoint and resource configs against the schemas a connector declares
// in its Spec, before any connector logic runs. Errors name the config and the JSON path.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace connectors::schema {
class Validator;
}

namespace connectors::runtime {

class ConfigCheck {
 public:
  // Compiles both schemas; an invalid schema is a connector bug and fails here.
  static absl::StatusOr<ConfigCheck> Compile(std::string_view config_schema_json,
                                             std::string_view resource_config_schema_json);
  ConfigCheck(ConfigCheck&&) noexcept;
  ConfigCheck& operator=(ConfigCheck&&) noexcept;
  ~ConfigCheck();

  absl::Status Endpoint(std::string_view config_json) const;
  // `binding` is the index of the binding, named in the error.
  absl::Status Resource(size_t binding, std::string_view resource_config_json) const;

  // The endpoint config and the resource config of every binding (anything with a
  // resource_config_json(): Validate bindings or spec bindings).
  template <class Bindings>
  absl::Status All(std::string_view config_json, const Bindings& bindings) const {
    if (auto status = Endpoint(config_json); !status.ok()) return status;
    for (int i = 0; i < bindings.size(); ++i) {
      if (auto status = Resource(i, bindings[i].resource_config_json()); !status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }

 private:
  ConfigCheck(std::unique_ptr<schema::Validator> endpoint,
              std::unique_ptr<schema::Validator> resource);
  std::unique_ptr<schema::Validator> endpoint_;
  std::unique_ptr<schema::Validator> resource_;
};

}  // namespace connectors::runtime
