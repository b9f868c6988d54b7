#include "chart/chart_hub.h"

#include <bit>
#include <cassert>
#include <cstring>
#include <type_traits>

#include "chart/chart_hub_internal.h"
#include "th/plugin.h"

namespace th {

std::string_view seriesStateName(SeriesState state) {
  static constexpr std::string_view kNames[] = {"LIVE", "BACKFILLING", "DEGRADED", "STALE"};
  return kNames[static_cast<size_t>(state)];
}

namespace {

using SymbolKey = std::array<uint64_t, 4>;
static_assert(sizeof(Symbol) == sizeof(SymbolKey) && std::is_trivially_copyable_v<Symbol>);

// A Symbol zero-fills past its name, so equal names are equal bytes.
SymbolKey symbolKey(const Symbol& symbol) {
  SymbolKey key;
  std::memcpy(key.data(), &symbol, sizeof key);
  return key;
}

uint64_t word(const Symbol& symbol, size_t index) {
  uint64_t w;
  std::memcpy(&w, reinterpret_cast<const unsigned char*>(&symbol) + index * sizeof w, sizeof w);
  return w;
}

// Multiplicative hashing: the top bits of the product are well mixed, and
// the table takes its slot from them. Most names fit the first word; the
// rest are folded in rotated, so that equal words in different places
// do not cancel.
uint64_t symbolHash(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3) {
  return (w0 ^ std::rotl(w1, 17) ^ std::rotl(w2, 31) ^ std::rotl(w3, 47)) * 0x9E3779B97F4A7C15ULL;
}

uint64_t symbolHash(const SymbolKey& key) { return symbolHash(key[0], key[1], key[2], key[3]); }

}  // namespace

ChartHub::ChartHub(ChartOptions options, const SessionCalendar& calendar, ChartHost& host)
    : options_(std::move(options)), periods_(calendar, options_.outside), host_(host), index_(64), index_shift_(58) {}

ChartHub::~ChartHub() = default;

ChartHub::SymbolState* ChartHub::find(std::string_view symbol) const {
  if (symbol.size() > Symbol::kCapacity) {
    auto it = symbols_.find(std::string(symbol));
    return it == symbols_.end() ? nullptr : it->second.get();
  }
  return find(Symbol(symbol));
}

ChartHub::SymbolState* ChartHub::find(const Symbol& symbol) const {
  assert(symbolKey(symbol) == symbolKey(Symbol(symbol.view())));
  // Word by word, in registers: as an array, the compiler copies the key
  // through the stack.
  uint64_t w0 = word(symbol, 0), w1 = word(symbol, 1), w2 = word(symbol, 2), w3 = word(symbol, 3);
  uint64_t hash = symbolHash(w0, w1, w2, w3);
  const IndexSlot* slots = index_.data();
  size_t mask = (size_t{1} << (64 - index_shift_)) - 1;
  for (size_t i = hash >> index_shift_;; i = (i + 1) & mask) {
    const IndexSlot& slot = slots[i];
    if (!slot.state) return nullptr;
    if (slot.hash != hash) continue;
    const SymbolKey& key = slot.state->key;
    if (((key[0] ^ w0) | (key[1] ^ w1) | (key[2] ^ w2) | (key[3] ^ w3)) == 0) return slot.state;
  }
}

void ChartHub::indexInsert(SymbolState* sym) {
  if (sym->name.size() > Symbol::kCapacity) return;
  if ((index_used_ + 1) * 2 > index_.size()) {
    // Kept at most half full, so that a miss ends after a probe or two.
    std::vector<IndexSlot> old(index_.size() * 2);
    old.swap(index_);
    --index_shift_;
    index_used_ = 0;
    for (const IndexSlot& slot : old) {
      if (slot.state) indexInsert(slot.state);
    }
  }
  sym->key = symbolKey(Symbol(sym->name));
  uint64_t hash = symbolHash(sym->key);
  size_t mask = index_.size() - 1;
  size_t i = hash >> index_shift_;
  while (index_[i].state) i = (i + 1) & mask;
  index_[i] = {hash, sym};
  ++index_used_;
}

ChartHub::SymbolState& ChartHub::ensure(std::string_view symbol) {
  if (auto* sym = find(symbol)) return *sym;
  auto state = std::make_unique<SymbolState>(std::string(symbol), options_.capacity);
  auto* sym = state.get();
  symbols_.emplace(sym->name, std::move(state));
  indexInsert(sym);
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
  SymbolState* sym = find(trade.symbol);
  // The hot path: another trade in the live minute, which is the newest
  // candle. Updated in place: a copy assembled field by field and then
  // copied whole costs more than the update itself.
  if (sym && sym->live_open && trade.ts_ns >= sym->live_start && trade.ts_ns < sym->live_start + kNsPerMinute &&
      !sym->minutes.empty() && sym->minutes.back().start_ns == sym->live_start) {
    sym->trade_based = true;
    Candle& candle = sym->minutes.back();
    candle.high = std::max(candle.high, trade.price);
    candle.low = std::min(candle.low, trade.price);
    candle.close = trade.price;
    candle.volume += trade.size;
    candle.trades += 1;
    sym->last_update_ns = host_.nowNs();
    if (candle.start_ns != sym->quiet_minute) propagate(*sym, candle);
    return;
  }
  tradeOffTheHotPath(trade, sym);
}

// Kept out of onTrade(), so that the hot path's code stays small and saves
// only the registers it needs.
[[gnu::noinline]] void ChartHub::tradeOffTheHotPath(const TradeEvent& trade, SymbolState* found) {
  if (!found) {
    // A feed we did not ask for (another consumer's subscription): chart it
    // from now on, with history before.
    track(trade.symbol.view());
  }
  SymbolState& sym = found ? *found : ensure(trade.symbol.view());
  sym.trade_based = true;
  if (sym.live_open && trade.ts_ns >= sym.live_start && trade.ts_ns < sym.live_start + kNsPerMinute) {
    // The open minute, when history put a newer candle after it.
    bool newest = !sym.minutes.empty() && sym.minutes.back().start_ns == sym.live_start;
    std::optional<Candle> older = newest ? std::nullopt : sym.minutes.find(sym.live_start);
    if (newest || older) {
      Candle& candle = newest ? sym.minutes.back() : *older;
      candle.high = std::max(candle.high, trade.price);
      candle.low = std::min(candle.low, trade.price);
      candle.close = trade.price;
      candle.volume += trade.size;
      candle.trades += 1;
      if (!newest) sym.minutes.upsert(candle);
      sym.last_update_ns = host_.nowNs();
      if (!newest || candle.start_ns != sym.quiet_minute) propagate(sym, candle);
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

BarEvent toBarEvent(std::string_view symbol, const Candle& candle, int64_t duration_ns, uint32_t flags) {
  BarEvent bar;
  bar.symbol = Symbol(symbol);
  bar.flags = flags;
  bar.start_ns = candle.start_ns;
  bar.duration_ns = duration_ns;
  bar.open = candle.open;
  bar.high = candle.high;
  bar.low = candle.low;
  bar.close = candle.close;
  bar.volume = candle.volume;
  bar.trade_count = candle.trades;
  return bar;
}

Candle toCandle(const BarEvent& bar) {
  Candle candle;
  candle.start_ns = bar.start_ns;
  candle.open = bar.open;
  candle.high = bar.high;
  candle.low = bar.low;
  candle.close = bar.close;
  candle.volume = bar.volume;
  candle.trades = static_cast<uint32_t>(bar.trade_count);
  candle.flags = static_cast<uint8_t>(((bar.flags & TH_BAR_HISTORY) ? kCandleHistory : kCandleLive) |
                                      ((bar.flags & TH_BAR_FINAL) ? kCandleFinal : 0));
  return candle;
}

void ChartHub::onBar(const BarEvent& bar) {
  if (bar.duration_ns != kNsPerMinute) return;  // the hub derives every other size itself
  SymbolState* found = find(bar.symbol);
  if (!found) track(bar.symbol.view());
  SymbolState& sym = found ? *found : ensure(bar.symbol.view());
  Candle candle = toCandle(bar);
  bool history = candle.history();
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
  std::optional<Candle> existing = sym.minutes.find(minute.start_ns);
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
  // Almost always the newest candle, changed in place (see onTrade).
  bool newest = !sym.minutes.empty() && sym.minutes.back().start_ns == sym.live_start;
  std::optional<Candle> older = newest ? std::nullopt : sym.minutes.find(sym.live_start);
  if (!newest && !older) return;
  Candle& candle = newest ? sym.minutes.back() : *older;
  if (sym.live_complete || candle.final()) {
    candle.flags |= kCandleFinal;
    if (!newest) sym.minutes.upsert(candle);
    propagate(sym, candle);
    return;
  }
  // The feed saw only part of this minute: ask history for all of it.
  Candle partial = candle;
  ++stats_.repairs;
  backfill(sym, partial.start_ns, partial.start_ns + kNsPerMinute, BackfillKind::Repair, nullptr);
  propagate(sym, partial);
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
      // Derived candles whose period just ended become final. Those with
      // minutes still to take in become final as they take them in.
      for (auto timeframe : kAllTimeframes) {
        if (sym.pending_count > 0) break;
        auto& derived = sym.derived[static_cast<size_t>(timeframe)];
        if (!derived || derived->bars.empty()) continue;
        const Period& period = derived->period;
        if (period.end_ns > before && period.end_ns <= over) finishHead(sym, timeframe);
      }
    }
    for (auto& gap : sym.gaps) {
      if (!gap.in_flight && gap.retry_at_ns && now >= gap.retry_at_ns) {
        gap.retry_at_ns = 0;
        backfill(sym, gap.from_ns, gap.to_ns, gap.extends_history ? BackfillKind::Range : BackfillKind::Gap, nullptr);
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

// Every trade changes the live minute and with it the newest candle of
// every derived series. Rederived at once, that is seven candle writes per
// trade, into series that for a hundred symbols do not stay in L1: most of
// what a trade costs (see docs/PERFORMANCE.md). A series nobody watches is
// seen only when read, so for those symbols the minute is noted instead,
// and their derived series catch up when read (series()), when the log is
// full, or before an older minute changes: minute by minute, in the order
// the minutes changed, through the same steps, so the candles come out the
// same, bit for bit. Only the newest minute is noted, so none can leave the
// 1-minute series before it is taken in. A watched series numbers and
// sends each change, so a symbol with one stays eager.
void ChartHub::propagate(SymbolState& sym, const Candle& minute) {
  markDirty(sym, Timeframe::M1, minute.start_ns);
  bool newest = minute.start_ns == sym.minutes.back().start_ns;
  // Until something here changes, further trades in this minute would
  // find nothing to do either: onTrade() need not call again.
  int64_t quiet = newest && !sym.minute_watched ? minute.start_ns : kNever;
  if (!sym.derived_any) {
    sym.quiet_minute = quiet;
    return;
  }
  if (!sym.derived_eager && newest) {
    if (sym.pending_count > 0 && sym.pending_last == minute.start_ns) {
      sym.quiet_minute = quiet;
      return;
    }
    if (sym.pending_count < std::min(kMaxPendingMinutes, sym.minutes.capacity() - 1)) {
      sym.pending[sym.pending_count++] = minute.start_ns;
      sym.pending_last = minute.start_ns;
      sym.quiet_minute = quiet;
      return;
    }
  }
  catchUp(sym);
  deriveMinute(sym, minute);
}

void ChartHub::catchUp(SymbolState& sym) {
  if (sym.pending_count == 0) return;
  // [0]: the minute a derived series took in last, [1...]: those to take in
  // now. The noted minutes are the newest of the series, in order: one
  // search, then a walk.
  Candle minutes[kMaxPendingMinutes + 1];
  size_t count = 1;
  for (size_t at = sym.minutes.lowerBound(sym.pending[0]), i = 0, size = sym.minutes.size();
       at < size && i < sym.pending_count; ++at) {
    Candle minute = sym.minutes.at(at);
    while (i < sym.pending_count && sym.pending[i] < minute.start_ns) ++i;
    if (i < sym.pending_count && sym.pending[i] == minute.start_ns) {
      minutes[count++] = minute;
      ++i;
    }
  }
  sym.pending_count = 0;
  sym.pending_last = kNever;
  sym.quiet_minute = kNever;
  minutes[0].start_ns = kNever;
  // The derived series have not been touched for a while: ask for all of
  // them at once rather than wait for each in turn.
  for (size_t i = 1; i < kTimeframeCount; ++i) {
    if (const DerivedSeries* d = sym.derived[i].get()) {
      for (size_t offset = 0; offset < sizeof(DerivedSeries); offset += 64) {
        __builtin_prefetch(reinterpret_cast<const char*>(d) + offset, 1);
      }
    }
  }
  // A timeframe at a time: each depends only on the minutes and itself.
  for (size_t i = 1; i < kTimeframeCount; ++i) {
    DerivedSeries* d = sym.derived[i].get();
    if (!d) continue;
    auto timeframe = static_cast<Timeframe>(i);
    // The current candle of d->newest_minute, when known.
    const Candle* newest = nullptr;
    if (d->newest_minute != kNever) {
      if (d->newest_minute != minutes[0].start_ns) {
        if (auto before = sym.minutes.find(d->newest_minute)) minutes[0] = *before;
      }
      if (d->newest_minute == minutes[0].start_ns) newest = &minutes[0];
    }
    size_t j = 1;
    while (j < count) {
      if (newest && minutes[j].start_ns > d->newest_minute && d->bars.back().start_ns == d->period.start_ns) {
        // A run of later minutes of the newest period, as in updateDerived():
        // the fold takes in each one's predecessor, and the newest candle,
        // which it would write each time, is written once.
        size_t end = j;
        while (end < count && minutes[end].start_ns < d->period.end_ns) ++end;
        if (end > j) {
          Candle closed = d->closed;
          bool has_closed = d->has_closed;
          for (; j < end; ++j) {
            if (has_closed) {
              combine(closed, *newest);
            } else {
              closed = *newest;
              has_closed = true;
            }
            newest = &minutes[j];
          }
          d->closed = closed;
          d->has_closed = has_closed;
          d->newest_minute = newest->start_ns;
          writeHead(sym, timeframe, *d, *newest);
          continue;
        }
      }
      updateDerived(sym, timeframe, minutes[j], newest);
      newest = d->newest_minute == minutes[j].start_ns ? &minutes[j] : nullptr;
      ++j;
    }
  }
}

void ChartHub::deriveMinute(SymbolState& sym, const Candle& minute) {
  for (size_t i = 1; i < kTimeframeCount; ++i) {
    DerivedSeries* d = sym.derived[i].get();
    if (!d) continue;
    if (minute.start_ns == d->newest_minute) {
      // The hot path of a watched symbol, every trade but a minute's first:
      // the newest minute of the newest period changed. It lies in
      // d->period by construction.
      assert(periods_.period(minute.start_ns, static_cast<Timeframe>(i)) == std::optional<Period>(d->period));
      writeHead(sym, static_cast<Timeframe>(i), *d, minute);
    } else {
      updateDerived(sym, static_cast<Timeframe>(i), minute);
    }
  }
}

void ChartHub::watchersChanged(SymbolState& sym) {
  catchUp(sym);
  sym.quiet_minute = kNever;
  sym.minute_watched = sym.watchers[0] > 0;
  sym.derived_eager = false;
  for (size_t i = 1; i < kTimeframeCount; ++i) sym.derived_eager = sym.derived_eager || sym.watchers[i] > 0;
}

void ChartHub::updateDerived(SymbolState& sym, Timeframe timeframe, const Candle& minute, const Candle* previous) {
  DerivedSeries& d = *sym.derived[static_cast<size_t>(timeframe)];
  if (minute.start_ns == d.newest_minute) {
    writeHead(sym, timeframe, d, minute);  // as in propagate()
    return;
  }
  // Periods do not overlap, so a minute inside the newest period belongs
  // to it: the period map is asked only when a period begins.
  std::optional<Period> period;
  if (!d.bars.empty() && minute.start_ns >= d.period.start_ns && minute.start_ns < d.period.end_ns) {
    period = d.period;
  } else {
    period = periods_.period(minute.start_ns, timeframe);
  }
  if (!period) return;
  if (d.bars.empty() || period->start_ns > d.bars.back().start_ns) {
    // A new period at the head. The one before may have ended with this.
    if (!d.bars.empty() && !d.bars.back().final()) finishHead(sym, timeframe);
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
  // A later minute of the newest period: the one that was newest joins the fold.
  std::optional<Candle> found;
  if (!previous || previous->start_ns != d.newest_minute) {
    found = sym.minutes.find(d.newest_minute);
    if (!found) {
      recompute(sym, timeframe, *period);
      return;
    }
    previous = &*found;
  }
  if (d.has_closed) {
    combine(d.closed, *previous);
  } else {
    d.closed = *previous;
    d.has_closed = true;
  }
  d.newest_minute = minute.start_ns;
  writeHead(sym, timeframe, d, minute);
}

inline void ChartHub::writeHead(SymbolState& sym, Timeframe timeframe, DerivedSeries& d, const Candle& minute) {
  // Written in place, like the minute: see onTrade.
  Candle& candle = d.bars.back();
  if (d.has_closed) {
    combineInto(candle, d.closed, minute);
  } else {
    candle = minute;
  }
  candle.start_ns = d.period.start_ns;
  bool over = periodOver(sym, d.period) || (minute.final() && minute.start_ns + kNsPerMinute >= d.period.end_ns);
  if (!over) candle.flags = static_cast<uint8_t>(candle.flags & ~kCandleFinal);
  markDirty(sym, timeframe, d.period.start_ns);
}

void ChartHub::finishHead(SymbolState& sym, Timeframe timeframe) {
  DerivedSeries& d = *sym.derived[static_cast<size_t>(timeframe)];
  // The running fold is the fold of every minute of the period before the
  // newest, in order; with the newest it is what recompute() would fold
  // from the series, bit for bit, without reading the period's minutes.
  if (!sym.minutes.oldestAtOrBefore(d.period.start_ns) && sym.minutes.full()) return;  // as recompute()
  std::optional<Candle> newest = sym.minutes.find(d.newest_minute);
  if (!newest) {
    recompute(sym, timeframe, d.period);
    return;
  }
  writeHead(sym, timeframe, d, *newest);
}

void ChartHub::recompute(SymbolState& sym, Timeframe timeframe, const Period& period) {
  DerivedSeries& d = *sym.derived[static_cast<size_t>(timeframe)];
  if (sym.minutes.full() && !sym.minutes.oldestAtOrBefore(period.start_ns)) {
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

void ChartHub::noteDirty(SymbolState& sym, Timeframe timeframe, int64_t start_ns) {
  size_t index = static_cast<size_t>(timeframe);
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
  catchUp(sym);
  auto& derived = sym.derived[static_cast<size_t>(timeframe)];
  if (!derived) {
    // First asked for: fold the minutes we have, in order, through the same
    // path live updates take, so a series opened late equals one opened early.
    derived = std::make_unique<DerivedSeries>(options_.capacity);
    sym.derived_any = true;
    sym.quiet_minute = kNever;
    for (size_t i = 0; i < sym.minutes.size(); ++i) updateDerived(sym, timeframe, sym.minutes.at(i));
  }
  return derived->bars;
}

uint64_t ChartHub::sequence(std::string_view symbol, Timeframe timeframe) const {
  const SymbolState* sym = find(symbol);
  return sym ? sym->sequence[static_cast<size_t>(timeframe)] : 0;
}

}  // namespace th
