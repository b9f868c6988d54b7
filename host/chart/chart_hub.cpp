#include "chart/chart_hub.h"

#include <cassert>

#include "chart/chart_hub_internal.h"
#include "th/plugin.h"

namespace th {

std::string_view seriesStateName(SeriesState state) {
  static constexpr std::string_view kNames[] = {"LIVE", "BACKFILLING", "DEGRADED", "STALE"};
  return kNames[static_cast<size_t>(state)];
}

ChartHub::ChartHub(ChartOptions options, const SessionCalendar& calendar, ChartHost& host)
    : options_(std::move(options)), periods_(calendar, options_.outside), host_(host) {}

ChartHub::~ChartHub() = default;

ChartHub::SymbolState* ChartHub::find(std::string_view symbol) const {
  if (last_symbol_ && last_symbol_->name == symbol) return last_symbol_;
  // Heterogeneous lookup needs a transparent hash; symbols are short, so a
  // temporary string here costs less than the complexity.
  auto it = symbols_.find(std::string(symbol));
  if (it == symbols_.end()) return nullptr;
  const_cast<ChartHub*>(this)->last_symbol_ = it->second.get();
  return it->second.get();
}

ChartHub::SymbolState& ChartHub::ensure(std::string_view symbol) {
  if (auto* sym = find(symbol)) return *sym;
  auto state = std::make_unique<SymbolState>(std::string(symbol), options_.capacity);
  auto* sym = state.get();
  symbols_.emplace(sym->name, std::move(state));
  last_symbol_ = sym;
  return *sym;
}

bool ChartHub::knows(std::string_view symbol) const { return find(symbol) != nullptr; }

std::vector<std::string> ChartHub::symbols() const {
  std::vector<std::string> out;
  for (const auto& [name, state] : symbols_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

void ChartHub::track(std::string_view symbol) {
  bool known = knows(symbol);
  SymbolState& sym = ensure(symbol);
  if (provider_connected_ && sym.stream_since == kForever) sym.stream_since = host_.nowNs();
  if (known) return;
  // History from the open of the configured number of sessions back up to
  // the current minute; the current minute itself is repaired when it ends
  // if the feed did not see all of it.
  int64_t now = host_.nowNs();
  int64_t from = floorMinute(now);
  std::optional<TradingSession> session = periods_.calendar().previousSession(now);
  for (int32_t i = 1; session && i <= options_.backfill_sessions; ++i) {
    from = std::min(from, session->open_ns);
    session = periods_.calendar().previousSession(session->open_ns - 1);
  }
  backfill(sym, from, floorMinute(now), BackfillKind::Initial, nullptr);
}

void ChartHub::providerConnection(bool connected, std::string_view reason) {
  provider_connected_ = connected;
  provider_reason_ = std::string(reason);
  int64_t now = host_.nowNs();
  for (auto& [name, state] : symbols_) {
    SymbolState& sym = *state;
    if (connected) {
      sym.stream_since = now;
    } else {
      // Whatever the feed missed from here on makes the open minute partial.
      sym.live_complete = false;
      sym.stream_since = kForever;
    }
    sym.health_dirty = true;
    if (!sym.queued && sym.watched()) {
      sym.queued = true;
      dirty_symbols_.push_back(&sym);
    }
  }
}

void ChartHub::onTrade(const TradeEvent& trade) {
  ++stats_.trades;
  SymbolState* found = find(trade.symbol.view());
  SymbolState& sym = found ? *found : ensure(trade.symbol.view());
  if (!found) {
    // A feed we did not ask for (another consumer's subscription): chart it
    // from now on, with history before.
    track(trade.symbol.view());
  }
  sym.trade_based = true;
  if (sym.live_open && trade.ts_ns >= sym.live_start && trade.ts_ns < sym.live_start + kNsPerMinute) {
    // The hot path: the trade updates the open minute, which is almost
    // always the newest candle.
    const Candle* open = sym.minutes.empty() || sym.minutes.back().start_ns != sym.live_start
                             ? sym.minutes.find(sym.live_start)
                             : &sym.minutes.back();
    if (open) {
      Candle candle = *open;
      candle.high = std::max(candle.high, trade.price);
      candle.low = std::min(candle.low, trade.price);
      candle.close = trade.price;
      candle.volume += trade.size;
      candle.trades += 1;
      if (open == &sym.minutes.back()) {
        sym.minutes.replaceBack(candle);
      } else {
        sym.minutes.upsert(candle);
      }
      sym.last_update_ns = host_.nowNs();
      propagate(sym, candle);
      return;
    }
  }
  if (trade.ts_ns < sym.live_start + kNsPerMinute && sym.live_start != kNever) {
    ++stats_.late_trades;
    return;
  }
  std::optional<Period> minute = periods_.minute(trade.ts_ns);
  if (!minute) {
    ++stats_.outside_session;
    return;
  }
  Candle first;
  first.start_ns = minute->start_ns;
  first.open = first.high = first.low = first.close = trade.price;
  first.volume = trade.size;
  first.trades = 1;
  first.flags = kCandleLive;
  openLiveMinute(sym, *minute, first, sym.stream_since <= minute->start_ns);
  sym.last_update_ns = host_.nowNs();
}

void ChartHub::onBar(const BarEvent& bar) {
  if (bar.duration_ns != kNsPerMinute) return;  // the hub derives every other size itself
  SymbolState* found = find(bar.symbol.view());
  SymbolState& sym = found ? *found : ensure(bar.symbol.view());
  if (!found) track(bar.symbol.view());
  Candle candle;
  candle.start_ns = bar.start_ns;
  candle.open = bar.open;
  candle.high = bar.high;
  candle.low = bar.low;
  candle.close = bar.close;
  candle.volume = bar.volume;
  candle.trades = static_cast<uint32_t>(bar.trade_count);
  bool history = bar.flags & TH_BAR_HISTORY;
  candle.flags = static_cast<uint8_t>((history ? kCandleHistory : kCandleLive) |
                                      ((bar.flags & TH_BAR_FINAL) ? kCandleFinal : 0));
  if (history || sym.trade_based || (sym.live_start != kNever && bar.start_ns < sym.live_start)) {
    // The series builds its own minutes from trades, or the bar is late:
    // the aggregate is a candidate like any history bar.
    if (!history) ++stats_.live_bars;
    mergeMinute(sym, candle);
    return;
  }
  ++stats_.live_bars;
  std::optional<Period> minute = periods_.minute(bar.start_ns);
  if (!minute || minute->start_ns != bar.start_ns) {
    ++stats_.outside_session;
    return;
  }
  sym.last_update_ns = host_.nowNs();
  if (bar.start_ns == sym.live_start && sym.live_open) {
    // A provider update of the open minute replaces it whole.
    sym.minutes.upsert(candle);
    propagate(sym, candle);
    if (candle.final()) closeLiveMinute(sym);
    return;
  }
  // An aggregate covers its whole minute however late we joined: it is
  // complete when the provider says it is final.
  openLiveMinute(sym, *minute, candle, true);
  if (candle.final()) closeLiveMinute(sym);
}

void ChartHub::openLiveMinute(SymbolState& sym, const Period& minute, const Candle& first, bool complete) {
  if (sym.live_open) closeLiveMinute(sym);
  int64_t previous = sym.live_start;
  sym.live_start = minute.start_ns;
  sym.live_open = true;
  sym.live_complete = complete;
  sym.frontier = std::max(sym.frontier, minute.start_ns);
  if (previous != kNever) detectGap(sym, previous + kNsPerMinute, minute.start_ns);
  const Candle* existing = sym.minutes.find(minute.start_ns);
  if (existing && existing->final()) {
    // History already holds this minute whole (the feed resumed inside it);
    // the live feed cannot improve on it.
    sym.live_open = false;
    return;
  }
  Candle candle = first;
  candle.flags = static_cast<uint8_t>(candle.flags & ~kCandleFinal);
  if (sym.minutes.upsert(candle) == CandleSeries::Upsert::TooOld) {
    sym.live_open = false;
    return;
  }
  propagate(sym, candle);
}

void ChartHub::closeLiveMinute(SymbolState& sym) {
  if (!sym.live_open) return;
  sym.live_open = false;
  sym.frontier = std::max(sym.frontier, sym.live_start + kNsPerMinute);
  const Candle* current = sym.minutes.find(sym.live_start);
  if (!current) return;
  Candle candle = *current;
  bool whole = sym.live_complete || candle.final();
  if (whole) {
    candle.flags |= kCandleFinal;
    sym.minutes.upsert(candle);
  } else {
    // The feed saw only part of this minute: ask history for all of it.
    ++stats_.repairs;
    backfill(sym, candle.start_ns, candle.start_ns + kNsPerMinute, BackfillKind::Repair, nullptr);
  }
  propagate(sym, candle);
}

void ChartHub::tick() {
  int64_t now = host_.nowNs();
  int64_t over = floorMinute(now - options_.final_grace_ns);
  for (auto& [name, state] : symbols_) {
    SymbolState& sym = *state;
    if (sym.live_open && sym.live_start + kNsPerMinute <= over) closeLiveMinute(sym);
    if (over > sym.frontier) {
      int64_t before = sym.frontier;
      sym.frontier = over;
      // Derived candles whose period just ended become final.
      for (auto timeframe : kAllTimeframes) {
        auto& derived = sym.derived[static_cast<size_t>(timeframe)];
        if (!derived || derived->bars.empty()) continue;
        const Period& period = derived->period;
        if (period.end_ns > before && period.end_ns <= over) recompute(sym, timeframe, period);
      }
    }
    for (auto& gap : sym.gaps) {
      if (!gap.in_flight && gap.retry_at_ns && now >= gap.retry_at_ns) {
        gap.retry_at_ns = 0;
        backfill(sym, gap.from_ns, gap.to_ns, BackfillKind::Gap, nullptr);
      }
    }
    SeriesState now_state = stateOf(sym, nullptr);
    if (now_state != sym.published_state) {
      sym.published_state = now_state;
      sym.health_dirty = true;
      if (!sym.queued && sym.watched()) {
        sym.queued = true;
        dirty_symbols_.push_back(&sym);
      }
    }
  }
}

bool ChartHub::periodOver(const SymbolState& sym, const Period& period) const { return period.end_ns <= sym.frontier; }

void ChartHub::propagate(SymbolState& sym, const Candle& minute) {
  markDirty(sym, Timeframe::M1, minute.start_ns);
  for (size_t i = 1; i < kTimeframeCount; ++i) {
    if (sym.derived[i]) updateDerived(sym, static_cast<Timeframe>(i), minute);
  }
}

void ChartHub::updateDerived(SymbolState& sym, Timeframe timeframe, const Candle& minute) {
  DerivedSeries& d = *sym.derived[static_cast<size_t>(timeframe)];
  std::optional<Period> period = periods_.period(minute.start_ns, timeframe);
  if (!period) return;
  if (d.bars.empty() || period->start_ns > d.bars.back().start_ns) {
    // A new period at the head. The one before may have ended with this.
    if (!d.bars.empty() && !d.bars.back().final()) recompute(sym, timeframe, d.period);
    d.period = *period;
    d.has_closed = false;
    d.newest_minute = minute.start_ns;
    Candle candle = minute;
    candle.start_ns = period->start_ns;
    bool over = periodOver(sym, *period) || (minute.final() && minute.start_ns + kNsPerMinute >= period->end_ns);
    if (!over) candle.flags = static_cast<uint8_t>(candle.flags & ~kCandleFinal);
    d.bars.append(candle);
    markDirty(sym, timeframe, candle.start_ns);
    return;
  }
  if (period->start_ns != d.bars.back().start_ns || minute.start_ns < d.newest_minute) {
    recompute(sym, timeframe, *period);
    return;
  }
  if (minute.start_ns > d.newest_minute) {
    const Candle* previous = sym.minutes.find(d.newest_minute);
    if (!previous) {
      recompute(sym, timeframe, *period);
      return;
    }
    if (d.has_closed) {
      combine(d.closed, *previous);
    } else {
      d.closed = *previous;
      d.has_closed = true;
    }
    d.newest_minute = minute.start_ns;
  }
  Candle candle = minute;
  if (d.has_closed) {
    candle = d.closed;
    combine(candle, minute);
  }
  candle.start_ns = period->start_ns;
  bool over = periodOver(sym, *period) || (minute.final() && minute.start_ns + kNsPerMinute >= period->end_ns);
  if (!over) candle.flags = static_cast<uint8_t>(candle.flags & ~kCandleFinal);
  d.bars.replaceBack(candle);
  markDirty(sym, timeframe, candle.start_ns);
}

void ChartHub::recompute(SymbolState& sym, Timeframe timeframe, const Period& period) {
  DerivedSeries& d = *sym.derived[static_cast<size_t>(timeframe)];
  if (sym.minutes.full() && sym.minutes.front().start_ns > period.start_ns) {
    // The minutes of this period are no longer all kept; its candle was
    // built while they were and stays as it is.
    return;
  }
  Candle fold{};
  Candle closed{};
  bool any = false, has_closed = false;
  int64_t newest = kNever;
  sym.minutes.forRange(period.start_ns, period.end_ns, [&](const Candle& minute) {
    if (any) {
      closed = fold;
      has_closed = true;
      combine(fold, minute);
    } else {
      fold = minute;
      any = true;
    }
    newest = minute.start_ns;
  });
  if (!any) return;
  fold.start_ns = period.start_ns;
  bool over = periodOver(sym, period) || (fold.final() && newest + kNsPerMinute >= period.end_ns);
  if (!over) fold.flags = static_cast<uint8_t>(fold.flags & ~kCandleFinal);
  bool is_head = d.bars.empty() || period.start_ns >= d.bars.back().start_ns;
  if (d.bars.upsert(fold) == CandleSeries::Upsert::TooOld) return;
  if (is_head) {
    d.period = period;
    d.closed = closed;
    d.has_closed = has_closed;
    d.newest_minute = newest;
  }
  markDirty(sym, timeframe, period.start_ns);
}

void ChartHub::markDirty(SymbolState& sym, Timeframe timeframe, int64_t start_ns) {
  size_t index = static_cast<size_t>(timeframe);
  if (!sym.watchers[index]) return;
  auto& dirty = sym.dirty[index];
  if (dirty.empty() || dirty.back() != start_ns) dirty.push_back(start_ns);
  if (!sym.queued) {
    sym.queued = true;
    dirty_symbols_.push_back(&sym);
  }
}

const CandleSeries& ChartHub::series(std::string_view symbol, Timeframe timeframe) {
  if (!knows(symbol)) {
    track(symbol);
    host_.wantLive(std::string(symbol));
  }
  SymbolState& sym = ensure(symbol);
  if (timeframe == Timeframe::M1) return sym.minutes;
  auto& derived = sym.derived[static_cast<size_t>(timeframe)];
  if (!derived) {
    // First asked for: fold the minutes we have, in order, through the same
    // path live updates take, so a series opened late equals one opened early.
    derived = std::make_unique<DerivedSeries>(options_.capacity);
    for (size_t i = 0; i < sym.minutes.size(); ++i) updateDerived(sym, timeframe, sym.minutes.at(i));
  }
  return derived->bars;
}

uint64_t ChartHub::sequence(std::string_view symbol, Timeframe timeframe) const {
  const SymbolState* sym = find(symbol);
  return sym ? sym->sequence[static_cast<size_t>(timeframe)] : 0;
}

}  // namespace th
