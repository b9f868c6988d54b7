// What a backtest found: its trades (round trips built from the fills), the
// equity curve and the metrics of STRATEGIES.md, as JSON for programs and
// as a self-contained HTML page for people.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backtest/run_log.h"
#include "chart/candle.h"

namespace th {

// One fill of the strategy, with the role of its order ("entry", "single",
// "stop_loss", "take_profit", "time_exit", ...).
struct BacktestFill {
  int64_t ts_ns = 0;
  std::string symbol, side, role;  // side "buy" | "sell"
  double quantity = 0, price = 0, commission = 0, multiplier = 1;
};

// A round trip: from flat to flat on one symbol.
struct BacktestTrade {
  std::string symbol, side;  // "long" | "short"
  double quantity = 0, multiplier = 1;
  int64_t entry_ns = 0, exit_ns = 0;
  double entry_price = 0, exit_price = 0;  // volume-weighted over the fills
  double pnl = 0, commissions = 0;         // pnl after commissions
  // stop | target | time (the broker's legs), signal (the strategy's own
  // closing order), end (still open when the data ended: valued at the last close).
  std::string exit_reason;
};

struct EquityPoint {
  int64_t ts_ns = 0;
  double equity = 0;
};

struct BacktestMetrics {
  size_t trades = 0, wins = 0, losses = 0;
  double win_rate = 0, average_win = 0, average_loss = 0;
  double gross_profit = 0, gross_loss = 0;
  double profit_factor = 0;  // gross profit / gross loss; 0 without losses (JSON null)
  bool profit_factor_defined = false;
  double expectancy = 0;  // mean pnl per trade
  double net_pnl = 0, commissions = 0;
  double max_drawdown = 0, max_drawdown_pct = 0;
  double sharpe = 0;  // mean / sample stdev of daily returns × √252; undefined under two days or no variation
  bool sharpe_defined = false;
  double exposure = 0;  // share of the played minutes with a position open
};

// Minutes of one symbol around its trades, for the HTML charts.
struct PriceSeries {
  std::vector<Candle> bars;
};

// The most log lines a report keeps; the rest are counted.
inline constexpr size_t kMaxLogLines = 1000;

struct BacktestReport {
  std::string strategy, version, sha256;
  std::map<std::string, std::string> params;  // every parameter as run, as text
  std::vector<std::string> symbols;
  int32_t from = 0, to = 0;
  std::string data;  // "synthetic seed 7" or the path
  uint64_t bars = 0, sessions = 0, signals = 0, orders = 0, rejected_orders = 0;
  double starting_equity = 0, ending_equity = 0;
  std::vector<BacktestFill> fills;
  std::vector<BacktestTrade> trades;
  std::vector<EquityPoint> equity;        // at each session's close
  std::vector<EquityPoint> equity_curve;  // every 30 minutes and at each close (HTML)
  BacktestMetrics overall;
  std::map<std::string, BacktestMetrics> by_symbol;
  std::map<std::string, PriceSeries> prices;  // the played minutes per symbol
  std::vector<std::string> warnings;         // callback errors, a fault
  // The rejected orders by why: the risk service's reason code, or BROKER
  // for those the broker refused (the paper broker: buying power, a bad price).
  std::map<std::string, uint64_t> rejections;
  std::vector<BacktestLogLine> log;  // the run's warnings and errors, the first kMaxLogLines
  uint64_t log_omitted = 0;          // and how many more there were
  // Wall-clock seconds spent loading the bars and playing them (not in the
  // reports: they would make two runs differ).
  double load_seconds = 0, play_seconds = 0;
};

// "BROKER 63, COOL_DOWN 67": the rejected orders by reason, for people.
std::string rejectionsText(const BacktestReport& report);

// Round trips from fills in time order (a fill that crosses zero closes
// one trade and opens the next); trades still open are closed at
// `last_prices` with reason "end".
std::vector<BacktestTrade> buildTrades(const std::vector<BacktestFill>& fills,
                                       const std::map<std::string, double>& last_prices, int64_t end_ns);

// The metrics of trades, the close-to-close equity and the intraday equity
// curve (for the drawdown); exposure_minutes of played_minutes in a position.
BacktestMetrics computeMetrics(const std::vector<BacktestTrade>& trades, const std::vector<EquityPoint>& daily,
                               const std::vector<EquityPoint>& curve, double starting_equity,
                               uint64_t exposure_minutes, uint64_t played_minutes);

std::string reportJson(const BacktestReport& report);
std::string reportHtml(const BacktestReport& report);

}  // namespace th
