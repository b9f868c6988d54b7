#include "script/strategy_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <th/plugin.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>

#include "chart/chart_hub.h"
#include "chart/periods.h"
#include "core/json.h"
#include "core/text.h"
#include "core/time.h"
#include "script/instance.h"
#include "script/lua_engine.h"

namespace th {

std::string_view toString(StrategyStatus status) {
  switch (status) {
    case StrategyStatus::Running:
      return "running";
    case StrategyStatus::Disabled:
      return "disabled";
    case StrategyStatus::Faulted:
      return "faulted";
    case StrategyStatus::Failed:
      return "failed";
  }
  return "failed";
}

StrategyService::StrategyService(StrategyOptions options, Store& store, StrategyHost& host)
    : options_(std::move(options)),
      store_(store),
      host_(host),
      sdk_(std::make_unique<SdkModules>(options_.sdk_dir)),
      watchdog_(std::make_unique<Watchdog>()),
      periods_(std::make_unique<PeriodMap>(host.calendar(), OutsideSession::Drop)) {}

StrategyService::~StrategyService() {
  if (watch_fd_ >= 0) ::close(watch_fd_);
}

StrategyEntry* StrategyService::find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

StrategyInstance* StrategyService::instance(const std::string& id) const {
  auto* entry = find(id);
  return entry ? entry->instance.get() : nullptr;
}

// ------------------------------------------------------------------ start --

void StrategyService::start() {
  namespace fs = std::filesystem;
  started_ = true;
  loadChecklists();
  std::error_code ec;
  if (options_.dir.empty() || !fs::is_directory(options_.dir, ec)) {
    spdlog::info("strategies: no folder '{}'; no strategy runs", options_.dir);
    return;
  }
  // A folder that cannot be examined (a symlink loop, no permission) is
  // that strategy failed, with the reason; the others start.
  std::vector<std::pair<std::string, std::string>> ids;  // id, why it cannot be read ("" if it can)
  for (const auto& item : fs::directory_iterator(options_.dir, ec)) {
    auto id = item.path().filename().string();
    if (!options_.only.empty() && std::find(options_.only.begin(), options_.only.end(), id) == options_.only.end()) {
      continue;
    }
    std::error_code item_ec;
    const bool folder = item.is_directory(item_ec);
    if (!item_ec && !folder) continue;
    if (!isSafeId(id)) {
      spdlog::warn("strategies: {:?} is not a strategy id (1-64 of a-z, 0-9, _ and -); skipped", id);
      continue;
    }
    const bool definition = !item_ec && fs::is_regular_file(item.path() / (id + ".yaml"), item_ec);
    if (item_ec) {
      ids.emplace_back(id, fmt::format("{}: {}", item.path().string(), item_ec.message()));
    } else if (definition) {
      ids.emplace_back(id, "");
    }
  }
  if (ec) spdlog::error("strategies: cannot list {}: {}", options_.dir, ec.message());
  std::sort(ids.begin(), ids.end());
  for (const auto& [id, unreadable] : ids) {
    auto entry = std::make_unique<StrategyEntry>();
    entry->id = id;
    auto* raw = entry.get();
    entries_.emplace(id, std::move(entry));
    if (unreadable.empty()) {
      startEntry(*raw);
    } else {
      raw->status = StrategyStatus::Failed;
      raw->reason = unreadable;
      spdlog::error("strategy {} cannot start: {}", id, unreadable);
    }
  }
  size_t running = 0;
  for (const auto& [id, entry] : entries_) running += entry->status == StrategyStatus::Running ? 1 : 0;
  spdlog::info("strategies: {} of {} running from {}", running, entries_.size(), options_.dir);
}

void StrategyService::startEntry(StrategyEntry& entry) {
  namespace fs = std::filesystem;
  auto folder = (fs::path(options_.dir) / entry.id).string();
  auto stored = loadStoredState(entry);
  Result<StrategySource> source = fail(ErrorCode::NotFound, "no version");
  auto disk = readStrategyFolder(folder);
  if (stored && entry.pinned && entry.version_number > 0) {
    // The operator rolled back to this version: it stays until a reload.
    source = storedVersion(entry.id, entry.version_number);
    if (source && disk && disk->sha256 != source->sha256) {
      spdlog::warn("strategy {}: the files in {} differ from the version rolled back to ({}); "
                   "`tradehost strategy reload {}` loads them",
                   entry.id, folder, source->sha256.substr(0, 12), entry.id);
    }
  } else {
    source = std::move(disk);
  }
  if (!stored) {
    entry.status = StrategyStatus::Failed;
    entry.reason = stored.error().message;
  } else if (!source) {
    entry.status = StrategyStatus::Failed;
    entry.reason = source.error().message;
  } else if (!entry.fault.empty()) {
    // It faulted before the restart: it stays stopped, without running any
    // of its code, until an operator enables it.
    WarmupSnapshot snapshot;
    snapshot.source = std::move(*source);
    if (prepare(entry, snapshot)) {
      entry.definition = std::move(snapshot.definition);
      entry.source = std::move(snapshot.source);
    }
    entry.status = StrategyStatus::Faulted;
    entry.reason = entry.fault;
    spdlog::warn("strategy {} stays stopped: it faulted before the restart ({}); enable it to run it again", entry.id,
                 entry.fault);
    return;
  } else {
    auto snapshot = std::make_shared<WarmupSnapshot>();
    snapshot->action = "start";
    snapshot->source = std::move(*source);
    auto prepared = prepare(entry, *snapshot);
    // The YAML's enabled: applies when the host first meets the strategy;
    // afterwards enable/disable by the operator is what is kept.
    if (prepared && entry.saved.empty()) entry.enabled = snapshot->definition.enabled;
    if (prepared) prepared = fillSnapshot(entry, *snapshot);
    if (prepared) {
      snapshot->pause_started_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count();
      prepared = warmUp(*snapshot, *watchdog_);
    }
    if (prepared) prepared = swapIn(entry, *snapshot);
    if (!prepared) {
      entry.status = StrategyStatus::Failed;
      entry.reason = prepared.error().message;
    }
  }
  if (entry.status == StrategyStatus::Failed) {
    spdlog::error("strategy {} not started: {}", entry.id, entry.reason);
    journal("failed", entry, {{"error", entry.reason}});
  } else if (!entry.enabled) {
    entry.status = StrategyStatus::Disabled;
    spdlog::info("strategy {} {} loaded, disabled", entry.id, entry.definition.version);
  }
}

BarEvent StrategyService::toBar(const std::string& symbol, const Candle& candle, Timeframe timeframe) const {
  auto period = periods_->period(candle.start_ns, timeframe);
  return toBarEvent(symbol, candle,
                    period ? period->end_ns - period->start_ns : timeframeMinutes(timeframe) * kNsPerMinute,
                    TH_BAR_FINAL | TH_BAR_HISTORY);
}

// Checks a version before anything runs: the definition parses, names the
// folder's id, its risk limits only tighten, its broker exists.
Result<void> StrategyService::prepare(const StrategyEntry& entry, WarmupSnapshot& snapshot) {
  const auto& source = snapshot.source;
  auto definition = parseDefinition(source.definitionText(), source.origin(source.definition_name));
  if (!definition) return std::unexpected(definition.error());
  if (definition->id != entry.id) {
    return fail(ErrorCode::InvalidArgument, fmt::format("{}: id: '{}' is not the strategy's folder name '{}'",
                                                        source.origin(source.definition_name), definition->id, entry.id));
  }
  if (auto params = options_.params.find(entry.id); params != options_.params.end()) {
    for (const auto& [name, text] : params->second) {
      if (auto set = setParam(*definition, name, text); !set) return set;
    }
  }
  if (auto symbols = options_.symbols.find(entry.id); symbols != options_.symbols.end() && !symbols->second.empty()) {
    definition->symbols = symbols->second;
  }
  if (options_.budget_ms > 0) definition->runtime.budget_ms = options_.budget_ms;
  if (auto ok = checkTighter(options_.global_limits, definition->risk, source.origin(source.definition_name) + ": risk");
      !ok) {
    return ok;
  }
  if (!definition->broker.empty() && (!host_.broker() || !host_.broker()->broker(definition->broker))) {
    return fail(ErrorCode::InvalidArgument, fmt::format("{}: broker: no broker plugin '{}' is loaded",
                                                        source.origin(source.definition_name), definition->broker));
  }
  snapshot.definition = std::move(*definition);
  return {};
}

// What a new instance starts from: the state the strategy has now (the
// running instance's, else the stored one), the bars the running version saw
// (else the chart's), its open orders and positions.
Result<void> StrategyService::fillSnapshot(const StrategyEntry& entry, WarmupSnapshot& snapshot) {
  if (entry.instance) {
    auto state = entry.instance->state();
    if (!state) return std::unexpected(state.error());
    snapshot.state = std::move(*state);
    snapshot.from_version = entry.definition.version;
    snapshot.has_state = true;
  } else if (!entry.saved.empty()) {
    auto record = nlohmann::json::parse(entry.saved, nullptr, false);
    if (!record.is_discarded() && record.contains("state")) {
      snapshot.state = record["state"];
      snapshot.from_version = record.value("version", std::string());
      snapshot.has_state = true;
    }
  }
  const auto& def = snapshot.definition;
  // The new version warms up on as many bars as it asks for, per symbol it
  // trades: the last ones the running version saw when it is running (its
  // bars are current) and kept that many of that timeframe, else the chart's.
  const size_t wanted = def.runtime.warmup_bars;
  const bool kept_current =
      entry.instance && entry.status == StrategyStatus::Running && entry.definition.timeframe == def.timeframe;
  std::vector<std::string> symbols;
  if (wanted > 0) {
    symbols = def.symbols;
    for (const auto& symbol : entry.extra_symbols) {
      if (std::find(symbols.begin(), symbols.end(), symbol) == symbols.end()) symbols.push_back(symbol);
    }
  }
  for (const auto& symbol : symbols) {
    auto kept = kept_current ? entry.recent.find(symbol) : entry.recent.end();
    if (kept != entry.recent.end() && kept->second.size() >= wanted) {
      snapshot.bars.insert(snapshot.bars.end(), kept->second.end() - static_cast<std::ptrdiff_t>(wanted),
                           kept->second.end());
      continue;
    }
    for (const auto& candle : host_.history(symbol, def.timeframe, wanted)) {
      snapshot.bars.push_back(toBar(symbol, candle, def.timeframe));
    }
  }
  std::stable_sort(snapshot.bars.begin(), snapshot.bars.end(),
                   [](const BarEvent& a, const BarEvent& b) { return a.start_ns < b.start_ns; });
  if (auto* broker = host_.broker()) {
    OrderFilter filter;
    filter.strategy = entry.id;
    filter.limit = 100'000;
    for (const auto* order : broker->orders(filter)) snapshot.orders.push_back(*order);
    snapshot.positions = broker->book(def.broker).strategyPositions(entry.id);
  }
  snapshot.now_ns = host_.nowNs();
  snapshot.taken_ns = snapshot.now_ns;
  return {};
}

// Compiles the version, runs on_start and replays the snapshot's bars with
// trading disabled. Any thread: it touches nothing but the snapshot.
Result<void> StrategyService::warmUp(WarmupSnapshot& snapshot, Watchdog& watchdog) {
  auto started = std::chrono::steady_clock::now();
  auto created = StrategyInstance::create(this, snapshot.definition, snapshot.source, *sdk_, &watchdog);
  if (!created) return std::unexpected(created.error());
  auto& instance = **created;
  instance.setWarming(snapshot, watchdog);
  // ctx.state while warming is a copy: what the bars do to it is dropped.
  if (auto ok = instance.adoptState(snapshot.state, snapshot.from_version); !ok) return ok;
  if (auto ok = instance.onStart(); !ok) return fail(ok.error().code, "warm-up: " + ok.error().message);
  if (!snapshot.has_state) {
    // A first start: the state is what on_start made of an empty one.
    auto initial = instance.state();
    if (!initial) return std::unexpected(initial.error());
    snapshot.state = std::move(*initial);
    snapshot.from_version = snapshot.definition.version;
    snapshot.has_state = true;
  }
  int64_t now = snapshot.now_ns;
  for (const auto& bar : snapshot.bars) {
    snapshot.now_ns = bar.start_ns + bar.duration_ns;
    if (auto ok = instance.onBar(bar); !ok) return fail(ok.error().code, "warm-up: " + ok.error().message);
  }
  snapshot.now_ns = now;
  snapshot.instance = std::move(*created);
  snapshot.warmup_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  return {};
}

Result<void> StrategyService::catchUp(StrategyInstance& instance, WarmupSnapshot& snapshot,
                                      const std::vector<std::variant<BarEvent, TradeEvent, QuoteEvent>>& items) {
  for (const auto& item : items) {
    Result<void> ok;
    if (auto* bar = std::get_if<BarEvent>(&item)) {
      snapshot.now_ns = bar->start_ns + bar->duration_ns;
      ok = instance.onBar(*bar);
    } else if (auto* trade = std::get_if<TradeEvent>(&item)) {
      snapshot.now_ns = trade->ts_ns;
      ok = instance.onTrade(*trade);
    } else if (auto* quote = std::get_if<QuoteEvent>(&item)) {
      snapshot.now_ns = quote->ts_ns;
      ok = instance.onQuote(*quote);
    }
    if (!ok) return fail(ok.error().code, "catching up: " + ok.error().message);
  }
  return {};
}

void StrategyService::queueForReload(StrategyEntry& entry, std::variant<BarEvent, TradeEvent, QuoteEvent> item) {
  auto& snapshot = *entry.reloading;
  {
    std::lock_guard lock(snapshot.queue_mutex);
    snapshot.queued.push_back(std::move(item));
  }
  snapshot.queue_changed.notify_all();
}

// Core thread: the warmed instance catches up, takes the state and goes live.
Result<void> StrategyService::swapIn(StrategyEntry& entry, WarmupSnapshot& snapshot) {
  auto& instance = *snapshot.instance;
  instance.setWarming(snapshot, *watchdog_);
  if (auto ok = catchUp(instance, snapshot, snapshot.queued); !ok) return ok;
  // The state the running version has now (or the stored one at start).
  nlohmann::json state = snapshot.state;
  std::string from_version = snapshot.from_version;
  if (entry.instance) {
    auto current = entry.instance->state();
    if (!current) return std::unexpected(current.error());
    state = std::move(*current);
    from_version = entry.definition.version;
  }
  if (auto ok = instance.adoptState(state, from_version); !ok) return ok;
  auto number = recordVersion(snapshot.source, snapshot.definition);
  if (!number) return std::unexpected(number.error());
  if (auto* broker = host_.broker()) {
    RiskLimits limits;
    auto configured = options_.configured_limits.find(entry.id);
    if (configured != options_.configured_limits.end()) limits = configured->second;
    overlayLimits(limits, snapshot.definition.risk);
    if (auto ok = broker->risk().setStrategyLimits(entry.id, limits); !ok) return ok;
  }

  // The swap itself: nothing below can fail.
  const bool timeframe_changed = entry.definition.timeframe != snapshot.definition.timeframe;
  bool symbols_changed = !entry.instance || entry.definition.symbols != snapshot.definition.symbols || timeframe_changed;
  // A version that adds on_trade or on_quote needs those streams too.
  auto streamsOf = [](const StrategyInstance& instance) {
    uint32_t streams = TH_STREAM_BARS_1M;
    if (instance.has(Callback::Trade)) streams |= TH_STREAM_TRADES;
    if (instance.has(Callback::Quote)) streams |= TH_STREAM_QUOTES;
    return streams;
  };
  uint32_t streams = streamsOf(*snapshot.instance);
  bool streams_changed = !entry.instance || streamsOf(*entry.instance) != streams;
  auto previous = std::move(entry.instance);
  nlohmann::json detail = {{"action", snapshot.action},
                           {"to_version", snapshot.definition.version},
                           {"to_sha256", snapshot.source.sha256},
                           {"caught_up", snapshot.caught_up + snapshot.queued.size()},
                           {"caught_up_at_swap", snapshot.queued.size()},
                           {"warmup_bars", snapshot.bars.size()},
                           {"warmup_us", snapshot.warmup_us}};
  if (previous) {
    detail["from_version"] = entry.definition.version;
    detail["from_sha256"] = entry.source.sha256;
    detail["handled_by_previous"] = entry.handled;
    detail["last_event_sequence"] = entry.last_sequence;
  }
  if (entry.version_number != *number) entry.previous_number = entry.version_number;
  entry.version_number = *number;
  entry.pinned = snapshot.action == "rollback";
  entry.definition = snapshot.definition;
  entry.source = snapshot.source;
  entry.instance = std::move(snapshot.instance);
  entry.instance->goLive(entry, *watchdog_);
  entry.status = entry.enabled ? StrategyStatus::Running : StrategyStatus::Disabled;
  entry.reason.clear();
  entry.fault.clear();  // a new version starts with a clean slate
  entry.error_times.clear();
  entry.consecutive_errors = 0;
  entry.handled = 0;
  entry.loaded_ns = host_.nowNs();
  entry.dirty = true;
  for (auto& timer : snapshot.timers) {
    // A timer a replayed bar asked for belongs to that bar's past.
    if (timer.at_ns < snapshot.taken_ns) continue;
    addTimer(entry, timer.at_ns, std::move(timer.tag), timer.id);
  }
  rescheduleTimers();
  // The bars kept for the next warm-up are of this version's timeframe, and
  // only as many as it warms up on (none: the next version reads the chart).
  if (timeframe_changed || entry.definition.runtime.warmup_bars == 0) entry.recent.clear();
  if (symbols_changed) {
    entry.building.clear();
    reindex();
  }
  if (symbols_changed || streams_changed) {
    for (const auto& symbol : entry.definition.symbols) host_.subscribe(symbol, streams, "strategy:" + entry.id);
  }
  for (const auto& [symbol, streams] : snapshot.subscriptions) subscribeFor(entry, symbol, streams);
  if (previous) {
    ++entry.reloads;
    ++stats_.reloads;
  }
  last_swap_pause_us_ = static_cast<uint64_t>(
      (std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
           .count() -
       snapshot.pause_started_ns) /
      1000);
  detail["pause_us"] = last_swap_pause_us_;
  journal(previous ? "swap" : "start", entry, detail);
  saveState(entry);
  spdlog::info("strategy {} {} {} ({}; warm-up {} bar(s) in {:.1f} ms, {} caught up){}", entry.id,
               entry.definition.version, previous ? "swapped in" : "started", snapshot.source.sha256.substr(0, 12),
               snapshot.bars.size(), snapshot.warmup_us / 1000.0, snapshot.caught_up + snapshot.queued.size(),
               previous ? fmt::format(" after {} event(s) on {}", detail["handled_by_previous"].get<uint64_t>(),
                                      detail["from_version"].get<std::string>())
                        : "");
  // The old state closes off the core thread: a big heap takes a while to free.
  if (previous) {
    auto* doomed = previous.release();
    if (!host_.postOffCore([doomed] { delete doomed; })) delete doomed;
  }
  return {};
}

void StrategyService::overlayLimits(RiskLimits& base, const RiskLimits& overlay) {
  auto take = [](auto& field, const auto& value) {
    if (value) field = value;
  };
  take(base.max_order_quantity, overlay.max_order_quantity);
  take(base.max_order_notional, overlay.max_order_notional);
  take(base.max_position_notional, overlay.max_position_notional);
  take(base.max_gross_exposure, overlay.max_gross_exposure);
  take(base.max_open_orders, overlay.max_open_orders);
  take(base.max_orders_per_minute, overlay.max_orders_per_minute);
  take(base.price_collar_pct, overlay.price_collar_pct);
  take(base.regular_hours_only, overlay.regular_hours_only);
  take(base.duplicate_window_s, overlay.duplicate_window_s);
  take(base.daily_loss_limit, overlay.daily_loss_limit);
  take(base.max_drawdown, overlay.max_drawdown);
  take(base.cool_down_after_losses, overlay.cool_down_after_losses);
  take(base.cool_down_minutes, overlay.cool_down_minutes);
}

void StrategyService::reindex() {
  if (dispatching_ > 0) {
    reindex_pending_ = true;
    return;
  }
  reindex_pending_ = false;
  by_symbol_.clear();
  for (const auto& [id, entry] : entries_) {
    if (!entry->instance) continue;
    for (const auto& symbol : entry->definition.symbols) by_symbol_[symbol].push_back(entry.get());
    for (const auto& symbol : entry->extra_symbols) {
      auto& list = by_symbol_[symbol];
      if (std::find(list.begin(), list.end(), entry.get()) == list.end()) list.push_back(entry.get());
    }
  }
}

void StrategyService::stop() {
  if (!started_) return;
  started_ = false;  // nothing more reaches the strategies
  for (auto& [id, entry] : entries_) {
    if (entry->instance && entry->status == StrategyStatus::Running) {
      if (auto ok = entry->instance->onStop(); !ok) {
        spdlog::error("[strategy {} {}] {}", id, entry->definition.version, ok.error().message);
      }
      entry->dirty = true;
    }
    saveState(*entry);
  }
}

// ----------------------------------------------------------------- events --

void StrategyService::onEvent(const Event& event, uint64_t sequence) {
  if (!started_) return;
  // by_symbol_'s lists are walked below: a reindex waits until the walk is over.
  struct Dispatching {
    StrategyService& service;
    explicit Dispatching(StrategyService& s) : service(s) { ++service.dispatching_; }
    ~Dispatching() {
      if (--service.dispatching_ == 0 && service.reindex_pending_) service.reindex();
    }
  } dispatching(*this);
  int64_t ts = event.timestamp();
  if (next_timer_due_ <= ts) fireTimers(ts);
  if (auto* bar = std::get_if<BarEvent>(&event.payload)) {
    // Live, final 1-minute bars build every strategy timeframe.
    if ((bar->flags & TH_BAR_HISTORY) || !(bar->flags & TH_BAR_FINAL) || bar->duration_ns != kNsPerMinute) return;
    auto it = by_symbol_.find(bar->symbol.view());
    if (it == by_symbol_.end()) return;
    for (auto* entry : it->second) {
      if (entry->status != StrategyStatus::Running) continue;
      entry->last_sequence = sequence;
      dispatchBar(*entry, *bar);
    }
  } else if (auto* trade = std::get_if<TradeEvent>(&event.payload)) {
    auto it = by_symbol_.find(trade->symbol.view());
    if (it == by_symbol_.end()) return;
    for (auto* entry : it->second) {
      if (entry->status != StrategyStatus::Running || !entry->instance->has(Callback::Trade)) continue;
      if (!inSchedule(*entry, trade->ts_ns)) continue;
      entry->last_sequence = sequence;
      if (entry->reloading) queueForReload(*entry, *trade);
      handled(*entry, entry->instance->onTrade(*trade));
    }
  } else if (auto* quote = std::get_if<QuoteEvent>(&event.payload)) {
    auto it = by_symbol_.find(quote->symbol.view());
    if (it == by_symbol_.end()) return;
    for (auto* entry : it->second) {
      if (entry->status != StrategyStatus::Running || !entry->instance->has(Callback::Quote)) continue;
      if (!inSchedule(*entry, quote->ts_ns)) continue;
      entry->last_sequence = sequence;
      if (entry->reloading) queueForReload(*entry, *quote);
      handled(*entry, entry->instance->onQuote(*quote));
    }
  } else if (auto* order = std::get_if<OrderEvent>(&event.payload)) {
    onOrderEvent(*order, sequence);
  } else if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
    onFillEvent(*fill, sequence);
  }
}

