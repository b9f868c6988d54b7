// The conformance kit behind `tradehost plugin check`: loads a plugin and
// drives it through its side of the ABI contract, step by step, recording
// what passed. A broker is taken through submit, duplicate client id, cancel,
// reject, partial fill (simulators), fills, disconnect and reconnect; a data
// provider through connect, lookup, history, a live subscription, option
// chain, unsubscribe and disconnect. Data plugins run against a simulated
// host clock starting at `at_ns` and moving 60× real time.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "plugin/plugin.h"

namespace th {

struct CheckStep {
  enum class Outcome { Pass, Fail, Skip };
  std::string name;
  Outcome outcome = Outcome::Pass;
  std::string detail;
};

struct CheckReport {
  PluginInfo info;
  std::vector<CheckStep> steps;
  bool passed() const;
};

std::string_view toString(CheckStep::Outcome outcome);

// Fails (with the loader's message) only when the plugin cannot be loaded;
// everything after loading is a step in the report.
[[nodiscard]] Result<CheckReport> checkPlugin(const std::string& path, const std::string& config_json,
                                              const std::string& symbol, int64_t at_ns);

}  // namespace th
