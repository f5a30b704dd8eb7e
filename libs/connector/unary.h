// The Validate and Apply steps both protocol loops share: configs are checked against the
// driver's schemas first, and Validate must answer every binding it was given.
#pragma once

#include "absl/status/statusor.h"
#include "libs/base/strings.h"
#include "libs/connector/config_check.h"
#include "libs/connector/logging.h"

namespace connectors::runtime {

template <class Driver, class ValidateRequest>
auto CheckedValidate(Driver& driver, const ConfigCheck& configs, const ValidateRequest& request,
                     const Logger& log) -> decltype(driver.Validate(request, log)) {
  if (auto status = configs.All(request.config_json(), request.bindings()); !status.ok()) {
    return status;
  }
  auto validated = driver.Validate(request, log);
  if (validated.ok() && validated->bindings_size() != request.bindings_size()) {
    return absl::InternalError(StrCat("connector validated ", validated->bindings_size(),
                                      " bindings of ", request.bindings_size()));
  }
  return validated;
}

// `spec` is the capture or materialization spec the Apply request carries.
template <class Driver, class ApplyRequest, class Spec>
auto CheckedApply(Driver& driver, const ConfigCheck& configs, const ApplyRequest& request,
                  const Spec& spec, const Logger& log) -> decltype(driver.Apply(request, log)) {
  if (auto status = configs.All(spec.config_json(), spec.bindings()); !status.ok()) {
    return status;
  }
  return driver.Apply(request, log);
}

}  // namespace connectors::runtime
