// The session's side of the strategy service: what strategies reach through
// the StrategyHost (chart history, subscriptions, option chains, markers, a
// worker for warm-ups) and the StrategyControl the API calls.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <future>

#include "cli/session.h"
#include "core/json.h"

namespace th {

Result<void> Session::startStrategies() {
  StrategyOptions options;
  options.dir = config_.strategies.dir;
  options.sdk_dir = config_.strategies.sdk.empty() ? defaultSdkLuaDir() : config_.strategies.sdk;
  options.global_limits = config_.risk.limits;
  options.configured_limits = config_.risk.strategies;
  options.watch = config_.strategies.watch;
  strategies_ = std::make_unique<StrategyService>(std::move(options), *store_, *this);
  std::promise<void> done;
  auto finished = done.get_future();
  post(0, TaskEvent{[this, &done] {
         try {
           strategies_->start();
           commitNow(true);
           done.set_value();
         } catch (...) {
           done.set_exception(std::current_exception());
         }
       }});
  try {
    finished.get();
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, fmt::format("starting the strategies failed: {}", e.what()));
  }
  return {};
}

// ------------------------------------------------------------ StrategyHost --

const SessionCalendar& Session::calendar() const { return data_->calendar(); }

std::vector<Candle> Session::history(const std::string& symbol, Timeframe timeframe, size_t count) {
  std::vector<Candle> out;
  if (!chart_->knows(symbol)) return out;
  const auto& series = chart_->series(symbol, timeframe);
  size_t size = series.size();
  size_t from = size > count + 1 ? size - count - 1 : 0;
  for (size_t i = from; i < size; ++i) {
    auto candle = series.at(i);
    if (candle.final()) out.push_back(candle);
  }
  if (out.size() > count) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(count));
  return out;
}

void Session::subscribe(const std::string& symbol, uint32_t streams, const std::string& consumer) {
  if (!chart_provider_) return;
  acquireFeed(*chart_provider_, symbol, streams, consumer);
  chart_->track(symbol);
}

Result<std::vector<OptionQuote>> Session::optionChain(const std::string& underlying) {
  if (!chart_provider_) return fail(ErrorCode::Unavailable, "no data plugin to ask for option chains");
  std::vector<OptionQuote> out;
  auto ok = chart_provider_->optionChain(underlying, clock_->nowNs(), [&](const th_option_quote& q) {
    OptionQuote quote;
    quote.symbol.assign(q.symbol, q.symbol_len);
    quote.underlying.assign(q.underlying, q.underlying_len);
    quote.call = q.right == TH_OPTION_CALL;
    quote.expiry = q.expiry_yyyymmdd;
    quote.strike = q.strike;
    quote.bid = q.bid;
    quote.ask = q.ask;
    quote.last = q.last;
    quote.volume = q.volume;
    quote.open_interest = q.open_interest;
    quote.implied_vol = q.implied_vol;
    quote.has_greeks = !std::isnan(q.delta);
    quote.delta = q.delta;
    quote.gamma = q.gamma;
    quote.theta = q.theta;
    quote.vega = q.vega;
    quote.underlying_price = q.underlying_price;
    out.push_back(std::move(quote));
  });
  if (!ok) return std::unexpected(ok.error());
  return out;
}

void Session::addMarker(const std::string& symbol, Marker marker) { chart_->addMarker(symbol, std::move(marker)); }

bool Session::postToCore(std::function<void()> task) { return queue_.push(Event{0, TaskEvent{std::move(task)}}); }

bool Session::postOffCore(std::function<void()> task) { return strategy_worker_.post(std::move(task)); }

// --------------------------------------------------------- StrategyControl --

void Session::onStrategyCore(std::function<Result<std::string>()> work, JsonDone done) {
  auto task = [this, work = std::move(work), done]() mutable {
    auto result = work();
    commitNow(true);
    done(std::move(result));
  };
  if (!queue_.push(Event{0, TaskEvent{std::move(task)}})) done(fail(ErrorCode::Unavailable, "the host is stopping"));
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
  onStrategyCore([this, id = std::move(id), enabled, reason = std::move(reason)] {
    return strategies_->setEnabled(id, enabled, reason);
  },
                 std::move(done));
}

void Session::signals(std::string strategy, std::string symbol, size_t limit, JsonDone done) {
  onStrategyCore([this, strategy = std::move(strategy), symbol = std::move(symbol), limit]() -> Result<std::string> {
    return strategies_->signalsJson(strategy, symbol, limit);
  },
                 std::move(done));
}

}  // namespace th
