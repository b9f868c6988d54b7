// The backtest's host: the clock moves to each bar's end and the bar takes
// the live session's path through the router (host/runtime/router.h): data
// quality, the paper broker (whose fills inside the bar are booked and heard
// first), the broker service's marks, the strategies; then the reports of
// what the strategies did are routed too.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "backtest/backtest_internal.h"
#include "chart/chart_hub.h"
#include "core/time.h"

namespace th::backtest {
namespace {

// Effects are committed in groups this large: nothing needs them on disk
// before the end, and a write per bar would cost more than the bar.
constexpr size_t kCommitEvery = 20'000;
constexpr int64_t kCurveStepNs = 30 * kNsPerMinute;

}  // namespace

Host::~Host() {
  strategies_.reset();
  broker_.reset();
  if (registry_) registry_->clear();
  batch_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Result<void> Host::open(const HostConfig& config, const BacktestOptions& options, const std::string& data_config,
                        const std::string& data_library) {
  // The store goes with the backtest: its commits need no write-ahead log.
  auto store = Store::open((std::filesystem::path(dir_) / "store").string(), Durability::Scratch);
  if (!store) return std::unexpected(store.error());
  store_ = std::move(*store);
  batch_.emplace(store_->batch());
  if (config.data.calendar != "builtin") {
    auto loaded = SessionCalendar::load(config.data.calendar);
    if (!loaded) return std::unexpected(loaded.error());
    own_calendar_ = std::move(*loaded);
    calendar_ = &*own_calendar_;
  }
  quality_.emplace(config.data.quality, *calendar_);
  periods_.emplace(calendar(), config.chart.outside_session);
  registry_ = std::make_unique<PluginRegistry>(*this);
  const std::string plugin_dir = options.plugin_dir.empty() ? defaultPluginDir() : options.plugin_dir;

  // The paper broker as configured (commissions, slippage, starting cash),
  // in memory and without latency: a market order fills at the next bar's open.
  nlohmann::json paper = nlohmann::json::object();
  for (const auto& plugin : config.plugins) {
    if (plugin.library == "paper" || plugin.id == "paper") {
      paper = nlohmann::json::parse(plugin.config_json, nullptr, false);
      if (!paper.is_object()) paper = nlohmann::json::object();
      break;
    }
  }
  paper.erase("state_file");
  paper["latency_ms"] = 0;
  starting_equity_ = paper.value("starting_cash", 100000.0);
  auto added = registry_->add("paper", resolvePluginPath("paper", plugin_dir), paper.dump());
  if (!added) return std::unexpected(added.error());
  paper_ = *added;
  if (auto connected = paper_->connect(); !connected) return connected;
  auto data = registry_->add(data_library, resolvePluginPath(data_library, plugin_dir), data_config);
  if (!data) return std::unexpected(data.error());
  data_ = *data;

  broker_ = std::make_unique<BrokerService>(config.risk, *store_, *this);
  broker_->addBroker(makePluginBrokerPort(*paper_));
  auto& parts = router_.parts();
  parts.quality = &*quality_;
  parts.broker = broker_.get();
  parts.registry = registry_.get();
  parts.market = data_;
  if (auto loaded = broker_->load(); !loaded) return loaded;
  (void)broker_->reconcile();
  commitGroup();
  return {};
}

void Host::setBars(std::map<std::string, std::vector<Candle>> bars, int64_t play_from) {
  for (auto& [symbol, list] : bars) {
    // Bars on a day without a session are bad data: neither played nor
    // history. The dates are looked up once each (bars come in time order).
    int32_t date = 0;
    bool closed = false;
    int64_t date_to = 0;
    std::erase_if(list, [&](const Candle& c) {
      if (c.start_ns >= date_to) {
        date = toExchangeTime(c.start_ns).yyyymmdd;
        date_to = fromExchangeTime(addDays(date, 1), 0, 0);
        closed = !calendar_->sessionOn(date);
      }
      if (closed) ++closed_days_[date];
      return closed;
    });
    symbols_.push_back(symbol);
    auto first = static_cast<size_t>(
        std::lower_bound(list.begin(), list.end(), play_from, [](const Candle& c, int64_t t) { return c.start_ns < t; }) -
        list.begin());
    cursor_.push_back(first);
    first_played_.push_back(first);
    bars_.push_back(std::move(list));
  }
  order_ = playOrder(bars_, first_played_);
}

Result<void> Host::startStrategies(StrategyOptions options) {
  strategies_ = std::make_unique<StrategyService>(std::move(options), *store_, *this);
  router_.parts().strategies = strategies_.get();
  strategies_->start();
  strategies_->endGroup();
  commitGroup();
  return {};
}

bool Host::play(const BacktestProgress& progress) {
  int64_t minute = 0;
  const uint64_t total = order_.size();
  for (const auto& [start, s] : order_) {
    const Candle& c = bars_[s][cursor_[s]];
    if (start != minute) {
      if (minute != 0) sample(minute + kNsPerMinute);
      minute = start;
      ++played_minutes_;
    }
    now_ = start + kNsPerMinute;
    ++cursor_[s];
    router_.route(Event{data_->index(), toBarEvent(symbols_[s], c, kNsPerMinute, TH_BAR_FINAL)});
    pump();
    ++played_;
    if (++since_commit_ >= kCommitEvery) commitGroup();
    if (progress && (played_ & 4095) == 0 && !progress(played_, total)) return false;
  }
  if (minute != 0) sample(minute + kNsPerMinute);
  if (progress) progress(played_, total);
  return true;
}

void Host::finish() {
  pump();
  strategies_->stop();
  strategies_->endGroup();
  commitGroup();
}

// After each played minute: the clock's timers and the broker's checks,
// then exposure and the equity curve.
void Host::sample(int64_t minute_end) {
  quoteOptions(minute_end);
  strategies_->tick();
  // The broker's P&L checks (loss limits, the day's baseline) every five
  // minutes and at the close: each stores the risk state, which costs more
  // than the bars between.
  if (minute_end % (5 * kNsPerMinute) == 0 || minute_end == close_ns_) broker_->tick();
  pump();
  const auto summary = broker_->book().accountSummary();
  if (summary.gross_exposure > 0) ++exposed_minutes_;
  const double equity = starting_equity_ + summary.net;
  if (minute_end > day_end_ns_) {
    // A new exchange day (looked up once a day: time zone lookups are slow).
    const int32_t day = toExchangeTime(minute_end - 1).yyyymmdd;
    day_end_ns_ = fromExchangeTime(day, 23, 59, 59) + 1'000'000'000;
    auto session = calendar().sessionOn(day);
    close_ns_ = session ? session->close_ns : 0;
    ++sessions_;
    daily_.push_back({minute_end, equity});
  }
  daily_.back() = {minute_end, equity};
  minutes_.push_back({minute_end, equity});
  if (minute_end % kCurveStepNs == 0 || minute_end == close_ns_ || curve_.empty()) {
    curve_.push_back({minute_end, equity});
  }
}

Result<void> Host::buyHoldings(const std::map<std::string, double>& holdings) {
  if (holdings.empty() || order_.empty()) return {};
  now_ = order_.front().first;  // the orders go at the open of the first played minute
  for (const auto& [symbol, shares] : holdings) {
    const auto it = std::lower_bound(symbols_.begin(), symbols_.end(), symbol);
    const auto s = static_cast<size_t>(it - symbols_.begin());
    if (it == symbols_.end() || *it != symbol || first_played_[s] >= bars_[s].size()) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("--hold {}={}: no bar of {} is played", symbol, shares, symbol));
    }
    // The last price before the first played bar (else its open) is what the
    // risk check and the paper broker's buying power go by.
    const size_t first = first_played_[s];
    const Candle& before = bars_[s][first > 0 ? first - 1 : first];
    const double price = first > 0 ? before.close : before.open;
    th_bar mark{sizeof(th_bar), symbol.data(), static_cast<uint32_t>(symbol.size()), 0, before.start_ns,
                kNsPerMinute, price, price, price, price, 0, 0, 0};  // not final: it only moves the mark
    paper_->feedBar(mark);
    broker_->mark(symbol, price);
    OrderIntent intent;
    intent.symbol = symbol;
    intent.side = OrderSide::Buy;
    intent.quantity = shares;
    auto order = broker_->submit(std::move(intent));
    if (!order) return fail(ErrorCode::InvalidArgument, fmt::format("--hold {}={}: {}", symbol, shares, order.error().message));
    if (order->status == OrderStatus::Rejected) {
      return fail(ErrorCode::InvalidArgument, fmt::format("--hold {}={}: refused: {}", symbol, shares, order->reason));
    }
  }
  pump();
  return {};
}

