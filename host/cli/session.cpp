#include "cli/session.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/metrics.h"

#include "api/api_server.h"
#include "api/data_routes.h"
#include "core/time.h"
#include "store/journal_codec.h"

namespace th {
namespace {

// Bars: symbol, NUL, big-endian start, big-endian duration → ordered by time.
std::string barKey(const BarEvent& bar) {
  std::string key(bar.symbol.view());
  key.push_back('\0');
  for (int64_t v : {bar.start_ns, bar.duration_ns}) {
    for (int shift = 56; shift >= 0; shift -= 8)
      key.push_back(static_cast<char>((static_cast<uint64_t>(v) >> shift) & 0xff));
  }
  return key;
}

std::string barValue(const BarEvent& bar) {
  double fields[] = {bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap};
  std::string value(reinterpret_cast<const char*>(fields), sizeof fields);
  value.append(reinterpret_cast<const char*>(&bar.trade_count), sizeof bar.trade_count);
  value.append(reinterpret_cast<const char*>(&bar.flags), sizeof bar.flags);
  return value;
}

spdlog::level::level_enum toSpdlog(int32_t level) {
  switch (level) {
    case TH_LOG_DEBUG:
      return spdlog::level::debug;
    case TH_LOG_INFO:
      return spdlog::level::info;
    case TH_LOG_WARN:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

}  // namespace

Session::Session(HostConfig config, std::string plugin_dir, std::string token)
    : config_(std::move(config)), plugin_dir_(std::move(plugin_dir)), token_(std::move(token)), registry_(plugins_) {
  if (config_.simulated) {
    int64_t start = config_.clock_start_ns ? config_.clock_start_ns : WallClock().nowNs();
    // Held at its start until the data plugins connect: starting up takes no market time.
    clock_ = std::make_unique<SimulatedClock>(start, config_.speed, true);
  } else {
    clock_ = std::make_unique<WallClock>();
  }
}

Session::~Session() { stop("session destroyed"); }

Result<void> Session::start() {
  started_ = std::chrono::steady_clock::now();
  last_heartbeat_ = started_;
  last_status_ = started_;
  auto store_dir = (std::filesystem::path(config_.var_dir) / config_.store_dir).string();
  auto store = Store::open(store_dir);
  if (!store) return std::unexpected(store.error());
  store_ = std::move(*store);
  batch_.emplace(store_->batch());
  spdlog::info("store {} opened; journal continues after sequence {}", store_dir, store_->lastSequence());

  auto data = DataService::create(config_.data);
  if (!data) return std::unexpected(data.error());
  data_ = std::move(*data);
  if (auto resumed = resumeSimulatedClock(); !resumed) return resumed;

  nlohmann::json started = {{"version", TRADEHOST_VERSION},
                            {"config", config_.source},
                            {"clock", config_.simulated ? "simulated" : "live"},
                            {"clock_start", formatExchangeTime(clock_->nowNs())},
                            {"speed", config_.speed}};
  journalHostRecord(static_cast<uint16_t>(JournalKind::HostStarted), jsonText(started));
  if (auto committed = store_->commit(*batch_); !committed) return std::unexpected(committed.error());

  for (const auto& plugin : config_.plugins) {
    auto path = resolvePluginPath(plugin.library, plugin_dir_);
    auto added = registry_.add(plugin.id, path, plugin.config_json);
    if (!added) return std::unexpected(added.error());
    const auto& info = (*added)->info();
    spdlog::info("plugin '{}' loaded: {} {} ({}, ABI {}.{}) from {}", plugin.id, info.name, info.version,
                 kindName(info.kind), info.abi_major, info.abi_minor, path);
  }

  // The chart provider: the configured one, or the first data plugin.
  for (const auto& instance : registry_.all()) {
    if (!instance->isData()) continue;
    if (config_.chart.provider.empty() ? chart_provider_ == nullptr : instance->id() == config_.chart.provider) {
      chart_provider_ = instance.get();
    }
  }
  if (!config_.chart.provider.empty() && !chart_provider_) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("{}: chart: provider: '{}' is not a data plugin", config_.source, config_.chart.provider));
  }
  ChartOptions chart_options;
  chart_options.capacity = config_.chart.capacity;
  chart_options.outside = config_.chart.outside_session;
  chart_options.stale_after_ns = config_.chart.stale_after_s * 1'000'000'000;
  chart_options.final_grace_ns = config_.chart.final_grace_ms * 1'000'000;
  chart_options.backfill_sessions = config_.chart.backfill_sessions;
  chart_options.provider = chart_provider_ ? chart_provider_->id() : "";
  chart_ = std::make_unique<ChartHub>(chart_options, data_->calendar(), charts_);

