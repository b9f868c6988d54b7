// The session's side of the strategy service: what strategies reach through
// the StrategyHost (chart history, subscriptions, option chains, markers, a
// worker for warm-ups) and the StrategyControl the API calls.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>

#include "cli/session.h"
#include "core/json.h"
#include "core/metrics.h"

namespace th {

Result<void> Session::startStrategies() {
  StrategyOptions options;
  options.dir = config_.strategies.dir;
  options.sdk_dir = config_.strategies.sdk.empty() ? defaultSdkLuaDir() : config_.strategies.sdk;
  options.global_limits = config_.risk.limits;
  options.configured_limits = config_.risk.strategies;
  options.watch = config_.strategies.watch;
  strategies_ = std::make_unique<StrategyService>(std::move(options), *store_, strategy_host_);
  strategies_any_thread_.store(strategies_.get());
  return runOnCoreAndWait(
      [this] {
        router_.parts().strategies = strategies_.get();
        strategies_->start();
        commitNow(true);
      },
      "starting the strategies");
}

// ------------------------------------------------------------ StrategyHost --

const SessionCalendar& Session::calendar() const { return data_->calendar(); }

// The 1-minute bars kept in the store (process() writes every bar event),
// folded into `timeframe` on the chart hub's grid: the history a strategy
// warms up from when the chart hub has none yet, as after a restart.
std::vector<Candle> Session::storedHistory(const std::string& symbol, Timeframe timeframe, size_t count) {
  std::deque<Candle> out;
  std::string prefix = symbol;
  prefix.push_back('\0');
  int64_t now = clock_->nowNs();
  std::optional<Period> building;
  Candle acc;
  auto scanned = store_->scan(Family::Bars, prefix, [&](std::string_view key, std::string_view value) {
    if (key.size() != prefix.size() + 16 || value.size() < 6 * sizeof(double)) return true;
    int64_t start = 0, duration = 0;
    for (size_t i = 0; i < 8; ++i) {
      start = (start << 8) | static_cast<unsigned char>(key[prefix.size() + i]);
      duration = (duration << 8) | static_cast<unsigned char>(key[prefix.size() + 8 + i]);
    }
    if (duration != kNsPerMinute) return true;
    double f[6];
    std::memcpy(f, value.data(), sizeof f);
    Candle minute{start, f[0], f[1], f[2], f[3], f[4], 0, kCandleFinal};
    auto period = chart_->periods().period(start, timeframe);
    if (!period) return true;
    if (building && *building == *period) {
      combine(acc, minute);
      return true;
    }
    if (building) out.push_back(acc);
    building = period;
    acc = minute;
    acc.start_ns = period->start_ns;
    while (out.size() > count) out.pop_front();
    return true;
  });
  if (!scanned) spdlog::warn("reading stored bars of {}: {}", symbol, scanned.error().message);
  if (building && building->end_ns <= now) out.push_back(acc);  // only whole periods
  while (out.size() > count) out.pop_front();
  return {out.begin(), out.end()};
}

std::vector<Candle> Session::history(const std::string& symbol, Timeframe timeframe, size_t count) {
  std::vector<Candle> out;
  if (!chart_->knows(symbol)) return storedHistory(symbol, timeframe, count);
  const auto& series = chart_->series(symbol, timeframe);
  size_t size = series.size();
  size_t from = size > count + 1 ? size - count - 1 : 0;
  for (size_t i = from; i < size; ++i) {
    auto candle = series.at(i);
    if (candle.final()) out.push_back(candle);
  }
  if (out.size() > count) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(count));
  if (out.empty()) return storedHistory(symbol, timeframe, count);
  return out;
}

void Session::subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer) {
  if (!chart_provider_) return;
  acquireFeed(*chart_provider_, symbol, streams, consumer);
  chart_->track(symbol);
}

Result<std::vector<OptionQuote>> Session::optionChain(const std::string& underlying) {
  if (!chart_provider_) return fail(ErrorCode::Unavailable, "no data plugin to ask for option chains");
  return pluginOptionChain(*chart_provider_, underlying, clock_->nowNs());
}

// A simulated broker fills option orders, and settles contracts at their
// expiry, from market events of the contract; a feed that streams no option
// quotes (the synthetic market's) gives it none. The contracts an order or a
// position is in are quoted from their chains every few seconds of market
// time, through the path a plugin's quote takes (journal, broker, marks).
void Session::quoteOptionsInPlay() {
  constexpr int64_t kEveryNs = 5'000'000'000;
  const int64_t now = clock_->nowNs();
  if (!broker_ || !chart_provider_ || now < next_option_quotes_ns_) return;
  next_option_quotes_ns_ = now + kEveryNs;
  const auto& plugins = registry_.all();
  const bool simulated = std::any_of(plugins.begin(), plugins.end(), [](const auto& instance) {
    return instance->wantsMarketFeed() && instance->state() == PluginState::Connected;
  });
  if (!simulated) return;
  const auto contracts = broker_->optionContractsInPlay();
  if (contracts.empty()) return;
  // idle() commits them with its group.
  for (auto& quote : contractQuotes(strategy_host_, contracts, now, unquoted_)) {
    process(Event{chart_provider_->index(), std::move(quote)});
  }
}

