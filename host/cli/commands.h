// The subcommands of the tradehost executable. Each returns the process exit
// code: 0 on success, 1 on a runtime failure, 2 on bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace th {

struct RunOptions {
  std::string config_path, var_dir, api_listen, duration, plugin_dir, strategies_dir;
  double speed = -1;  // < 0: from the config
  bool watch_strategies = false;
};
int runCommand(const RunOptions& options);

// tradehost backtest (cmd_backtest.cpp).
struct BacktestCommandOptions {
  std::string strategy, symbols, from, to, data, out, html, strategies_dir = "strategies", config, plugin_dir;
  std::optional<uint64_t> synthetic_seed;
  std::vector<std::string> set;   // name=value
  std::vector<std::string> hold;  // SYMBOL=SHARES
  bool quiet = false;
};
int backtestCommand(const BacktestCommandOptions& options);

struct PluginListOptions {
  std::string dir;
  bool json = false;
};
int pluginListCommand(const PluginListOptions& options);

struct PluginInspectOptions {
  std::string file;
  bool json = false;
};
int pluginInspectCommand(const PluginInspectOptions& options);

struct PluginCheckOptions {
  std::string file, config, symbol = "SPY", at;
  bool json = false;
};
int pluginCheckCommand(const PluginCheckOptions& options);

struct ConfigValidateOptions {
  std::string file;
};
int configValidateCommand(const ConfigValidateOptions& options);
const std::string& embeddedHostConfigText();

struct JournalOptions {
  std::string var_dir = "var", store_dir, kind;
  uint64_t from = 1;
  size_t limit = 20;
  bool verify = false;
};
int journalCommand(const JournalOptions& options);

// Commands that talk to a running host over its API (cmd_trading.cpp): the
// bearer token comes from TRADEHOST_TOKEN, and commands that change anything
// refuse to run without it. A 4xx answer (a risk rejection included) exits
// 2, an unreachable host or a 5xx exits 1.
struct ApiCallOptions {
  std::string api = "127.0.0.1:8080";  // HOST:PORT of the host's API
  bool json = false;                   // print the host's JSON instead of a table
};

// Prices and the quantity are kept as typed and checked by the command, so
// a typo is reported by name and exits 2. Empty: not given.
struct OrderSubmitOptions {
  ApiCallOptions call;
  std::string symbol, side, quantity;
  std::string type;  // empty: limit and/or stop from the prices given, else market
  std::string limit, stop, time_in_force, order_class, take_profit, stop_loss, stop_loss_limit;
  std::string strategy, broker;
};
int orderSubmitCommand(const OrderSubmitOptions& options);

struct OrderIdOptions {
  ApiCallOptions call;
  std::string id;  // client order id
};
int orderCancelCommand(const OrderIdOptions& options);
int orderShowCommand(const OrderIdOptions& options);

struct OrderListOptions {
  ApiCallOptions call;
  bool all = false;  // every order, not only open ones
  std::string strategy, symbol;
  std::string limit;  // empty: the host's default
};
int orderListCommand(const OrderListOptions& options);

struct PositionsOptions {
  ApiCallOptions call;
  std::string strategy;
};
int positionsCommand(const PositionsOptions& options);
int accountCommand(const ApiCallOptions& options);
int riskCommand(const ApiCallOptions& options);

struct KillOptions {
  ApiCallOptions call;
  bool flatten = false;
  std::string reason;
};
int killCommand(const KillOptions& options);

struct ResumeOptions {
  ApiCallOptions call;
  bool reducing = false;  // resume in REDUCING rather than ACTIVE
  std::string reason;
};
int resumeCommand(const ResumeOptions& options);

// tradehost strategy ... (cmd_strategy.cpp).
struct StrategyCommandOptions {
  ApiCallOptions call;
  std::string id;
  std::string version;  // rollback --to: a semver, "#3", or a sha256 prefix; empty: the previous version
  std::string reason;   // enable/disable
};
int strategyListCommand(const ApiCallOptions& options);
int strategyShowCommand(const StrategyCommandOptions& options);
int strategyHistoryCommand(const StrategyCommandOptions& options);
int strategyReloadCommand(const StrategyCommandOptions& options);
int strategyRollbackCommand(const StrategyCommandOptions& options);
int strategyEnableCommand(const StrategyCommandOptions& options, bool enabled);

// tradehost checklist SYMBOL [--dir long|short] (cmd_strategy.cpp).
struct ChecklistCommandOptions {
  ApiCallOptions call;
  std::string symbol;
  std::string direction = "long";
};
int checklistCommand(const ChecklistCommandOptions& options);

// tradehost screen covered-call [--symbols A,B] [--strategy ID] (cmd_screen.cpp):
// the strategy's on-demand screen (POST /api/v1/strategies/{id}/request/screen).
struct ScreenCommandOptions {
  ApiCallOptions call;
  std::string kind;                       // covered-call
  std::string symbols;                    // "SPY,QQQ"; empty: the strategy's own
  std::string strategy = "covered_call";  // the strategy that answers
};
int screenCommand(const ScreenCommandOptions& options);

struct StrategyValidateOptions {
  std::string path;    // strategies/<id>/<id>.yaml or the folder
  std::string config;  // host config whose risk limits the strategy's must tighten (default: the embedded one)
  std::string sdk;     // sdk/lua (default: beside the binary)
};
int strategyValidateCommand(const StrategyValidateOptions& options);

// tradehost calendar --from YYYY [--to YYYY] [--json] [--config FILE]
// (cmd_calendar.cpp): every session of those years, and every weekday the
// exchange is closed, with its name.
struct CalendarOptions {
  std::string from, to;
  std::string config;  // a host configuration whose data.calendar override applies
  bool json = false;
};
int calendarCommand(const CalendarOptions& options);

// "30s", "5m", "1h", "250ms", "90" (seconds) → milliseconds; -1 when malformed.
int64_t parseDurationMs(const std::string& text);

}  // namespace th
