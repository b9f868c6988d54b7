#include "backtest/backtest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "backtest/backtest_internal.h"
#include "config/config.h"
#include "core/time.h"
#include "script/definition.h"

namespace th {
namespace {

using backtest::Host;

// A fresh folder for the backtest's store, removed with the host.
Result<std::string> scratchDir() {
  auto pattern = (std::filesystem::temp_directory_path() / "tradehost-backtest-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    return fail(ErrorCode::Io, fmt::format("cannot create a folder under {}", std::filesystem::temp_directory_path().string()));
  }
  return pattern;
}

Result<StrategyDefinition> readDefinition(const BacktestOptions& options) {
  auto folder = (std::filesystem::path(options.strategies_dir) / options.strategy).string();
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return fail(ErrorCode::NotFound,
                fmt::format("--strategy {}: no folder {} (strategies are read from {})", options.strategy, folder,
                            options.strategies_dir));
  }
  auto source = readStrategyFolder(folder);
  if (!source) return std::unexpected(source.error());
  auto definition = parseDefinition(source->definitionText(), source->origin(source->definition_name));
  if (!definition) return std::unexpected(definition.error());
  for (const auto& [name, text] : options.params) {
    if (auto set = setParam(*definition, name, text); !set) {
      return fail(ErrorCode::InvalidArgument, fmt::format("--set {}={}: {}", name, text, set.error().message));
    }
  }
  return definition;
}

std::string paramText(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

}  // namespace

Result<BacktestReport> runBacktest(const BacktestOptions& options, const BacktestProgress& progress) {
  if (options.from == 0 || options.to == 0 || options.from > options.to) {
    return fail(ErrorCode::InvalidArgument, fmt::format("--from {} --to {}: the range is empty", isoDate(options.from),
                                                        isoDate(options.to)));
  }
  if (options.data.empty() == !options.synthetic_seed) {
    return fail(ErrorCode::InvalidArgument, "give the bars with either --data PATH or --synthetic-seed N");
  }
  HostConfig config;
  try {
    config = options.config.empty() ? parseHostConfig(embeddedHostConfig(), "<embedded config/host.yaml>")
                                    : loadHostConfig(options.config);
  } catch (const ConfigError& e) {
    return fail(ErrorCode::InvalidArgument, e.what());
  }
  auto definition = readDefinition(options);
  if (!definition) return std::unexpected(definition.error());

  // The symbols: as given, else every symbol of the data (as the data
  // plugin lists them once it has loaded), else (synthetic) the strategy's.
  std::vector<std::string> symbols = options.symbols;
  if (symbols.empty() && !options.data.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(options.data, ec)) {
      return fail(ErrorCode::NotFound, fmt::format("--data {}: no such file or folder", options.data));
    }
  }
  if (symbols.empty() && options.data.empty()) symbols = definition->symbols;
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());

  const int32_t history_from = addDays(options.from, -options.history_days);
  const int64_t load_from = fromExchangeTime(history_from, 0, 0);
  const int64_t play_from = fromExchangeTime(options.from, 0, 0);
  const int64_t play_to = fromExchangeTime(options.to, 23, 59) + kNsPerMinute;

  nlohmann::json data_config;
  std::string library;
  std::string data_name;
  if (options.synthetic_seed) {
    library = "synthetic";
    // The configured market (its symbols' prices and volatilities), from this seed and date.
    for (const auto& plugin : config.plugins) {
      if (plugin.library == "synthetic") data_config = nlohmann::json::parse(plugin.config_json, nullptr, false);
    }
    if (!data_config.is_object()) data_config = nlohmann::json::object();
    data_config.erase("sessions");
    data_config["seed"] = *options.synthetic_seed;
    data_config["start_date"] = isoDate(history_from);
    data_name = fmt::format("synthetic seed {}", *options.synthetic_seed);
  } else {
    library = "replay";
    data_config = {{"files", {options.data}}};
    if (!symbols.empty()) data_config["symbols"] = symbols;
    data_name = options.data;
  }

  auto dir = scratchDir();
  if (!dir) return std::unexpected(dir.error());
  const auto load_started = std::chrono::steady_clock::now();
  Host host(*dir);
  // Log lines carry the simulated time once bars play; none before.
  bool playing = false;
  RunLog log([&host, &playing] { return playing ? host.nowNs() : 0; }, kMaxLogLines);
  host.setNow(play_to);  // a provider shows no bar after its clock
  auto opened = host.open(config, options, data_config.dump(), library);
  if (!opened) return std::unexpected(opened.error());
  const SessionCalendar& calendar = host.calendar();
  for (int32_t day : {options.from, options.to}) {
    if (!calendar.covers(day)) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{}: the exchange calendar covers {}-{} only; {} is outside it, so its sessions are "
                              "not known",
                              day == options.from ? "--from" : "--to", calendar.firstYear(), calendar.lastYear(),
                              isoDate(day)));
    }
  }
  if (symbols.empty() && !options.data.empty()) {
    auto listed = host.data().symbols();
    if (!listed) {
      return fail(ErrorCode::InvalidArgument, fmt::format("--data {}: {}; name the symbols with --symbols",
                                                          options.data, listed.error().message));
    }
    symbols = std::move(*listed);
  }
  if (symbols.empty() && !options.data.empty()) {
    return fail(ErrorCode::InvalidArgument, fmt::format("--data {}: no bars found", options.data));
  }
  auto bars = backtest::loadAllBars(host.data(), symbols, load_from, play_to,
                                    std::max(1u, std::thread::hardware_concurrency()));
  if (!bars) return std::unexpected(bars.error());
  int64_t first_played = play_to;
  for (const auto& [symbol, list] : *bars) {
    auto first = std::lower_bound(list.begin(), list.end(), play_from,
                                  [](const Candle& c, int64_t t) { return c.start_ns < t; });
    if (first != list.end()) first_played = std::min(first_played, first->start_ns);
  }
  if (first_played == play_to) {
    return fail(ErrorCode::InvalidArgument, fmt::format("no bars of {} between {} and {} in {}",
                                                        fmt::join(symbols, ","), isoDate(options.from),
                                                        isoDate(options.to), data_name));
  }
  host.setBars(std::move(*bars), play_from);
  std::vector<std::string> closed_warnings;
  for (const auto& [day, count] : host.closedDays()) {
    if (day < options.from) continue;  // history before the range: not the trader's question
    std::string_view name = calendar.dayName(day);
    closed_warnings.push_back(fmt::format("{} bar(s) on {}, {}: not traded", count, isoDate(day),
                                          !calendar.covers(day) ? "outside the calendar's years"
                                          : name.empty()        ? "a weekend, when the exchange is closed"
                                                                : fmt::format("a day the exchange was closed ({})", name)));
  }
  // The strategy starts a minute before the first bar, as a session does.
  host.setNow(first_played - kNsPerMinute);

  StrategyOptions strategy_options;
  strategy_options.dir = options.strategies_dir;
  strategy_options.sdk_dir = options.sdk_dir.empty() ? defaultSdkLuaDir() : options.sdk_dir;
  strategy_options.global_limits = config.risk.limits;
  strategy_options.configured_limits = config.risk.strategies;
  strategy_options.only = {options.strategy};
  strategy_options.params[options.strategy] = options.params;
  strategy_options.symbols[options.strategy] = symbols;
  // A callback is stopped only when it is clearly stuck (a minute), never
  // because this machine is slower than another: the report must not depend on it.
  strategy_options.budget_ms = 60'000;
  if (auto started = host.startStrategies(std::move(strategy_options)); !started) return std::unexpected(started.error());
  auto started_info = host.strategies().strategyJson(options.strategy);
  if (!started_info) {
    return fail(ErrorCode::NotFound, fmt::format("--strategy {}: no strategy folder of that name in {}",
                                                 options.strategy, options.strategies_dir));
  }
  auto info = nlohmann::json::parse(*started_info);
  if (info.value("status", "") != "running") {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("strategy {} did not start: {}", options.strategy, info.value("reason", std::string("?"))));
  }

  if (auto held = host.buyHoldings(options.holdings); !held) return std::unexpected(held.error());
  const auto play_started = std::chrono::steady_clock::now();
  playing = true;
  if (!host.play(progress)) {
    return fail(ErrorCode::Unavailable,
                fmt::format("stopped after {} bars; no report written", host.played()));
  }
  const auto played = std::chrono::steady_clock::now();
  auto final_info = nlohmann::json::parse(*host.strategies().strategyJson(options.strategy));
  host.finish();

  BacktestReport report;
  report.strategy = options.strategy;
  report.version = info.value("version", "");
  report.sha256 = info.value("sha256", "");
  for (const auto& p : definition->params) report.params[p.name] = paramText(p.value);
  report.symbols = symbols;
  report.from = options.from;
  report.to = options.to;
  report.data = data_name;
  report.bars = host.played();
  report.sessions = host.sessions();
  report.signals = host.strategies().stats().signals;
  OrderFilter all;
  all.open_only = false;
  all.strategy = options.strategy;
  all.limit = SIZE_MAX;
  for (const Order* order : host.brokerService().orders(all)) {
    if (order->role == OrderRole::Group) continue;
    ++report.orders;
    if (order->status != OrderStatus::Rejected) continue;
    ++report.rejected_orders;
    ++report.rejections[order->reason_code.empty() ? "BROKER" : order->reason_code];
  }
  report.starting_equity = host.startingEquity();
  report.ending_equity = host.equity();
  report.fills = host.fills();
  report.trades = buildTrades(report.fills, host.lastPrices(), host.nowNs());
  report.equity = host.daily();
  report.equity_curve = host.curve();
  report.overall = computeMetrics(report.trades, report.equity, host.minutes(), report.starting_equity,
                                  host.exposedMinutes(), host.playedMinutes());
  std::map<std::string, std::vector<BacktestTrade>> per_symbol;
  for (const auto& t : report.trades) per_symbol[t.symbol].push_back(t);
  for (const auto& [symbol, trades] : per_symbol) {
    report.by_symbol[symbol] = computeMetrics(trades, {}, {}, report.starting_equity, 0, 0);
  }
  report.prices = host.takePlayedBars();
  report.load_seconds = std::chrono::duration<double>(play_started - load_started).count();
  report.play_seconds = std::chrono::duration<double>(played - play_started).count();
  if (final_info.value("errors", 0) > 0) {
    report.warnings.push_back(fmt::format("{} callback error(s); the last: {}", final_info.value("errors", 0),
                                          final_info.value("last_error", std::string())));
  }
  if (final_info.value("status", "") != "running" && final_info.value("status", "") != "disabled") {
    report.warnings.push_back(fmt::format("the strategy ended {}: {}", final_info.value("status", std::string()),
                                          final_info.value("reason", std::string())));
  }
  report.warnings.insert(report.warnings.begin(), closed_warnings.begin(), closed_warnings.end());
  if (report.orders > 0 && report.rejected_orders == report.orders) {
    report.warnings.push_back(fmt::format("every one of the {} order(s) of {} was refused ({}): nothing was traded",
                                          report.orders, options.strategy, rejectionsText(report)));
  }
  report.log = log.lines();
  report.log_omitted = log.omitted();
  return report;
}

}  // namespace th