  broker_ = std::make_unique<BrokerService>(config_.risk, *store_, brokers_);
  auto& parts = router_.parts();
  parts.quality = &data_->quality();
  parts.chart = chart_.get();
  parts.broker = broker_.get();
  parts.registry = &registry_;
  parts.market = chart_provider_;
  for (const auto& instance : registry_.all()) {
    if (instance->isBroker()) broker_->addBroker(makePluginBrokerPort(*instance));
  }
  if (auto loaded = broker_->load(); !loaded) return std::unexpected(loaded.error());

  ApiOptions options;
  options.host = config_.api_host;
  options.port = config_.api_port;
  options.max_body_bytes = config_.max_body_bytes;
  options.max_frame_bytes = config_.max_frame_bytes;
  options.max_clients = config_.max_clients;
  options.max_connections = config_.max_connections;
  options.max_queued_bytes = config_.max_queued_bytes;
  options.max_queued_messages = config_.max_queued_messages;
  options.max_resyncs_per_minute = config_.max_resyncs_per_minute;
  options.token = token_;
  api_ = std::make_unique<ApiServer>(options);
  registerHostRoutes(*api_, host_view_);
  registerDataRoutes(*api_, *data_);
  registerChartRoutes(*api_, charts_);
  registerTradingRoutes(*api_, trading_);
  registerStrategyRoutes(*api_, strategy_host_);
  // Built (not yet listening) before the core starts: the core thread
  // pushes committed events to it from its first group on.
  core_ = std::make_unique<CoreLoop>(queue_, *clock_, core_adapter_);
  core_->start();

  // Brokers first, so no market event reaches a simulated broker before it
  // can act on it, and orders, fills and positions agree with them before
  // any market event can move them.
  for (const auto& instance : registry_.all()) {
    if (instance->info().kind != TH_KIND_BROKER) continue;
    if (auto connected = instance->connect(); !connected) return std::unexpected(connected.error());
  }
  if (auto recovered = recover(); !recovered) return std::unexpected(recovered.error());
  // Then the configured subscriptions, made at once (a strategy's own go
  // through a channel and may still be queued), the strategies, and the
  // data plugins last: a provider that plays recorded bars as fast as it can
  // (replay at speed 0) has every listener in place from its first bar.
  for (const auto& sub : config_.subscriptions) {
    auto* provider = registry_.find(sub.provider);
    if (!provider || !provider->isData()) {
      return fail(ErrorCode::InvalidArgument,
                  fmt::format("{}: subscriptions: '{}' is not a data plugin", config_.source, sub.provider));
    }
    // The configured subscriptions are made here, in full, before the API
    // opens; the table is the core thread's, which is not processing any
    // subscription change yet.
    for (const auto& symbol : sub.symbols) {
      uint32_t streams = data_->acquire(sub.provider, symbol, sub.streams, "config");
      if (!streams) continue;
      if (auto ok = provider->subscribe(symbol, streams); !ok) return std::unexpected(ok.error());
    }
    spdlog::info("subscribed {} to {} symbol(s): {}", sub.provider, sub.symbols.size(), fmt::join(sub.symbols, ", "));
    if (provider == chart_provider_) {
      post(0, TaskEvent{[this, symbols = sub.symbols] {
             for (const auto& symbol : symbols) chart_->track(symbol);
           }});
    }
  }

  if (auto started = startStrategies(); !started) return std::unexpected(started.error());
  // Market time starts now, with every listener in place: at a high speed
  // the first minutes would otherwise pass while plugins and strategies load
  // (ORB would find its opening range gone).
  if (auto* simulated = dynamic_cast<SimulatedClock*>(clock_.get())) simulated->release();
  // A feed that cannot connect does not stop the session: the brokers'
  // orders and positions still need it (their reports, the kill switch, the
  // API). The plugin shows as failed, health as degraded, and the operator
  // connects it again through the API once the feed is back.
  for (const auto& instance : registry_.all()) {
    if (instance->info().kind != TH_KIND_DATA) continue;
    if (auto connected = instance->connect(); !connected) {
      spdlog::error("{}; the session runs without its data: connect it again with POST /api/v1/plugins/{}/connect",
                    connected.error().message, instance->id());
      post(instance->index(), ConnectionEvent{TH_CONN_FAILED, connected.error().message});
    }
  }

