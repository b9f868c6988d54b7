// tradehost backtest: runs one strategy over bars (host/backtest), writes the
// JSON (and HTML) report, shows progress on a terminal and a summary.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>

#include "backtest/backtest.h"
#include "cli/commands.h"
#include "core/time.h"

namespace th {
namespace {

// "2026-11-20" → 20261120, or 0.
int32_t parseDate(const std::string& text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
      d > 31) {
    return 0;
  }
  const int32_t date = y * 10000 + m * 100 + d;
  // 2026-02-31 would roll into March: only dates that exist.
  return toExchangeTime(fromExchangeTime(date, 12, 0)).yyyymmdd == date ? date : 0;
}

std::vector<std::string> splitSymbols(const std::string& text) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= text.size()) {
    auto comma = text.find(',', from);
    auto item = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    for (auto& c : item) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

bool writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    std::cerr << fmt::format("tradehost backtest: cannot write {}\n", path);
    return false;
  }
  return true;
}

}  // namespace

int backtestCommand(const BacktestCommandOptions& options) {
  BacktestOptions run;
  run.strategy = options.strategy;
  run.strategies_dir = options.strategies_dir;
  run.config = options.config;
  run.plugin_dir = options.plugin_dir;
  run.symbols = splitSymbols(options.symbols);
  run.from = parseDate(options.from);
  run.to = parseDate(options.to);
  if (run.from == 0 || run.to == 0) {
    std::cerr << fmt::format("tradehost backtest: --from {} --to {}: dates are YYYY-MM-DD\n", options.from, options.to);
    return 2;
  }
  run.data = options.data;
  run.synthetic_seed = options.synthetic_seed;
  for (const auto& item : options.set) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << fmt::format("tradehost backtest: --set {}: expected name=value\n", item);
      return 2;
    }
    run.params[item.substr(0, eq)] = item.substr(eq + 1);
  }
  for (const auto& item : options.hold) {
    const auto eq = item.find('=');
    double shares = 0;
    const char* end = item.data() + item.size();
    const bool number = eq != std::string::npos && eq > 0 &&
                        std::from_chars(item.data() + eq + 1, end, shares).ptr == end && eq + 1 < item.size();
    if (!number || !(shares > 0) || shares != std::floor(shares)) {
      std::cerr << fmt::format("tradehost backtest: --hold {}: expected SYMBOL=SHARES, a whole number above 0\n", item);
      return 2;
    }
    run.holdings[item.substr(0, eq)] += shares;
  }
  const bool bar = !options.quiet && isatty(STDERR_FILENO);
  // Ctrl-C stops the backtest between bars, so its temporary store is removed.
  static std::atomic<bool> interrupted{false};
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  auto progress = [bar](uint64_t done, uint64_t total) {
    if (interrupted) return false;
    if (!bar || total == 0) return true;
    const int width = 40;
    const auto filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::cerr << fmt::format("\r[{:<{}}] {:3d}% {}/{} bars", std::string(static_cast<size_t>(filled), '#'), width,
                             static_cast<int>(done * 100 / total), done, total)
              << std::flush;
    return true;
  };
  // The services' start-up lines are for sessions. Warnings go to the
  // report's log (the terminal shows errors and, after the run, a count).
  spdlog::set_level(spdlog::level::warn);
  auto report = runBacktest(run, progress);
  if (bar) std::cerr << "\n";
  if (!report) {
    std::cerr << fmt::format("tradehost backtest: {}\n", report.error().message);
    return report.error().code == ErrorCode::InvalidArgument || report.error().code == ErrorCode::NotFound ? 2 : 1;
  }
  if (!writeFile(options.out, reportJson(*report))) return 1;
  if (!options.html.empty() && !writeFile(options.html, reportHtml(*report))) return 1;
  if (!options.quiet) {
    const auto& m = report->overall;
    std::cout << fmt::format(
        "{} {} on {} from {} to {}: {} bars, {} sessions\n"
        "trades {} (win rate {:.1f} %), net P&L {:.2f}, profit factor {}, max drawdown {:.2f} ({:.2f} %), "
        "Sharpe {}\nequity {:.2f} -> {:.2f}; report {}{}\n",
        report->strategy, report->version, fmt::join(report->symbols, ","), options.from, options.to, report->bars,
        report->sessions, m.trades, m.win_rate * 100, m.net_pnl,
        m.profit_factor_defined ? fmt::format("{:.2f}", m.profit_factor) : "-", m.max_drawdown, m.max_drawdown_pct,
        m.sharpe_defined ? fmt::format("{:.2f}", m.sharpe) : "-", report->starting_equity, report->ending_equity,
        options.out, options.html.empty() ? "" : ", " + options.html);
    if (!report->rejections.empty()) {
      std::cout << fmt::format("rejected orders {}: {}\n", report->rejected_orders, rejectionsText(*report));
    }
    if (const uint64_t logged = report->log.size() + report->log_omitted; logged > 0) {
      const auto& first = report->log.front();
      std::cout << fmt::format("{} log {} (warnings and errors) in {} under \"log\"; the first, at {}: {}\n", logged,
                               logged == 1 ? "line" : "lines", options.out,
                               first.time_ns ? formatExchangeTime(first.time_ns) : "start-up", first.message);
    }
  }
  // Warnings go to the terminal even with --quiet: a report can be empty
  // for a reason the trader must hear (every order refused, bars on a
  // holiday), and it is the last thing printed.
  for (const auto& w : report->warnings) std::cerr << "warning: " << w << "\n";
  return 0;
}

}  // namespace th
