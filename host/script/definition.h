// Strategy definitions: strategies/<id>/<id>.yaml, read strictly.
//
// A definition names the strategy (id, name, semver version), its script,
// the symbols and timeframe it trades, its typed parameters, its risk
// limits (which may only tighten the host's), its schedule, whether it is
// enabled, and the runtime limits of its Lua instance. Unknown keys and bad
// values are errors naming the file, the line and the key. A version is the
// definition plus every Lua file of the strategy's folder, identified by the
// SHA-256 of their content, so a version can be recorded, compared and
// loaded again after the files on disk changed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chart/candle.h"
#include "config/config.h"
#include "core/error.h"

namespace th {

enum class ParamType { Number, Integer, Boolean, String, Choice };
std::string_view toString(ParamType type);  // "number", "integer", "boolean", "string", "choice"

using ParamValue = std::variant<double, int64_t, bool, std::string>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Number;
  ParamValue value;  // the default from the YAML, or an override
  std::optional<double> min, max;
  std::vector<std::string> choices;  // for choice
  std::string description;
};

// What happens to a strategy's open orders when it faults.
enum class FaultPolicy { Cancel, Keep };

struct RuntimeLimits {
  size_t memory_bytes = 64u << 20;  // the Lua heap of one instance
  int64_t budget_ms = 100;          // one callback; the watchdog stops it beyond
  uint32_t max_errors = 5;          // callback errors within error_window_s that fault the strategy
  int64_t error_window_s = 60;
  uint32_t max_consecutive_errors = 10;  // callbacks failing in a row, however far apart, that fault it
  // Quotas: beyond them the ctx call raises an error naming the key.
  uint32_t max_subscriptions = 50;        // symbols beyond the definition's, by ctx:subscribe
  uint32_t max_timers = 100;              // pending ctx:at / ctx:after timers
  uint32_t max_signals_per_minute = 60;   // ctx:signal, per minute of the host clock
  uint32_t max_signal_bytes = 16384;      // one signal as JSON text
  uint32_t max_marks_per_minute = 120;    // ctx:mark, per minute of the host clock
  FaultPolicy on_fault = FaultPolicy::Cancel;
  uint32_t warmup_bars = 200;  // bars of history replayed into a new instance before it trades
};

// With a schedule, market-data callbacks run only inside [start, end)
// exchange time of a trading day (-1: the session's own open or close, and
// end is never after the close). Without one, every bar the feed delivers
// reaches the strategy.
struct Schedule {
  int32_t start_minute = -1;
  int32_t end_minute = -1;
};

struct StrategyDefinition {
  int32_t schema = 1;
  std::string id, name, version, description;
  std::string script;  // file name inside the strategy's folder
  std::vector<std::string> symbols;
  Timeframe timeframe = Timeframe::M1;
  std::string broker;  // empty: the host's default broker
  std::vector<ParamSpec> params;
  RiskLimits risk;
  Schedule schedule;
  bool enabled = true;
  RuntimeLimits runtime;

  const ParamSpec* param(std::string_view name) const;
};

// Parses definition YAML; `source` names it in errors ("strategies/orb/orb.yaml").
// Errors read "source:line:col: key: message".
[[nodiscard]] Result<StrategyDefinition> parseDefinition(const std::string& text, const std::string& source);

// Replaces a parameter's value from text ("range_minutes=15" split by the
// caller), checked against its type, bounds and choices.
[[nodiscard]] Result<void> setParam(StrategyDefinition& definition, const std::string& name, const std::string& text);

// "1.2.3" or "1.2.3-rc.1" (semver, no build metadata).
bool isSemver(std::string_view text);
// <0, 0, >0 by semver precedence.
int compareSemver(std::string_view a, std::string_view b);

// One version of a strategy as text: the definition, the script and every
// other Lua file of its folder (modules it may require), by relative path.
struct StrategySource {
  std::string id;
  std::string dir;              // the folder it was read from (empty when loaded from the store)
  std::string definition_name;  // "<id>.yaml"
  std::map<std::string, std::string> files;  // relative path → content
  std::string sha256;                        // over every file, names included

  const std::string& definitionText() const { return files.at(definition_name); }
  std::string origin(const std::string& name) const;  // "strategies/orb/orb.lua", or "orb@<sha256 prefix>/orb.lua" from the store
};

// Reads strategies/<id>/<id>.yaml (given the YAML path or the folder) and
// every .lua file under the folder (at most 256 files, 4 MiB in all).
[[nodiscard]] Result<StrategySource> readStrategyFolder(const std::string& path);
// The digest of a set of files, as StrategySource::sha256.
std::string sourceDigest(const std::map<std::string, std::string>& files);

}  // namespace th