  if (auto ok = api_->start(); !ok) return std::unexpected(ok.error());
  spdlog::info("API listening on http://{}:{} (health: /api/v1/health, metrics: /metrics, events: ws /ws){}",
               config_.api_host, api_->port(),
               token_.empty() ? "; TRADEHOST_TOKEN unset: mutating endpoints disabled" : "");
  return {};
}

// A simulated clock paced against the wall clock starts at clock.start only
// on a store that has not been past it. A store that has (an earlier run in
// the same --var) keeps its positions, orders and strategy state, so time
// carries on from the newest time its journal holds: the same day is not
// played twice and the journal never goes back in time. When that time is
// outside the regular session, the clock starts a minute before the next
// open, as the shipped clock.start does.
Result<void> Session::resumeSimulatedClock() {
  if (!config_.simulated || config_.speed <= 0) return {};  // at speed 0 time comes from the events
  constexpr size_t kLastRecords = 256;
  const uint64_t last = store_->lastSequence();
  if (last == 0) return {};
  auto records = store_->readJournal(last > kLastRecords ? last - kLastRecords + 1 : 1, kLastRecords);
  if (!records) return std::unexpected(records.error());
  int64_t ended = 0;
  for (const auto& record : *records) ended = std::max(ended, record.ts_ns);
  const int64_t configured = config_.clock_start_ns ? config_.clock_start_ns : clock_->nowNs();
  if (ended <= clock_->nowNs()) return {};
  int64_t resume = ended;
  const auto& calendar = data_->calendar();
  if (!calendar.isOpen(resume)) {
    if (auto next = calendar.nextSession(resume)) resume = std::max(resume, next->open_ns - kNsPerMinute);
  }
  spdlog::info("simulated clock resumes at {}: the store's journal ends at {}, after clock.start {} (a new --var "
               "starts at clock.start)",
               formatExchangeTime(resume), formatExchangeTime(ended), formatExchangeTime(configured));
  clock_ = std::make_unique<SimulatedClock>(resume, config_.speed, true);
  return {};
}

void Session::stop(const std::string& reason) {
  if (stopped_) return;
  stopped_ = true;
  // Nothing new from operators: the API stops listening and pending
  // plugin-control calls finish. Then data, so no more market events
  // arrive; then brokers; then the core drains what is queued.
  if (api_) api_->stop();
  control_.stop();
  strategy_worker_.stop();
  // on_stop runs while the brokers are still connected (a strategy may
  // close what it holds); the state is saved in the group the core commits.
  if (strategies_ && core_) {
    // What the strategies did, as the run ends (a run shorter than the
    // summary's 30 seconds shows it only here).
    auto last_words = [this] {
      logSummary();
      strategies_->stop();
    };
    // Ahead of what is queued, and without waiting for a callback running
    // now: a strategy does not hold a shutdown (on_stop itself has a
    // budget of at most StrategyInstance::kStopBudgetMs).
    auto ok = runOnCoreAndWait(last_words, "stopping the strategies", /*urgent=*/true,
                               [this] { strategies_->preempt("the shutdown"); });
    if (!ok) spdlog::error("{}", ok.error().message);
  }
  // Requests to providers finish (or are cancelled) while the providers
  // are still connected; their answers reach the core, which still runs.
  if (data_) data_->stop();
  for (int32_t kind : {TH_KIND_DATA, TH_KIND_BROKER}) {
    for (const auto& instance : registry_.all()) {
      if (instance->info().kind != kind || instance->state() != PluginState::Connected) continue;
      if (auto ok = instance->disconnect(); !ok) spdlog::warn("{}", ok.error().message);
    }
  }
  if (core_) core_->stop();  // drains and commits what is pending
  if (store_) {
    journalHostRecord(static_cast<uint16_t>(JournalKind::HostStopped), jsonText(nlohmann::json{{"reason", reason}}));
    batch_->requireSync();
    if (auto ok = store_->commit(*batch_); !ok) {
      spdlog::error("final journal commit failed; the events of the last group are not stored: {}", ok.error().message);
    }
    spdlog::info("stopped ({}); journal ends at sequence {}", reason, store_->lastSequence());
  }
  registry_.clear();
  batch_.reset();
  store_.reset();
}

uint16_t Session::apiPort() const { return api_ ? api_->port() : 0; }

void Session::journalHostRecord(uint16_t kind, const std::string& json) {
  batch_->journal(kind, clock_->nowNs(), json);
}

std::string_view Session::sourceName(uint16_t source) const {
  if (auto* instance = registry_.at(source)) return instance->id();
  return "host";
}

void Session::post(uint16_t source, EventPayload&& payload) {
  // A simulated broker reporting while the router feeds it: routed at once.
  if (holding_ && core_ && core_->onCoreThread()) {
    held_.push_back(Event{source, std::move(payload)});
    return;
  }
  if (queue_.push(Event{source, std::move(payload)})) return;
  // Only after the core has stopped; say so rather than lose it silently.
  uint64_t dropped = dropped_.fetch_add(1) + 1;
  if (dropped == 1 || dropped % 1000 == 0) {
    spdlog::warn("{} event(s) from '{}' arrived after the core stopped and were not processed", dropped,
                 sourceName(source));
  }
}

void Session::log(const std::string& plugin, int32_t level, std::string_view message) {
  spdlog::log(toSpdlog(level), "[{}] {}", plugin, message);
}

void Session::process(const Event& event) {
  if (std::holds_alternative<TaskEvent>(event.payload)) counts_[event.payload.index()].fetch_add(1, std::memory_order_relaxed);
  router_.route(event);
}

uint64_t Session::record(const Event& event) {
  counts_[event.payload.index()].fetch_add(1, std::memory_order_relaxed);
  auto encoded = encodeEvent(event, sourceName(event.source));
  if (!encoded) return 0;
  uint64_t seq = batch_->journal(static_cast<uint16_t>(encoded->kind), event.timestamp(), encoded->payload);
  if (event.needsSync() && config_.sync_orders) batch_->requireSync();
  if (auto* bar = std::get_if<BarEvent>(&event.payload)) {
    batch_->put(Family::Bars, barKey(*bar), barValue(*bar));
    bars_stored_.fetch_add(1, std::memory_order_relaxed);
  }
  // Trades and quotes are too many to push to every client; they are in
  // the journal. Everything else is pushed once committed — and serialised
  // only when someone is listening, since this is the core thread.
  if ((!event.isMarketData() || std::holds_alternative<BarEvent>(event.payload)) && api_->clientCount() > 0) {
    JournalRecord record{seq, static_cast<uint16_t>(encoded->kind), event.timestamp(), std::move(encoded->payload)};
    outbox_.push_back(fmt::format(R"({{"type":"event","event":{}}})", journalRecordJson(record)));
  }
  return seq;
}

void Session::holdReports() { holding_ = true; }

void Session::takeReports(std::vector<Event>& out) {
  holding_ = false;
  out.swap(held_);
  held_.clear();
}

void Session::routed(const Event& event) {
  if (auto* trade = std::get_if<TradeEvent>(&event.payload)) {
    trackPrice(trade->symbol.view(), trade->price);
  } else if (auto* bar = std::get_if<BarEvent>(&event.payload)) {
    trackPrice(bar->symbol.view(), bar->close);
  }
}

void Session::publishChartUpdates() {
  for (auto& update : chart_->takeUpdates()) api_->publish(update.topic, std::move(update.text));
}

void Session::requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) {
  auto answer = [this, id](Result<std::vector<Candle>> bars) {
    post(0, TaskEvent{[this, id, bars = std::move(bars)]() mutable { chart_->historyArrived(id, std::move(bars)); }});
  };
  if (!chart_provider_) return answer(fail(ErrorCode::Unavailable, "no data plugin to ask for history"));
  PluginInstance* provider = chart_provider_;
  ChannelTask task;
  task.run = [provider, symbol, from_ns, to_ns, answer]() -> Result<void> {
    th_history_request request{
        sizeof(th_history_request), symbol.data(), static_cast<uint32_t>(symbol.size()), from_ns, to_ns, kNsPerMinute};
    std::vector<Candle> bars;
    auto ok = provider->history(request, [&](const th_bar& b) {
      bars.push_back(toCandle(BarEvent{Symbol(), b.flags | TH_BAR_HISTORY, b.start_ns, b.duration_ns, b.open, b.high,
                                       b.low, b.close, b.volume, b.vwap, b.trade_count}));
    });
    if (!ok) {
      answer(std::unexpected(ok.error()));
      return std::unexpected(ok.error());
    }
    answer(std::move(bars));
    return {};
  };
  task.cancelled = [answer](const Error& error) { answer(std::unexpected(error)); };
  if (auto submitted = data_->channels().submit("charts", std::move(task)); !submitted) {
    answer(std::unexpected(submitted.error()));
  }
}

