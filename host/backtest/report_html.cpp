// The backtest report as one HTML page with nothing to fetch: the metrics,
// the equity curve and every trade drawn over its symbol's price, as inline
// SVG.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "backtest/report.h"
#include "core/time.h"

namespace th {
namespace {

constexpr size_t kMaxTradeCharts = 500;   // beyond, the page lists trades without charts
constexpr size_t kChartPoints = 240;      // prices drawn per trade chart, at most
constexpr int64_t kContextBars = 30;      // minutes drawn before the entry and after the exit

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string money(double v) { return fmt::format("{:.2f}", v); }

// A polyline of values over their index in a w × h box with a margin.
struct Scale {
  double lo, hi;
  size_t n;
  double w, h, pad;
  double x(size_t i) const { return pad + (n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.5) * (w - 2 * pad); }
  double y(double v) const { return pad + (hi > lo ? (hi - v) / (hi - lo) : 0.5) * (h - 2 * pad); }
};

std::string equitySvg(const BacktestReport& report) {
  const auto& curve = report.equity_curve;
  if (curve.empty()) return "<p>No equity curve: no bar was played.</p>";
  double lo = report.starting_equity, hi = report.starting_equity;
  for (const auto& p : curve) {
    lo = std::min(lo, p.equity);
    hi = std::max(hi, p.equity);
  }
  Scale s{lo, hi, curve.size(), 960, 260, 64};  // room on the left for the equity labels
  std::string points;
  for (size_t i = 0; i < curve.size(); ++i) points += fmt::format("{:.1f},{:.1f} ", s.x(i), s.y(curve[i].equity));
  return fmt::format(
      R"(<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="equity curve">
<line x1="{p}" y1="{base:.1f}" x2="{r}" y2="{base:.1f}" class="base"/>
<polyline points="{points}" class="equity"/>
<text x="4" y="{top:.1f}">{hi}</text><text x="4" y="{bottom:.1f}">{lo}</text>
<text x="{p}" y="{h2}">{first}</text><text x="{r}" y="{h2}" text-anchor="end">{last}</text>
</svg>)",
      fmt::arg("w", s.w), fmt::arg("h", s.h), fmt::arg("p", s.pad), fmt::arg("r", s.w - s.pad),
      fmt::arg("base", s.y(report.starting_equity)), fmt::arg("points", points), fmt::arg("top", s.y(hi) + 4),
      fmt::arg("bottom", s.y(lo) + 4), fmt::arg("hi", money(hi)), fmt::arg("lo", money(lo)), fmt::arg("h2", s.h - 6),
      fmt::arg("first", formatExchangeTime(curve.front().ts_ns).substr(0, 10)),
      fmt::arg("last", formatExchangeTime(curve.back().ts_ns).substr(0, 10)));
}

std::string tradeSvg(const BacktestTrade& t, const PriceSeries& series) {
  const auto& bars = series.bars;
  auto at = [&](int64_t ts) {
    return static_cast<int64_t>(std::lower_bound(bars.begin(), bars.end(), ts,
                                                 [](const Candle& c, int64_t v) { return c.start_ns < v; }) -
                                bars.begin());
  };
  const int64_t n = static_cast<int64_t>(bars.size());
  // A fill carries the start of the bar it came in.
  const int64_t entry = std::min(at(t.entry_ns), n - 1);
  const int64_t exit = std::min(at(t.exit_ns), n - 1);
  if (n == 0 || entry < 0) return "";
  const int64_t from = std::max<int64_t>(0, entry - kContextBars);
  const int64_t to = std::min(n, std::max(exit, entry) + kContextBars + 1);
  const int64_t step = std::max<int64_t>(1, (to - from + static_cast<int64_t>(kChartPoints) - 1) /
                                                static_cast<int64_t>(kChartPoints));
  double lo = std::min(t.entry_price, t.exit_price), hi = std::max(t.entry_price, t.exit_price);
  for (int64_t i = from; i < to; ++i) {
    lo = std::min(lo, bars[static_cast<size_t>(i)].low);
    hi = std::max(hi, bars[static_cast<size_t>(i)].high);
  }
  const auto count = static_cast<size_t>(to - from);
  Scale s{lo, hi, count, 460, 150, 14};
  std::string points;
  for (int64_t i = from; i < to; i += step) {
    points += fmt::format("{:.1f},{:.1f} ", s.x(static_cast<size_t>(i - from)), s.y(bars[static_cast<size_t>(i)].close));
  }
  const char* cls = t.pnl >= 0 ? "win" : "loss";
  return fmt::format(
      R"(<svg viewBox="0 0 {w} {h}" width="460" height="150" role="img" aria-label="trade over price">
<polyline points="{points}" class="price"/>
<line x1="{p}" y1="{ey:.1f}" x2="{r}" y2="{ey:.1f}" class="entry"/>
<line x1="{p}" y1="{xy:.1f}" x2="{r}" y2="{xy:.1f}" class="exit {cls}"/>
<circle cx="{ex:.1f}" cy="{ey:.1f}" r="4" class="entry"/><circle cx="{xx:.1f}" cy="{xy:.1f}" r="4" class="exit {cls}"/>
<text x="2" y="11">{hi}</text><text x="2" y="{h2}">{lo}</text>
</svg>)",
      fmt::arg("w", s.w), fmt::arg("h", s.h), fmt::arg("p", s.pad), fmt::arg("r", s.w - s.pad),
      fmt::arg("points", points), fmt::arg("ey", s.y(t.entry_price)), fmt::arg("xy", s.y(t.exit_price)),
      fmt::arg("ex", s.x(static_cast<size_t>(entry - from))), fmt::arg("xx", s.x(static_cast<size_t>(exit - from))),
      fmt::arg("cls", cls), fmt::arg("hi", fmt::format("{:.2f}", hi)), fmt::arg("lo", fmt::format("{:.2f}", lo)),
      fmt::arg("h2", s.h - 3));
}