void StrategyService::handled(StrategyEntry& entry, const Result<void>& result) {
  ++entry.handled;
  ++entry.handled_total;
  ++stats_.callbacks;
  entry.dirty = true;
  if (result) {
    entry.consecutive_errors = 0;
  } else {
    callbackFailed(entry, result.error());
  }
}

void StrategyService::dispatchBar(StrategyEntry& entry, const BarEvent& minute) {
  Timeframe timeframe = entry.definition.timeframe;
  if (timeframe == Timeframe::M1) {
    deliver(entry, minute);
    return;
  }
  auto period = periods_->period(minute.start_ns, timeframe);
  if (!period) return;  // outside the session
  auto symbol = minute.symbol.view();
  auto it = entry.building.find(symbol);
  if (it != entry.building.end() && it->second.start_ns != period->start_ns) {
    // The period ended without its last minute (a gap): it goes out as it is.
    BarEvent done = it->second;
    entry.building.erase(it);
    done.vwap = done.volume > 0 ? done.vwap / done.volume : done.close;
    deliver(entry, done);
    if (entry.status != StrategyStatus::Running) return;
    it = entry.building.end();
  }
  if (it == entry.building.end()) {
    BarEvent bar = minute;
    bar.start_ns = period->start_ns;
    bar.duration_ns = period->end_ns - period->start_ns;
    bar.vwap = minute.vwap * minute.volume;  // a sum until delivered
    it = entry.building.emplace(std::string(symbol), bar).first;
  } else {
    auto& bar = it->second;
    bar.high = std::max(bar.high, minute.high);
    bar.low = std::min(bar.low, minute.low);
    bar.close = minute.close;
    bar.volume += minute.volume;
    bar.vwap += minute.vwap * minute.volume;
    bar.trade_count += minute.trade_count;
  }
  if (minute.start_ns + kNsPerMinute >= period->end_ns) {
    BarEvent done = it->second;
    entry.building.erase(it);
    done.vwap = done.volume > 0 ? done.vwap / done.volume : done.close;
    deliver(entry, done);
  }
}