void Session::wantLive(const std::string& symbol) {
  if (chart_provider_) acquireFeed(*chart_provider_, symbol, TH_STREAM_TRADES | TH_STREAM_BARS_1M, "charts");
}

void Session::acquireFeed(PluginInstance& provider, const std::string& symbol, uint32_t streams,
                          const std::string& consumer) {
  uint32_t missing = data_->acquire(provider.id(), symbol, streams, consumer);
  if (!missing) return;
  PluginInstance* instance = &provider;
  ChannelTask task;
  task.run = [instance, symbol, missing]() -> Result<void> {
    auto ok = instance->subscribe(symbol, missing);
    if (!ok) spdlog::warn("subscribing {} at '{}' failed: {}", symbol, instance->id(), ok.error().message);
    return ok;
  };
  if (auto submitted = data_->channels().submit("realtime", std::move(task)); !submitted) {
    spdlog::warn("subscribing {} at '{}' could not start: {}", symbol, provider.id(), submitted.error().message);
  }
}

bool Session::onCore(std::function<void(ChartHub&)> task) {
  return queue_.push(Event{0, TaskEvent{[this, task = std::move(task)] { task(*chart_); }}});
}

void Session::lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done) {
  if (!chart_provider_) return done(fail(ErrorCode::Unavailable, "no data plugin to look symbols up"));
  PluginInstance* provider = chart_provider_;
  ChannelTask task;
  task.run = [provider, symbol, done]() -> Result<void> {
    auto found = provider->lookup(symbol);
    if (!found) {
      done(std::unexpected(found.error()));
      return std::unexpected(found.error());
    }
    InstrumentInfo info;
    info.symbol = found->symbol;
    info.name = found->name;
    info.exchange = found->exchange;
    info.type = found->asset_class == TH_ASSET_OPTION ? "option" : "stock";
    info.tick_size = found->tick_size;
    done(std::move(info));
    return {};
  };
  task.cancelled = [done](const Error& error) { done(std::unexpected(error)); };
  if (auto submitted = data_->channels().submit("charts", std::move(task)); !submitted) {
    done(std::unexpected(submitted.error()));
  }
}