std::string metricRows(const BacktestMetrics& m) {
  auto row = [](std::string_view name, const std::string& value) {
    return fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, value);
  };
  std::string out;
  out += row("trades", fmt::format("{} ({} won, {} lost)", m.trades, m.wins, m.losses));
  out += row("win rate", fmt::format("{:.1f} %", m.win_rate * 100));
  out += row("average win / loss", fmt::format("{} / {}", money(m.average_win), money(m.average_loss)));
  out += row("profit factor", m.profit_factor_defined ? fmt::format("{:.2f}", m.profit_factor) : "- (no losing trade)");
  out += row("expectancy per trade", money(m.expectancy));
  out += row("net P&amp;L", money(m.net_pnl));
  out += row("commissions", money(m.commissions));
  out += row("max drawdown", fmt::format("{} ({:.2f} %)", money(m.max_drawdown), m.max_drawdown_pct));
  out += row("Sharpe (daily, &#8730;252)", m.sharpe_defined ? fmt::format("{:.2f}", m.sharpe) : "- (under two days)");
  out += row("exposure", fmt::format("{:.1f} % of the minutes", m.exposure * 100));
  return out;
}

}  // namespace

std::string reportHtml(const BacktestReport& report) {
  std::string params;
  for (const auto& [name, value] : report.params) {
    params += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape(name), escape(value));
  }
  std::string trades;
  for (size_t i = 0; i < report.trades.size(); ++i) {
    const auto& t = report.trades[i];
    std::string chart;
    auto prices = report.prices.find(t.symbol);
    if (i < kMaxTradeCharts && prices != report.prices.end()) chart = tradeSvg(t, prices->second);
    trades += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{:g}</td><td>{}<br>{:.4f}</td><td>{}<br>{:.4f}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        t.pnl >= 0 ? "win" : "loss", i + 1, escape(t.symbol), t.side, t.quantity, formatExchangeTime(t.entry_ns),
        t.entry_price, formatExchangeTime(t.exit_ns), t.exit_price, t.exit_reason, money(t.pnl), chart);
  }
  std::string notes;
  for (const auto& w : report.warnings) notes += fmt::format("<p class=\"warn\">{}</p>\n", escape(w));
  if (!report.rejections.empty()) notes += fmt::format("<p>Rejected orders: {}.</p>\n", escape(rejectionsText(report)));
  if (!report.log.empty()) {
    std::string lines;
    for (const auto& line : report.log) {
      lines += fmt::format("<tr class=\"{}\"><td>{}</td><td>{}</td></tr>\n", line.level == "error" ? "warn" : "",
                           line.time_ns ? formatExchangeTime(line.time_ns) : "", escape(line.message));
    }
    const uint64_t total = report.log.size() + report.log_omitted;
    notes += fmt::format("<details><summary>Log: {} {} (warnings and errors){}</summary>\n<table>\n{}</table></details>\n",
                         total, total == 1 ? "line" : "lines",
                         report.log_omitted ? fmt::format(", the first {} shown", report.log.size()) : "", lines);
  }
  if (report.trades.size() > kMaxTradeCharts) {
    notes += fmt::format("<p>The first {} trades are charted.</p>\n", kMaxTradeCharts);
  }
  return fmt::format(
      R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Backtest {id} {version}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 8px 0 20px; }}