void StrategyService::deliver(StrategyEntry& entry, const BarEvent& bar) {
  if (!inSchedule(entry, bar.start_ns)) return;
  // Kept for the next version's warm-up. A strategy that warms up on no
  // bars keeps none, so a next version that does reads the chart's instead.
  if (const size_t keep = entry.definition.runtime.warmup_bars; keep > 0) {
    auto found = entry.recent.find(bar.symbol.view());
    if (found == entry.recent.end()) {
      found = entry.recent.emplace(std::string(bar.symbol.view()), std::deque<BarEvent>{}).first;
    }
    auto& recent = found->second;
    recent.push_back(bar);
    while (recent.size() > keep) recent.pop_front();
  }
  if (entry.reloading) queueForReload(entry, bar);
  if (entry.instance->skipsBar(bar)) return;
  handled(entry, entry.instance->onBar(bar));
}

bool StrategyService::inSchedule(StrategyEntry& entry, int64_t ts_ns) {
  const auto& schedule = entry.definition.schedule;
  if (schedule.start_minute < 0 && schedule.end_minute < 0) return true;
  // Exchange minute of day, with the day's offset cached (time zone
  // lookups are slow); re-derived for the early hours, where DST turns.
  constexpr int64_t kHour = 3600'000'000'000LL;
  if (ts_ns < day_.base_ns + 3 * kHour || ts_ns >= day_.base_ns + 24 * kHour) {
    auto local = toExchangeTime(ts_ns);
    int64_t into_day = (static_cast<int64_t>(local.minute_of_day) * 60 + local.second) * 1'000'000'000LL +
                       ts_ns % 1'000'000'000LL;
    day_.base_ns = ts_ns - into_day;
    day_.date = local.yyyymmdd;
    auto session = host_.calendar().sessionOn(local.yyyymmdd);
    day_.trading = session.has_value();
    day_.open_minute = session ? static_cast<int32_t>((session->open_ns - day_.base_ns) / kNsPerMinute) : 0;
    day_.close_minute = session ? static_cast<int32_t>((session->close_ns - day_.base_ns) / kNsPerMinute) : 0;
  }
  if (!day_.trading) return false;
  auto minute = static_cast<int32_t>((ts_ns - day_.base_ns) / kNsPerMinute);
  int32_t start = schedule.start_minute >= 0 ? schedule.start_minute : day_.open_minute;
  int32_t end = schedule.end_minute >= 0 ? std::min(schedule.end_minute, day_.close_minute) : day_.close_minute;
  return minute >= start && minute < end;
}

