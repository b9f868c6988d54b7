// Host configuration: strict YAML. Every key is known; an unknown key, a
// missing required key or a bad value is an error that names the file, the
// line and the key. Defaults live here and nowhere else.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"

namespace YAML {  // NOLINT(readability-identifier-naming): yaml-cpp's own name
class Node;
}  // namespace YAML

namespace th {

struct PluginConfig {
  std::string id;
  std::string library;      // a name (lib<name>.so in the plugin dir) or a path
  std::string config_json;  // the `config:` mapping as JSON, ${var} expanded
};

struct SubscriptionConfig {
  std::string provider;
  std::vector<std::string> symbols;
  uint32_t streams = 0;  // TH_STREAM_* mask
};

enum class QualityAction { Flag, Drop };

// The data service's checks on every market event (host/data/quality.h):
// what each kind of issue does, and the thresholds that define them.
struct QualityConfig {
  QualityAction out_of_order = QualityAction::Drop;
  QualityAction duplicate = QualityAction::Drop;
  QualityAction crossed_quote = QualityAction::Flag;
  QualityAction stale_quote = QualityAction::Flag;
  QualityAction bad_tick = QualityAction::Drop;
  int64_t stale_quote_ms = 5000;
  double bad_tick_jump = 10;           // multiples of the recent range
  uint32_t bad_tick_window = 50;       // recent accepted trades that define the range
  double bad_tick_min_move_pct = 0.5;  // floor of the range, as a percentage of its middle
};

// One request lane of the data service (host/data/channels.h).
struct ChannelConfig {
  std::string name;
  uint32_t concurrency = 1;  // worker threads
  double rate_per_s = 0;     // task starts per second, burst max(1, rate); 0 = unlimited
  size_t max_queued = 1024;
};

struct DataConfig {
  std::string calendar = "builtin";  // the NYSE rules, or a path to an override YAML, resolved against the config file
  QualityConfig quality;
  // The lanes there are; a config file may only retune these, not add names.
  std::vector<ChannelConfig> channels = {
      {"orders", 2, 50, 256},      {"charts", 2, 20, 1024},    {"scanner", 1, 5, 4096},
      {"strategies", 2, 20, 1024}, {"realtime", 1, 100, 1024},
  };
};

enum class OutsideSession { Drop, Keep };

struct ChartConfig {
  std::string provider;    // data plugin id charts subscribe to; empty = the first data plugin
  size_t capacity = 2000;  // bars kept per (symbol, timeframe)
  OutsideSession outside_session = OutsideSession::Drop;  // trades and bars outside regular hours
  int64_t stale_after_s = 120;                            // no update this long while the market is open: STALE
  int32_t backfill_sessions = 1;  // history from the open of this many sessions back (1 = today's)
  int64_t final_grace_ms = 2000;  // a minute's bar becomes final this long after the minute ends
  size_t max_symbols = 100;       // symbols chart requests may bring the hub to (each holds its series)
};

// Risk limits (host/risk/risk_service.h). Unset means no limit. The global
// set lives in the host config; a strategy may only tighten it.
struct RiskLimits {
  std::optional<double> max_order_quantity;     // shares or contracts per order
  std::optional<double> max_order_notional;     // quantity × price × multiplier
  std::optional<double> max_position_notional;  // per symbol, after the order fills
  std::optional<double> max_gross_exposure;     // all positions, after the order fills
  std::optional<uint32_t> max_open_orders;
  std::optional<uint32_t> max_orders_per_minute;
  std::optional<double> price_collar_pct;  // limit/stop price vs the last price, in percent
  std::optional<bool> regular_hours_only;
  std::optional<double> duplicate_window_s;  // same order again within this long: refused
  std::optional<double> daily_loss_limit;    // account currency, positive
  std::optional<double> max_drawdown;        // from the day's high of net P&L
  std::optional<uint32_t> cool_down_after_losses;
  std::optional<double> cool_down_minutes;
};

enum class LossAction { Reducing, Halted };

struct RiskConfig {
  RiskLimits limits;  // global
  bool check_buying_power = true;
  bool require_covered_calls = true;
  LossAction loss_action = LossAction::Halted;        // when daily_loss_limit is reached
  LossAction drawdown_action = LossAction::Reducing;  // when max_drawdown is reached
  std::map<std::string, RiskLimits> strategies;       // tighter limits per strategy id
};

// Lua strategies (host/script/strategy_service.h).
struct StrategiesConfig {
  std::string dir = "strategies";  // one folder per strategy; relative to the working directory
  std::string sdk;                 // sdk/lua; empty: found next to the binary or in the working directory
  bool watch = false;              // dev mode: reload a strategy when its files change
};

struct HostConfig {
  std::string source = "<embedded config/host.yaml>";
  std::string var_dir = "var";
  std::string log_level = "info";
  bool simulated = true;
  int64_t clock_start_ns = 0;  // simulated start; 0 = now
  double speed = 60;
  std::string api_host = "127.0.0.1";
  uint16_t api_port = 8080;
  size_t max_body_bytes = 1 << 20;
  size_t max_frame_bytes = 64 << 10;
  size_t max_clients = 256;
  size_t max_connections = 512;
  size_t max_queued_bytes = 16 << 20;  // per WebSocket client  // open HTTP connections; health and the kill switch keep a reserve beyond
  size_t max_queued_messages = 4096;  // per WebSocket client, before it is told to resync
  size_t max_resyncs_per_minute = 3;  // per WebSocket client; one more and it is closed
  std::string store_dir = "store";
  bool sync_orders = true;
  std::vector<PluginConfig> plugins;
  std::vector<SubscriptionConfig> subscriptions;
  DataConfig data;
  ChartConfig chart;
  RiskConfig risk;
  StrategiesConfig strategies;
};

// A strategy's limits may only tighten the global ones: each key the
// strategy sets must be at most the global value (at least, for
// duplicate_window_s and cool_down_minutes, where more is stricter; true for
// regular_hours_only when the global one is true), and a cool-down needs
// both its keys, here or globally. `where` prefixes the error's key
// ("risk.strategies.orb" → "risk.strategies.orb.max_order_quantity: 500 is
// looser than the global 100").
[[nodiscard]] Result<void> checkTighter(const RiskLimits& global, const RiskLimits& strategy, const std::string& where);

// Reads one mapping of risk limit keys (the host config's risk.limits and
// risk.strategies.<id>, a strategy YAML's risk: block) strictly: unknown
// keys, and zero or negative values where they mean nothing, are errors
// naming `source`, the line and `path`.<key>. Throws ConfigError.
RiskLimits parseRiskLimits(const YAML::Node& node, const std::string& path, const std::string& source);

// Parses YAML text; `source` names it in errors ("config/host.yaml").
// Throws ConfigError.
HostConfig parseHostConfig(const std::string& text, const std::string& source);
HostConfig loadHostConfig(const std::string& path);
// The default compiled into the binary (config/host.yaml at build time).
const std::string& embeddedHostConfig();

// Replaces ${var} in plugin configs with the var directory. Done after
// command-line overrides so --var moves plugin state files too.
void expandVariables(HostConfig& config);

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "host:port" → parts; throws ConfigError naming `what`.
std::pair<std::string, uint16_t> parseListen(const std::string& text, const std::string& what);

}  // namespace th