void Session::trackPrice(std::string_view symbol, double price) {
  auto it = prices_.find(symbol);
  if (it == prices_.end()) it = prices_.emplace(std::string(symbol), PriceTrack{price, price}).first;
  it->second.last = price;
}

void Session::logStatus() {
  std::string prices;
  for (const auto& [symbol, track] : prices_) {
    prices += fmt::format(" {} {:.2f} ({:+.2f}%)", symbol, track.last, 100.0 * (track.last / track.first - 1.0));
  }
  spdlog::info("{} |{} | {} events, journal at {}", formatExchangeTime(clock_->nowNs()),
               prices.empty() ? " no trades yet" : prices, core_->eventsProcessed(), store_->lastSequence());
  // Every 30 seconds, what the strategies did: the demo's running summary.
  if (status_logs_++ % 6 == 0) logSummary();
}

void Session::logSummary() {
  if (!strategies_ || strategies_->strategyCount() == 0) return;
  for (const auto& line : strategies_->summaryLines()) spdlog::info("{}", line);
  if (auto account = broker_ ? broker_->currentAccount() : std::nullopt) {
    spdlog::info("account: equity {:.2f}, cash {:.2f}, buying power {:.2f}", account->equity, account->cash,
                 account->buying_power);
  }
}

void Session::endGroup() {
  if (strategies_) strategies_->endGroup();
  commitPending();
  idle();
}

