#include "backtest/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <nlohmann/ordered_map.hpp>

#include "core/json.h"
#include "core/time.h"

namespace th {
namespace {

// Keys in the order a reader wants them, not sorted.
using Json = nlohmann::ordered_json;

constexpr double kEpsilon = 1e-9;

double rounded(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  double r = std::round(value * scale) / scale;
  return r == 0 ? 0.0 : r;  // no -0
}

struct OpenTrade {
  BacktestTrade trade;
  double position = 0;  // signed
  double entry_value = 0, entry_quantity = 0, exit_value = 0, exit_quantity = 0;
};

void closeInto(OpenTrade& open, std::vector<BacktestTrade>& out) {
  auto& t = open.trade;
  t.quantity = open.entry_quantity;
  t.entry_price = open.entry_value / open.entry_quantity;
  t.exit_price = open.exit_quantity > 0 ? open.exit_value / open.exit_quantity : t.entry_price;
  const double direction = t.side == "long" ? 1 : -1;
  t.pnl = (open.exit_value - open.entry_value * open.exit_quantity / open.entry_quantity) * direction * t.multiplier -
          t.commissions;
  out.push_back(t);
}

std::string reasonOf(const std::string& role) {
  if (role == "stop_loss") return "stop";
  if (role == "take_profit") return "target";
  if (role == "time_exit") return "time";
  // An option held to its expiry.
  if (role == "expired" || role == "exercised" || role == "assigned") return role;
  return "signal";
}

Json metricsJson(const BacktestMetrics& m) {
  return Json{{"trades", m.trades},
              {"wins", m.wins},
              {"losses", m.losses},
              {"win_rate", rounded(m.win_rate, 6)},
              {"average_win", rounded(m.average_win, 2)},
              {"average_loss", rounded(m.average_loss, 2)},
              {"gross_profit", rounded(m.gross_profit, 2)},
              {"gross_loss", rounded(m.gross_loss, 2)},
              {"profit_factor", m.profit_factor_defined ? Json(rounded(m.profit_factor, 6)) : Json()},
              {"expectancy", rounded(m.expectancy, 2)},
              {"net_pnl", rounded(m.net_pnl, 2)},
              {"commissions", rounded(m.commissions, 2)},
              {"max_drawdown", rounded(m.max_drawdown, 2)},
              {"max_drawdown_pct", rounded(m.max_drawdown_pct, 4)},
              {"sharpe", m.sharpe_defined ? Json(rounded(m.sharpe, 6)) : Json()},
              {"exposure", rounded(m.exposure, 6)}};
}

}  // namespace

std::vector<BacktestTrade> buildTrades(const std::vector<BacktestFill>& fills,
                                       const std::map<std::string, double>& last_prices, int64_t end_ns) {
  std::vector<BacktestTrade> out;
  std::map<std::string, OpenTrade> open;
  for (const auto& fill : fills) {
    double remaining = fill.quantity;
    const double sign = fill.side == "buy" ? 1 : -1;
    // A fill's commission is split over what it closes and what it opens.
    const double commission_per_unit = fill.quantity > 0 ? fill.commission / fill.quantity : 0;
    while (remaining > kEpsilon) {
      auto it = open.find(fill.symbol);
      if (it == open.end()) {
        OpenTrade fresh;
        fresh.trade.symbol = fill.symbol;
        fresh.trade.side = sign > 0 ? "long" : "short";
        fresh.trade.multiplier = fill.multiplier;
        fresh.trade.entry_ns = fill.ts_ns;
        it = open.emplace(fill.symbol, std::move(fresh)).first;
      }
      auto& o = it->second;
      const bool adding = o.position == 0 || (o.position > 0) == (sign > 0);
      if (adding) {
        o.position += sign * remaining;
        o.entry_value += remaining * fill.price;
        o.entry_quantity += remaining;
        o.trade.commissions += commission_per_unit * remaining;
        remaining = 0;
        continue;
      }
      const double closing = std::min(remaining, std::abs(o.position));
      o.position += sign * closing;
      o.exit_value += closing * fill.price;
      o.exit_quantity += closing;
      o.trade.commissions += commission_per_unit * closing;
      o.trade.exit_ns = fill.ts_ns;
      o.trade.exit_reason = reasonOf(fill.role);
      remaining -= closing;
      if (std::abs(o.position) <= kEpsilon) {
        closeInto(o, out);
        open.erase(it);
      }
    }
  }
  for (auto& [symbol, o] : open) {
    auto price = last_prices.find(symbol);
    const double close = price != last_prices.end() ? price->second : o.entry_value / o.entry_quantity;
    o.exit_value += std::abs(o.position) * close;
    o.exit_quantity += std::abs(o.position);
    o.trade.exit_ns = end_ns;
    o.trade.exit_reason = "end";
    closeInto(o, out);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.entry_ns < b.entry_ns; });
  return out;
}