void StrategyService::onOrderEvent(const OrderEvent& event, uint64_t sequence) {
  auto* broker = host_.broker();
  const Order* order = broker ? broker->find(event.client_order_id) : nullptr;
  if (!order || order->intent.strategy.empty()) return;
  auto* entry = find(order->intent.strategy);
  if (!entry || entry->status != StrategyStatus::Running || !entry->instance->has(Callback::Order)) return;
  entry->last_sequence = sequence;
  handled(*entry, entry->instance->onOrder(*order));
}

void StrategyService::onFillEvent(const FillEvent& event, uint64_t sequence) {
  auto* broker = host_.broker();
  const Order* order = broker && !event.client_order_id.empty() ? broker->find(event.client_order_id) : nullptr;
  if (!order && event.activity != TH_FILL_TRADE) {
    onSettlement(event, sequence);
    return;
  }
  if (!order || order->intent.strategy.empty()) return;
  auto* entry = find(order->intent.strategy);
  if (!entry) return;
  ++entry->fills;
  if (entry->status != StrategyStatus::Running || !entry->instance->has(Callback::Fill)) return;
  entry->last_sequence = sequence;
  handled(*entry, entry->instance->onFill(event));
}

// An option's expiry, exercise or assignment: each strategy the broker
// service booked a part to hears of its part.
void StrategyService::onSettlement(const FillEvent& event, uint64_t sequence) {
  auto* broker = host_.broker();
  const auto* shares = broker ? broker->settlementShares(event.fill_id) : nullptr;
  if (!shares) return;
  for (const auto& share : *shares) {
    auto* entry = share.strategy.empty() ? nullptr : find(share.strategy);
    if (!entry) continue;
    ++entry->fills;
    if (entry->status != StrategyStatus::Running || !entry->instance->has(Callback::Fill)) continue;
    FillEvent part = event;
    part.quantity = share.quantity;
    entry->last_sequence = sequence;
    handled(*entry, entry->instance->onFill(part));
  }
}