bool Session::commitPending() {
  if (auto ok = store_->commit(*batch_); !ok) {
    // Nothing is dropped: the batch keeps its events and is committed again
    // with the next group (or on the next idle tick), and clients are told
    // nothing that is not on disk yet. Health turns degraded and says why.
    uint64_t failures = store_errors_.fetch_add(1) + 1;
    {
      std::lock_guard lock(store_error_mutex_);
      last_store_error_ = ok.error().message;
    }
    if (failures == 1 || failures % 100 == 0) {
      spdlog::error("journal commit failed ({} times so far; retrying, events are held in memory): {}", failures,
                    ok.error().message);
    }
    store_failing_ = true;
    // Orders must not go out while their record cannot be kept.
    if (broker_ && broker_->risk().state() != TradingState::Halted) {
      broker_->halt(fmt::format("store: commit failed: {}", ok.error().message));
    }
    return false;
  }
  if (store_failing_) {
    store_failing_ = false;
    spdlog::warn("journal commit succeeded again after {} failed attempts", store_errors_.load());
  }
  if (api_) {
    for (auto& message : outbox_) api_->broadcast(std::move(message));
    // Chart updates come from events now on disk, so they go out now too.
    if (chart_) publishChartUpdates();
  }
  outbox_.clear();
  return true;
}

void Session::idle() {
  if (store_failing_) commitPending();
  try {
    quoteOptionsInPlay();
  } catch (const std::exception& e) {
    // Outside the core loop's guard: a failure here must not end the session.
    spdlog::error("quoting the option contracts in play failed: {}", e.what());
  }
  if (strategies_) {
    // Timers fire here when no event comes.
    strategies_->tick();
    strategies_->endGroup();
  }
  // What the timers and the option quotes did is committed now.
  if (!batch_->empty() && !store_failing_) commitPending();
  auto now = std::chrono::steady_clock::now();
  if (chart_ && now - last_chart_tick_ >= std::chrono::milliseconds(100)) {
    // Closing minutes the clock has passed and noticing silence need no
    // event; a tenth of a second is finer than anyone reads a chart.
    last_chart_tick_ = now;
    chart_->tick();
    if (broker_) {
      broker_->tick();
      refreshTradingSnapshot();
    }
    if (!store_failing_ && api_) publishChartUpdates();
    {
      std::lock_guard lock(chart_stats_mutex_);
      chart_stats_ = chart_->stats();
      chart_symbols_ = chart_->symbolCount();
    }
    if (strategies_) {
      std::lock_guard lock(strategy_stats_mutex_);
      strategy_stats_ = strategies_->stats();
      strategy_statuses_ = strategies_->statusCounts();
    }
  }
  if (now - last_status_ >= std::chrono::seconds(5)) {
    last_status_ = now;
    logStatus();
  }
  if (!api_ || now - last_heartbeat_ < std::chrono::seconds(1)) return;
  last_heartbeat_ = now;
  api_->broadcast(fmt::format(R"({{"type":"heartbeat","time":"{}","journal_seq":{},"events":{}}})",
                              formatExchangeTime(clock_->nowNs()), store_->lastSequence(), core_->eventsProcessed()));
}

std::string Session::pluginsJson() const {
  auto list = nlohmann::json::array();
  for (const auto& instance : registry_.all()) {
    const auto& info = instance->info();
    nlohmann::json p = {{"id", instance->id()},
                        {"kind", kindName(info.kind)},
                        {"name", info.name},
                        {"version", info.version},
                        {"abi", fmt::format("{}.{}", info.abi_major, info.abi_minor)},
                        {"path", info.path},
                        {"state", toString(instance->state())},
                        {"reason", instance->stateReason()}};
    if (instance->isBroker()) p["capabilities"] = capabilityNames(info.capabilities);
    list.push_back(std::move(p));
  }
  return jsonText(list);
}