void Session::addMarker(const std::string& symbol, Marker marker) { chart_->addMarker(symbol, std::move(marker)); }

bool Session::postToCore(std::function<void()> task) { return queue_.push(Event{0, TaskEvent{std::move(task)}}); }

bool Session::postOffCore(std::function<void()> task) { return strategy_worker_.post(std::move(task)); }

// --------------------------------------------------------- StrategyControl --

void Session::onStrategyCore(std::function<Result<std::string>()> work, JsonDone done, bool urgent) {
  auto task = [this, work = std::move(work), done]() mutable {
    auto result = work();
    commitNow(true);
    done(std::move(result));
  };
  Event event{0, TaskEvent{std::move(task)}};
  if (!(urgent ? queue_.pushUrgent(std::move(event)) : queue_.push(std::move(event)))) {
    done(fail(ErrorCode::Unavailable, "the host is stopping"));
  }
}

// The service answers a reload on the core thread once the swap is in the
// batch; the answer waits for the commit, so what it reports is on disk.
StrategyService::Done Session::committedAnswer(JsonDone done) {
  return [this, done = std::move(done)](Result<std::string> result) {
    if (core_ && core_->onCoreThread()) commitNow(true);
    done(std::move(result));
  };
}

void Session::listStrategies(JsonDone done) {
  onStrategyCore([this]() -> Result<std::string> { return strategies_->listJson(); }, std::move(done));
}

void Session::strategy(std::string id, JsonDone done) {
  onStrategyCore([this, id = std::move(id)] { return strategies_->strategyJson(id); }, std::move(done));
}

void Session::strategyHistory(std::string id, JsonDone done) {
  onStrategyCore([this, id = std::move(id)] { return strategies_->historyJson(id); }, std::move(done));
}

void Session::reloadStrategy(std::string id, JsonDone done) { strategies_->reload(id, committedAnswer(std::move(done))); }

void Session::rollbackStrategy(std::string id, std::string version, JsonDone done) {
  strategies_->rollback(id, version, committedAnswer(std::move(done)));
}

void Session::enableStrategy(std::string id, bool enabled, std::string reason, JsonDone done) {
  onStrategyCore([this, id, enabled, reason = std::move(reason)] {
    return strategies_->setEnabled(id, enabled, reason);
  },
                 std::move(done), /*urgent=*/!enabled);
  // Disabling is how an operator stops a strategy that holds the core
  // thread: it goes first, and the callback running now is stopped.
  if (!enabled) strategies_->preempt("disabling the strategy", id);
}

void Session::checklist(std::string symbol, std::string direction, JsonDone done) {
  onStrategyCore([this, symbol = std::move(symbol), direction = std::move(direction)] {
    return strategies_->checklistJson(symbol, direction);
  },
                 std::move(done));
}

void Session::requestStrategy(std::string id, std::string name, std::string args_json, JsonDone done) {
  onStrategyCore([this, id = std::move(id), name = std::move(name), args_json = std::move(args_json)] {
    return strategies_->request(id, name, nlohmann::json::parse(args_json));
  },
                 std::move(done));
}

void Session::signals(std::string strategy, std::string symbol, size_t limit, JsonDone done) {
  onStrategyCore([this, strategy = std::move(strategy), symbol = std::move(symbol), limit]() -> Result<std::string> {
    return strategies_->signalsJson(strategy, symbol, limit);
  },
                 std::move(done));
}

std::string Session::strategyMetrics() const {
  StrategyService::Stats stats;
  std::array<size_t, kStrategyStatusCount> statuses{};
  {
    std::lock_guard lock(strategy_stats_mutex_);
    stats = strategy_stats_;
    statuses = strategy_statuses_;
  }
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
    counterMetric(out, fmt::format("tradehost_strategy_{}_total", name), help, value);
  };
  counter("callbacks", "Strategy callbacks run.", stats.callbacks);
  counter("errors", "Strategy callbacks that failed.", stats.errors);
  counter("faults", "Strategies stopped for too many errors.", stats.faults);
  counter("reloads", "Reloads and rollbacks swapped in.", stats.reloads);
  counter("failed_reloads", "Reloads and rollbacks refused; the running version stayed.", stats.failed_reloads);
  counter("orders", "Orders strategies submitted.", stats.orders);
  counter("signals", "Signals strategies published.", stats.signals);
  counter("quota_refusals", "ctx calls refused because a strategy's runtime quota was used.", stats.quota_refusals);
  metricHeader(out, "tradehost_strategies", "gauge", "Strategies by status.");
  for (size_t i = 0; i < kStrategyStatusCount; ++i) {
    out += fmt::format("tradehost_strategies{{status=\"{}\"}} {}\n", toString(static_cast<StrategyStatus>(i)),
                       statuses[i]);
  }
  return out;
}

}  // namespace th