// The bars carry no option quotes: the contracts an order or a position is
// in are quoted from their chains once a minute, for the paper broker to fill
// and settle them by and the broker service to mark them.
void Host::quoteOptions(int64_t ts_ns) {
  const auto contracts = broker_->optionContractsInPlay();
  if (contracts.empty()) return;
  for (QuoteEvent& quote : contractQuotes(*this, contracts, ts_ns, unquoted_)) {
    router_.route(Event{data_->index(), std::move(quote)});
  }
  pump();
}

void Host::pump() {
  // Most bars bring no report: that is known without the lock.
  if (tasks_.empty() && !pending_.load(std::memory_order_acquire)) return;
  for (;;) {
    std::vector<Event> events;
    takeReports(events);
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      task();
    }
    if (events.empty()) return;
    for (auto& event : events) router_.route(event);
  }
}

void Host::takeReports(std::vector<Event>& out) {
  std::lock_guard lock(events_mutex_);
  out.swap(events_);
  events_.clear();
  pending_.store(false, std::memory_order_relaxed);
}

// What the report needs of the routed events: each fill with its role, and
// each option contract's last mark.
void Host::routed(const Event& event) {
  if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
    const Order* placed = fill->client_order_id.empty() ? nullptr : broker_->find(fill->client_order_id);
    // An option's expiry, exercise or assignment has no order: what it is stands for the role.
    std::string role = placed                ? std::string(toString(placed->role))
                       : fill->activity != 0 ? std::string(fillActivityName(fill->activity))
                                             : std::string();
    fills_.push_back({fill->ts_ns, fill->symbol, fill->side == TH_SIDE_SELL ? "sell" : "buy", std::move(role),
                      fill->quantity, fill->price, fill->commission, fill->multiplier});
  } else if (auto* quote = std::get_if<QuoteEvent>(&event.payload)) {
    if (const auto mark = optionMark(*quote)) option_marks_.insert_or_assign(std::string(quote->symbol.view()), *mark);
  }
}

