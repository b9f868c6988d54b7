// Backtests: one strategy over recorded or synthetic 1-minute bars, on the
// engine that trades live — the strategy service and its Lua sandbox, the
// broker service with its risk checks, and the paper broker's fill model
// loaded from libpaper.so — with the clock set by the bars. Bars come from
// the replay plugin (--data: CSV files) or the synthetic plugin
// (--synthetic-seed), through their history calls. Everything runs on one
// thread in a fixed order, so the same inputs give the same report, byte
// for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backtest/report.h"
#include "core/error.h"

namespace th {

struct BacktestOptions {
  std::string strategy;                    // its folder name under strategies_dir
  std::string strategies_dir = "strategies";
  std::string sdk_dir;                     // sdk/lua; empty: beside the binary
  std::string plugin_dir;                  // libpaper.so, libreplay.so, libsynthetic.so; empty: beside the binary
  std::string config;                      // host config for risk limits and paper commissions; empty: embedded
  std::vector<std::string> symbols;        // empty: every symbol of the data (synthetic: the strategy's)
  int32_t from = 0, to = 0;                // yyyymmdd, inclusive
  std::string data;                        // a CSV file or a folder of them (replay formats)
  std::optional<uint64_t> synthetic_seed;  // instead of data
  std::map<std::string, std::string> params;  // --set name=value
  // --hold SYMBOL=SHARES: shares the account holds from the start, bought by
  // hand with market orders at the first played minute (at its open).
  std::map<std::string, double> holdings;
  // Calendar days of bars before `from` kept as history (ctx:history, daily
  // indicators) without being traded.
  int32_t history_days = 100;
};

// Called now and then while bars play: bars done of all. Returning false
// stops the backtest (Unavailable, "stopped after N of M bars"); its
// temporary store is removed all the same.
using BacktestProgress = std::function<bool(uint64_t done, uint64_t total)>;

[[nodiscard]] Result<BacktestReport> runBacktest(const BacktestOptions& options, const BacktestProgress& progress = {});

}  // namespace th