th, td {{ padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
svg text {{ font-size: 11px; fill: #555; }}
.equity {{ fill: none; stroke: #1f6feb; stroke-width: 1.5; }}
.price {{ fill: none; stroke: #666; stroke-width: 1; }}
.base {{ stroke: #aaa; stroke-dasharray: 4 3; }}
line.entry {{ stroke: #1f6feb; stroke-dasharray: 3 2; }} circle.entry {{ fill: #1f6feb; }}
line.exit.win {{ stroke: #1a7f37; stroke-dasharray: 3 2; }} circle.exit.win {{ fill: #1a7f37; }}
line.exit.loss {{ stroke: #cf222e; stroke-dasharray: 3 2; }} circle.exit.loss {{ fill: #cf222e; }}
tr.win td:nth-child(8) {{ color: #1a7f37; }} tr.loss td:nth-child(8) {{ color: #cf222e; }}
.warn {{ color: #9a6700; }}
</style></head><body>
<h1>Backtest: {id} {version}</h1>
<p>{symbols} from {from} to {to}, {data}: {bars} bars in {sessions} sessions. Equity {start} to {end}.
{signals} signals, {orders} orders ({rejected} rejected).</p>
{notes}<h2>Equity</h2>
{equity}
<h2>Metrics</h2>
<table>
{metrics}</table>
<h2>Parameters</h2>
<table>
{params}</table>
<h2>Trades</h2>
<table>
<tr><th>#</th><th>symbol</th><th>side</th><th>qty</th><th>entry</th><th>exit</th><th>reason</th><th>P&amp;L</th><th>over price</th></tr>
{trades}</table>
</body></html>
)",
      fmt::arg("id", escape(report.strategy)), fmt::arg("version", escape(report.version)),
      fmt::arg("symbols", escape(fmt::format("{}", fmt::join(report.symbols, ", ")))),
      fmt::arg("from", isoDate(report.from)), fmt::arg("to", isoDate(report.to)),
      fmt::arg("data", escape(report.data)), fmt::arg("bars", report.bars), fmt::arg("sessions", report.sessions),
      fmt::arg("start", money(report.starting_equity)), fmt::arg("end", money(report.ending_equity)),
      fmt::arg("signals", report.signals), fmt::arg("orders", report.orders),
      fmt::arg("rejected", report.rejected_orders), fmt::arg("notes", notes), fmt::arg("equity", equitySvg(report)),
      fmt::arg("metrics", metricRows(report.overall)), fmt::arg("params", params), fmt::arg("trades", trades));
}

}  // namespace th
