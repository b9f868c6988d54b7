// Round trips from fills and the report metrics, against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "backtest/report.h"
#include "core/time.h"

namespace th {
namespace {

constexpr int64_t kMinute = 60'000'000'000;
const int64_t kOpen = fromExchangeTime(20261116, 9, 30);

BacktestFill fill(int minute, const std::string& symbol, const std::string& side, double qty, double price,
                  const std::string& role, double commission = 0) {
  return BacktestFill{kOpen + minute * kMinute, symbol, side, role, qty, price, commission, 1};
}

TEST(BacktestTrades, RoundTripsFromFillsWithTheirExitReasons) {
  std::vector<BacktestFill> fills = {
      fill(16, "SPY", "buy", 200, 101.60, "entry"),          // long 200
      fill(60, "SPY", "sell", 200, 105.60, "take_profit"),   // target: +800
      fill(70, "QQQ", "sell", 100, 50.00, "entry", 1.0),     // short 100
      fill(75, "QQQ", "buy", 40, 50.50, "stop_loss", 0.4),   // part of the stop
      fill(76, "QQQ", "buy", 60, 50.60, "stop_loss", 0.6),   // the rest
      fill(90, "IWM", "buy", 10, 20.00, "single"),           // long 10 by hand-made orders
      fill(91, "IWM", "sell", 30, 21.00, "single"),          // closes 10, opens a short 20
      fill(95, "IWM", "buy", 20, 20.50, "time_exit"),        // closes the short at the time exit
      fill(100, "AAPL", "buy", 5, 10.00, "entry"),           // still open at the end
  };
  auto trades = buildTrades(fills, {{"AAPL", 12.00}}, kOpen + 390 * kMinute);
  ASSERT_EQ(trades.size(), 5u);

  EXPECT_EQ(trades[0].symbol, "SPY");
  EXPECT_EQ(trades[0].side, "long");
  EXPECT_DOUBLE_EQ(trades[0].quantity, 200);
  EXPECT_DOUBLE_EQ(trades[0].entry_price, 101.60);
  EXPECT_DOUBLE_EQ(trades[0].exit_price, 105.60);
  EXPECT_NEAR(trades[0].pnl, 800, 1e-9);
  EXPECT_EQ(trades[0].exit_reason, "target");
  EXPECT_EQ(trades[0].exit_ns, kOpen + 60 * kMinute);

  // Short 100 at 50.00, covered 40 at 50.50 and 60 at 50.60: average 50.56, -56, commissions 2.00.
  EXPECT_EQ(trades[1].side, "short");
  EXPECT_NEAR(trades[1].exit_price, 50.56, 1e-12);
  EXPECT_NEAR(trades[1].commissions, 2.0, 1e-12);
  EXPECT_NEAR(trades[1].pnl, -56 - 2, 1e-9);
  EXPECT_EQ(trades[1].exit_reason, "stop");
  EXPECT_EQ(trades[1].exit_ns, kOpen + 76 * kMinute);

  // The sell of 30 closes the long 10 (+10) and opens a short 20 (covered at 20.50: +10).
  EXPECT_EQ(trades[2].side, "long");
  EXPECT_NEAR(trades[2].pnl, 10, 1e-9);
  EXPECT_EQ(trades[2].exit_reason, "signal");
  EXPECT_EQ(trades[3].side, "short");
  EXPECT_DOUBLE_EQ(trades[3].quantity, 20);
  EXPECT_EQ(trades[3].entry_ns, kOpen + 91 * kMinute);
  EXPECT_NEAR(trades[3].pnl, 10, 1e-9);
  EXPECT_EQ(trades[3].exit_reason, "time");

  // Open at the end: valued at the last close.
  EXPECT_EQ(trades[4].symbol, "AAPL");
  EXPECT_EQ(trades[4].exit_reason, "end");
  EXPECT_NEAR(trades[4].pnl, 10, 1e-9);
  EXPECT_EQ(trades[4].exit_ns, kOpen + 390 * kMinute);
}

TEST(BacktestMetrics, MatchHandComputedValues) {
  std::vector<BacktestTrade> trades(4);
  const double pnls[] = {300, -100, 200, -200};
  for (size_t i = 0; i < 4; ++i) {
    trades[i].pnl = pnls[i];
    trades[i].commissions = 1;
  }
  // Daily closes: 100,000 → 101,000 (+1 %) → 99,990 (-1 %) → 100,989.9 (+1 %).
  std::vector<EquityPoint> daily = {{1, 101000}, {2, 99990}, {3, 100989.9}};
  std::vector<EquityPoint> curve = {{1, 100000}, {2, 102000}, {3, 99000}, {4, 101500}, {5, 100200}};
  auto m = computeMetrics(trades, daily, curve, 100000, 30, 120);
  EXPECT_EQ(m.trades, 4u);
  EXPECT_EQ(m.wins, 2u);
  EXPECT_EQ(m.losses, 2u);
  EXPECT_DOUBLE_EQ(m.win_rate, 0.5);
  EXPECT_DOUBLE_EQ(m.average_win, 250);
  EXPECT_DOUBLE_EQ(m.average_loss, -150);
  EXPECT_TRUE(m.profit_factor_defined);
  EXPECT_DOUBLE_EQ(m.profit_factor, 500.0 / 300.0);
  EXPECT_DOUBLE_EQ(m.expectancy, 50);
  EXPECT_DOUBLE_EQ(m.net_pnl, 200);
  EXPECT_DOUBLE_EQ(m.commissions, 4);
  // The deepest fall: from 102,000 to 99,000 = 3,000, 2.941 % of the peak.
  EXPECT_DOUBLE_EQ(m.max_drawdown, 3000);
  EXPECT_NEAR(m.max_drawdown_pct, 3000.0 / 102000 * 100, 1e-12);
  // Returns +1 %, -1 %, +1 %: mean 1/3 %, sample stdev 1.1547 %; x sqrt(252) = 4.5826.
  ASSERT_TRUE(m.sharpe_defined);
  EXPECT_NEAR(m.sharpe, (0.01 / 3) / std::sqrt((2 * std::pow(0.01 - 0.01 / 3, 2) + std::pow(-0.01 - 0.01 / 3, 2)) / 2) *
                            std::sqrt(252.0),
              1e-9);
  EXPECT_NEAR(m.sharpe, 4.5826, 1e-4);
  EXPECT_DOUBLE_EQ(m.exposure, 0.25);

  // No losing trade: no profit factor; one day: no Sharpe.
  auto winners = computeMetrics({trades[0]}, {{1, 100300}}, {}, 100000, 0, 0);
  EXPECT_FALSE(winners.profit_factor_defined);
  EXPECT_FALSE(winners.sharpe_defined);
  BacktestReport report;
  report.overall = winners;
  auto json = nlohmann::json::parse(reportJson(report));
  EXPECT_TRUE(json["metrics"]["profit_factor"].is_null());
  EXPECT_TRUE(json["metrics"]["sharpe"].is_null());
}

}  // namespace
}  // namespace th