std::string Session::healthJson() const {
  bool degraded = store_failing_.load();
  for (const auto& instance : registry_.all()) {
    if (instance->state() != PluginState::Connected) degraded = true;
  }
  nlohmann::json j;
  j["status"] = degraded ? "degraded" : "ok";
  j["version"] = TRADEHOST_VERSION;
  j["uptime_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  j["clock"] = {{"mode", clock_->simulated() ? "simulated" : "live"}, {"now", formatExchangeTime(clock_->nowNs())}};
  j["journal"] = {{"last_sequence", store_ ? store_->lastSequence() : 0},
                  {"writes", store_ ? store_->journalWrites() : 0}};
  j["events_processed"] = core_ ? core_->eventsProcessed() : 0;
  j["queue_depth"] = queue_.depth();
  j["plugins"] = nlohmann::json::parse(pluginsJson());
  {
    std::lock_guard lock(trading_mutex_);
    j["trading"] = nlohmann::json::parse(trading_health_);
    if (trading_degraded_) j["status"] = "degraded";
  }
  if (store_failing_.load()) {
    std::lock_guard lock(store_error_mutex_);
    j["store_error"] = last_store_error_;
  }
  // Market data waits for room in a full queue: the core thread is not
  // keeping up, and live prices reach it late.
  if (queue_.depth() >= queue_.capacity()) {
    if (j["status"] == "ok") j["status"] = "degraded";
    j["queue_full"] = true;
  }
  // The core thread has been on one event for longer than any event should
  // take: nothing else is processed meanwhile, orders and reports included.
  if (const int64_t busy_ms = core_ ? core_->busyMs() : 0; busy_ms >= kStallMs) {
    j["status"] = "stalled";
    nlohmann::json stalled = {{"for_ms", busy_ms}, {"in", "the host (not a strategy callback)"}};
    if (auto* strategies = strategies_any_thread_.load()) {
      if (auto running = strategies->runningCallback(); running && running->ms >= kStallMs) {
        stalled["in"] = "strategy " + running->label;
        stalled["callback_ms"] = running->ms;
      }
    }
    j["stalled"] = std::move(stalled);
  }
  return jsonText(j);
}

std::string Session::metricsText() const {
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    metricHeader(out, name, type, help);
  };
  metric("tradehost_events_processed_total", "counter", "Events processed by the core thread, by kind.");
  for (size_t i = 0; i < kEventKindCount; ++i) {
    out += fmt::format("tradehost_events_processed_total{{kind=\"{}\"}} {}\n", eventKindName(i), counts_[i].load());
  }
  metric("tradehost_queue_depth", "gauge", "Events waiting for the core thread.");
  out += fmt::format("tradehost_queue_depth {}\n", queue_.depth());
  metric("tradehost_core_busy_ms", "gauge", "How long the core thread has been on the event it is processing (0 between events).");
  out += fmt::format("tradehost_core_busy_ms {}\n", core_ ? core_->busyMs() : 0);
  metric("tradehost_journal_writes_total", "counter", "Journal records committed.");
  out += fmt::format("tradehost_journal_writes_total {}\n", store_ ? store_->journalWrites() : 0);
  metric("tradehost_journal_last_sequence", "gauge", "Sequence of the last committed journal record.");
  out += fmt::format("tradehost_journal_last_sequence {}\n", store_ ? store_->lastSequence() : 0);
  metric("tradehost_store_commits_total", "counter", "Store commits (one per group of events).");
  out += fmt::format("tradehost_store_commits_total {}\n", store_ ? store_->commits() : 0);
  metric("tradehost_store_synced_commits_total", "counter", "Store commits that synced the write-ahead log.");
  out += fmt::format("tradehost_store_synced_commits_total {}\n", store_ ? store_->syncedCommits() : 0);
  metric("tradehost_store_errors_total", "counter", "Failed store commits.");
  out += fmt::format("tradehost_store_errors_total {}\n", store_errors_.load());
  metric("tradehost_bars_stored_total", "counter", "Bars written to the bars column family.");
  out += fmt::format("tradehost_bars_stored_total {}\n", bars_stored_.load());
  metric("tradehost_plugin_state", "gauge", "1 for the state each plugin is in.");
  for (const auto& instance : registry_.all()) {
    for (auto state : {PluginState::Created, PluginState::Connecting, PluginState::Connected, PluginState::Disconnected,
                       PluginState::Failed}) {
      out += fmt::format("tradehost_plugin_state{{plugin=\"{}\",state=\"{}\"}} {}\n", instance->id(), toString(state),
                         instance->state() == state ? 1 : 0);
    }
  }
  metric("tradehost_api_requests_total", "counter", "HTTP requests answered.");
  out += fmt::format("tradehost_api_requests_total {}\n", api_ ? api_->requestsServed() : 0);
  metric("tradehost_api_connections", "gauge", "HTTP connections open.");
  out += fmt::format("tradehost_api_connections {}\n", api_ ? api_->connectionsOpen() : 0);
  metric("tradehost_api_connections_refused_total", "counter", "Requests answered 503 past api.max_connections.");
  out += fmt::format("tradehost_api_connections_refused_total {}\n", api_ ? api_->connectionsRefused() : 0);
  metric("tradehost_ws_clients", "gauge", "Connected WebSocket clients.");
  out += fmt::format("tradehost_ws_clients {}\n", api_ ? api_->clientCount() : 0);
  metric("tradehost_ws_clients_dropped_total", "counter", "WebSocket clients dropped for falling behind.");
  out += fmt::format("tradehost_ws_clients_dropped_total {}\n", api_ ? api_->clientsDropped() : 0);
  if (data_) out += data_->metricsText();
  out += chartMetrics();
  out += tradingMetrics();
  out += strategyMetrics();
  metric("tradehost_uptime_seconds", "gauge", "Seconds since the session started.");
  out += fmt::format("tradehost_uptime_seconds {:.3f}\n",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  return out;
}

void Session::setPluginConnected(const std::string& id, bool connected, std::function<void(Result<std::string>)> done) {
  auto task = [this, id, connected, done] {
    auto* instance = registry_.find(id);
    if (!instance) return done(fail(ErrorCode::NotFound, fmt::format("no plugin with id '{}'", id)));
    auto ok = connected ? instance->connect() : instance->disconnect();
    if (!ok) return done(std::unexpected(ok.error()));
    // A data provider resumes its own subscriptions on connect (ABI rule).
    // The action is logged once, when its journal record below is processed.
    // The operator's action goes into the journal with the state it led to.
    auto state = instance->state();
    int32_t conn = state == PluginState::Connected    ? TH_CONN_CONNECTED
                   : state == PluginState::Connecting ? TH_CONN_CONNECTING
                   : state == PluginState::Failed     ? TH_CONN_FAILED
                                                      : TH_CONN_DISCONNECTED;
    post(instance->index(), ConnectionEvent{conn, connected ? "operator: connect requested through the API"
                                                            : "operator: disconnect requested through the API"});
    done(jsonText(nlohmann::json{{"id", id}, {"state", toString(state)}}));
  };
  if (!control_.post(std::move(task))) done(fail(ErrorCode::Unavailable, "the host is stopping"));
}

Result<std::string> Session::journalJson(uint64_t from_seq, size_t limit, const std::string& kind) const {
  uint16_t wanted = 0;
  if (!kind.empty() && (wanted = journalKindFromName(kind)) == 0) {
    return fail(ErrorCode::InvalidArgument, fmt::format("kind: unknown journal kind '{}'", kind));
  }
  // One request scans a bounded number of records and says where it stopped
  // (next_seq), so a client pages through a long journal instead.
  auto page = readJournalPage(*store_, from_seq, limit, wanted, 100'000);
  if (!page) return std::unexpected(page.error());
  std::string records;
  for (const auto& record : page->records) {
    if (!records.empty()) records += ',';
    records += journalRecordJson(record);
  }
  return fmt::format(R"({{"records":[{}],"next_seq":{},"last_seq":{}}})", records, page->next_seq,
                     store_->lastSequence());
}

std::string Session::chartMetrics() const {
  ChartStats stats;
  size_t symbols = 0;
  {
    std::lock_guard lock(chart_stats_mutex_);
    stats = chart_stats_;
    symbols = chart_symbols_;
  }
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
    counterMetric(out, fmt::format("tradehost_chart_{}_total", name), help, value);
  };
  metricHeader(out, "tradehost_chart_symbols", "gauge", "Symbols the chart hub keeps series for.");
  out += fmt::format("tradehost_chart_symbols {}\n", symbols);
  counter("trades", "Trades the chart hub built candles from.", stats.trades);
  counter("late_trades", "Trades for a minute already closed, ignored.", stats.late_trades);
  counter("outside_session", "Trades and bars outside regular hours, not charted.", stats.outside_session);
  counter("history_bars", "Candles received in history answers.", stats.history_bars);
  counter("history_merged", "History candles merged in (new, or replacing a partial candle).", stats.history_merged);
  counter("history_kept_live", "History candles refused: the live candle was final or more complete.",
          stats.history_kept_live);
  counter("backfill_requests", "History requests sent to the provider.", stats.backfill_requests);
  counter("backfill_joined", "History asks answered by a request already in flight.", stats.backfill_joined);
  counter("backfill_errors", "History requests that failed.", stats.backfill_errors);
  counter("gaps_detected", "Missing minutes inside a session, detected.", stats.gaps_detected);
  counter("gaps_filled", "Detected gaps filled from history.", stats.gaps_filled);
  counter("repairs", "Live minutes seen only in part and asked for again.", stats.repairs);
  return out;
}

}  // namespace th