void Host::commitGroup() {
  if (strategies_) strategies_->endGroup();
  if (broker_) broker_->writeRecords();
  if (auto ok = store_->commit(*batch_); !ok) spdlog::warn("backtest: store commit failed: {}", ok.error().message);
  since_commit_ = 0;
}

bool Host::commitNow(bool) {
  // Nothing outlives a backtest: orders need not reach the disk before the
  // broker, and the records they change are written with the group.
  return true;
}

double Host::equity() const { return starting_equity_ + broker_->book().accountSummary().net; }

std::map<std::string, double> Host::lastPrices() const {
  // An option still held at the end is valued at its last quote's middle.
  std::map<std::string, double> out(option_marks_.begin(), option_marks_.end());
  for (size_t s = 0; s < symbols_.size(); ++s) {
    if (cursor_[s] > 0) out[symbols_[s]] = bars_[s][cursor_[s] - 1].close;
  }
  return out;
}

std::map<std::string, PriceSeries> Host::takePlayedBars() {
  std::map<std::string, PriceSeries> out;
  for (size_t s = 0; s < symbols_.size(); ++s) {
    auto& bars = bars_[s];
    bars.erase(bars.begin() + static_cast<std::ptrdiff_t>(cursor_[s]), bars.end());
    bars.erase(bars.begin(), bars.begin() + static_cast<std::ptrdiff_t>(first_played_[s]));
    out[symbols_[s]].bars = std::move(bars);
    bars.clear();
    cursor_[s] = first_played_[s] = 0;
  }
  return out;
}

std::vector<Candle> Host::history(const std::string& symbol, Timeframe timeframe, size_t count) {
  auto it = std::lower_bound(symbols_.begin(), symbols_.end(), symbol);
  if (it == symbols_.end() || *it != symbol || count == 0) return {};
  const auto s = static_cast<size_t>(it - symbols_.begin());
  const auto& bars = bars_[s];
  const size_t end = cursor_[s];
  std::vector<Candle> out;
  if (timeframe == Timeframe::M1) {
    size_t from = end > count ? end - count : 0;
    out.assign(bars.begin() + static_cast<std::ptrdiff_t>(from), bars.begin() + static_cast<std::ptrdiff_t>(end));
    return out;
  }
  // The last `count` finished periods of the chart's grid, found walking
  // back, then each folded forward from its first minute as the chart folds.
  struct Span {
    Period period;
    size_t first, last;
  };
  std::vector<Span> spans;  // newest first
  std::optional<Span> building;
  for (size_t i = end; i-- > 0 && spans.size() < count;) {
    auto period = periods_->period(bars[i].start_ns, timeframe);
    if (!period) continue;
    if (building && building->period == *period) {
      building->first = i;
      continue;
    }
    if (building && building->period.end_ns <= now_) spans.push_back(*building);
    building = Span{*period, i, i};
  }
  if (building && building->period.end_ns <= now_ && spans.size() < count) spans.push_back(*building);
  for (auto span = spans.rbegin(); span != spans.rend(); ++span) {
    Candle acc = bars[span->first];
    for (size_t j = span->first + 1; j <= span->last; ++j) combine(acc, bars[j]);
    acc.start_ns = span->period.start_ns;
    acc.flags = kCandleFinal;
    out.push_back(acc);
  }
  return out;
}

Result<std::vector<OptionQuote>> Host::optionChain(const std::string& underlying) {
  return pluginOptionChain(*data_, underlying, now_);
}

bool Host::postToCore(std::function<void()> task) {
  tasks_.push_back(std::move(task));
  return true;
}

void Host::post(uint16_t source, EventPayload&& payload) {
  std::lock_guard lock(events_mutex_);
  // A plugin's own index (never 0, the host's: pump() tells the two apart).
  events_.push_back(Event{source, std::move(payload)});
  pending_.store(true, std::memory_order_release);
}

void Host::serviceFill(FillEvent fill) {
  std::lock_guard lock(events_mutex_);
  events_.push_back(Event{0, std::move(fill)});  // the host's: pump() books it with no broker
  pending_.store(true, std::memory_order_release);
}

void Host::log(const std::string& plugin, int32_t level, std::string_view message) {
  // The paper broker warns that its account lives in memory: in a backtest it should.
  if (level < TH_LOG_ERROR) {
    spdlog::debug("[{}] {}", plugin, message);
    return;
  }
  spdlog::error("[{}] {}", plugin, message);
}

}  // namespace th::backtest