BacktestMetrics computeMetrics(const std::vector<BacktestTrade>& trades, const std::vector<EquityPoint>& daily,
                               const std::vector<EquityPoint>& curve, double starting_equity,
                               uint64_t exposure_minutes, uint64_t played_minutes) {
  BacktestMetrics m;
  m.trades = trades.size();
  for (const auto& t : trades) {
    m.net_pnl += t.pnl;
    m.commissions += t.commissions;
    if (t.pnl > 0) {
      ++m.wins;
      m.gross_profit += t.pnl;
    } else if (t.pnl < 0) {
      ++m.losses;
      m.gross_loss += -t.pnl;
    }
  }
  if (m.trades > 0) {
    m.win_rate = static_cast<double>(m.wins) / static_cast<double>(m.trades);
    m.expectancy = m.net_pnl / static_cast<double>(m.trades);
  }
  if (m.wins > 0) m.average_win = m.gross_profit / static_cast<double>(m.wins);
  if (m.losses > 0) m.average_loss = -m.gross_loss / static_cast<double>(m.losses);
  if (m.gross_loss > 0) {
    m.profit_factor = m.gross_profit / m.gross_loss;
    m.profit_factor_defined = true;
  }
  // Drawdown: from the intraday curve when there is one, else from the
  // running sum of closed trades.
  double peak = starting_equity;
  auto drawdown = [&](double equity) {
    peak = std::max(peak, equity);
    if (peak - equity > m.max_drawdown) {
      m.max_drawdown = peak - equity;
      m.max_drawdown_pct = peak > 0 ? (peak - equity) / peak * 100 : 0;
    }
  };
  if (!curve.empty()) {
    for (const auto& point : curve) drawdown(point.equity);
  } else {
    double equity = starting_equity;
    for (const auto& t : trades) drawdown(equity += t.pnl);
  }
  // Sharpe of daily returns, close to close, the first day from the starting equity.
  std::vector<double> returns;
  double previous = starting_equity;
  for (const auto& day : daily) {
    if (previous > 0) returns.push_back(day.equity / previous - 1);
    previous = day.equity;
  }
  if (returns.size() >= 2) {
    double mean = 0;
    for (double r : returns) mean += r;
    mean /= static_cast<double>(returns.size());
    double variance = 0;
    for (double r : returns) variance += (r - mean) * (r - mean);
    variance /= static_cast<double>(returns.size() - 1);
    if (variance > 0) {
      m.sharpe = mean / std::sqrt(variance) * std::sqrt(252.0);
      m.sharpe_defined = true;
    }
  }
  if (played_minutes > 0) m.exposure = static_cast<double>(exposure_minutes) / static_cast<double>(played_minutes);
  return m;
}

std::string rejectionsText(const BacktestReport& report) {
  std::string text;
  for (const auto& [reason, count] : report.rejections) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", reason, count);
  }
  return text;
}

std::string reportJson(const BacktestReport& report) {
  Json params = Json::object();
  for (const auto& [name, value] : report.params) params[name] = value;
  Json by_symbol = Json::object();
  for (const auto& [symbol, m] : report.by_symbol) {
    // One symbol's trades have no equity of their own: no Sharpe, exposure or drawdown percent.
    auto j = metricsJson(m);
    for (const char* key : {"gross_profit", "gross_loss", "max_drawdown_pct", "sharpe", "exposure"}) j.erase(key);
    by_symbol[symbol] = std::move(j);
  }
  Json trades = Json::array();
  for (const auto& t : report.trades) {
    trades.push_back({{"symbol", t.symbol},
                      {"side", t.side},
                      {"qty", std::floor(t.quantity) == t.quantity ? Json(static_cast<int64_t>(t.quantity))
                                                                   : Json(t.quantity)},
                      {"entry_time", formatExchangeTime(t.entry_ns)},
                      {"exit_time", formatExchangeTime(t.exit_ns)},
                      {"entry_price", rounded(t.entry_price, 4)},
                      {"exit_price", rounded(t.exit_price, 4)},
                      {"pnl", rounded(t.pnl, 2)},
                      {"commissions", rounded(t.commissions, 2)},
                      {"exit_reason", t.exit_reason}});
  }
  Json equity = Json::array();
  for (const auto& point : report.equity) {
    equity.push_back({{"time", formatExchangeTime(point.ts_ns)}, {"equity", rounded(point.equity, 2)}});
  }
  Json log = Json::array();
  for (const auto& line : report.log) {
    log.push_back({{"time", line.time_ns ? Json(formatExchangeTime(line.time_ns)) : Json()},
                   {"level", line.level},
                   {"message", line.message}});
  }
  Json out = {{"strategy", {{"id", report.strategy}, {"version", report.version}, {"sha256", report.sha256},
                            {"params", params}}},
              {"symbols", report.symbols},
              {"from", isoDate(report.from)},
              {"to", isoDate(report.to)},
              {"data", report.data},
              {"bars", report.bars},
              {"sessions", report.sessions},
              {"signals", report.signals},
              {"orders", report.orders},
              {"rejected_orders", report.rejected_orders},
              {"rejections", report.rejections},
              {"starting_equity", rounded(report.starting_equity, 2)},
              {"ending_equity", rounded(report.ending_equity, 2)},
              {"metrics", metricsJson(report.overall)},
              {"by_symbol", by_symbol},
              {"trades", trades},
              {"equity", equity},
              {"warnings", report.warnings},
              {"log", log},
              {"log_omitted", report.log_omitted}};
  return out.dump(1) + "\n";
}

}  // namespace th