void StrategyService::tick() {
  if (!started_) return;
  int64_t now = host_.nowNs();
  if (next_timer_due_ <= now) fireTimers(now);
  if (options_.watch) checkWatch();
}

// ----------------------------------------------------------------- timers --

uint64_t StrategyService::addTimer(StrategyEntry& entry, int64_t at_ns, std::string tag, uint64_t id) {
  // The same tag at the same time is one timer: a new version's on_start
  // asking again for what the old one set does not double it.
  for (const auto& timer : entry.timers) {
    if (timer.at_ns == at_ns && timer.tag == tag) return timer.id;
  }
  if (id == 0) id = nextTimerId();
  entry.timers.push_back(StrategyTimer{id, at_ns, std::move(tag)});
  next_timer_due_ = std::min(next_timer_due_, at_ns);
  entry.dirty = true;
  return id;
}

bool StrategyService::cancelTimer(StrategyEntry& entry, uint64_t id) {
  entry.dirty = true;
  return std::erase_if(entry.timers, [id](const StrategyTimer& t) { return t.id == id; }) > 0;
}

void StrategyService::fireTimers(int64_t now_ns) {
  next_timer_due_ = INT64_MAX;
  for (auto& [id, entry] : entries_) {
    if (entry->timers.empty()) continue;
    // A stopped strategy's timers wait; rescheduleTimers() counts them
    // again when it runs, so they do not make every event look for them.
    if (entry->status != StrategyStatus::Running) continue;
    std::vector<StrategyTimer> due;
    std::erase_if(entry->timers, [&](const StrategyTimer& t) {
      if (t.at_ns > now_ns) return false;
      due.push_back(t);
      return true;
    });
    std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.at_ns < b.at_ns; });
    for (const auto& timer : due) {
      if (entry->status != StrategyStatus::Running) break;
      handled(*entry, entry->instance->onTimer(timer));
    }
    for (const auto& t : entry->timers) next_timer_due_ = std::min(next_timer_due_, t.at_ns);
  }
}

void StrategyService::rescheduleTimers() {
  next_timer_due_ = INT64_MAX;
  for (const auto& [id, entry] : entries_) {
    if (entry->status != StrategyStatus::Running) continue;
    for (const auto& t : entry->timers) next_timer_due_ = std::min(next_timer_due_, t.at_ns);
  }
}

}  // namespace th
