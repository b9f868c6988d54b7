// History: merging it in, single-flight requests, gaps and health.
#include <fmt/format.h>

#include "chart/chart_hub.h"
#include "chart/chart_hub_internal.h"

namespace th {

bool ChartHub::mergeMinute(SymbolState& sym, Candle candidate) {
  std::optional<Period> minute = periods_.minute(candidate.start_ns);
  if (!minute || minute->start_ns != candidate.start_ns) {
    ++stats_.outside_session;
    return false;
  }
  std::optional<Candle> existing = sym.minutes.find(candidate.start_ns);
  if (existing) {
    // The rules that keep slow history from spoiling the live series: a
    // final candle is never replaced; a partial one only by a candidate at
    // least as complete; the minute the feed is still building only by a
    // final one (the provider says the minute is over).
    bool open = sym.live_open && candidate.start_ns == sym.live_start;
    bool replace = !existing->final() && candidate.volume >= existing->volume && (!open || candidate.final());
    if (!replace) {
      if (candidate.history()) ++stats_.history_kept_live;
      return false;
    }
    if (open) sym.live_open = false;
  }
  if (sym.minutes.upsert(candidate) == CandleSeries::Upsert::TooOld) {
    ++stats_.history_too_old;
    return false;
  }
  if (candidate.history()) ++stats_.history_merged;
  propagate(sym, candidate);
  return true;
}

void ChartHub::backfill(SymbolState& sym, int64_t from_ns, int64_t to_ns, BackfillKind kind,
                        std::function<void(Result<void>)> ready) {
  to_ns = std::min(to_ns, floorMinute(host_.nowNs()) + kNsPerMinute);
  if (from_ns >= to_ns) {
    if (ready) ready({});
    return;
  }
  for (auto& [id, request] : in_flight_) {
    if (request.sym == &sym && request.from_ns <= from_ns && request.to_ns >= to_ns) {
      ++stats_.backfill_joined;
      if (ready) request.waiters.push_back(std::move(ready));
      return;
    }
  }
  uint64_t id = next_request_id_++;
  Backfill request{&sym, from_ns, to_ns, kind, {}};
  if (ready) request.waiters.push_back(std::move(ready));
  in_flight_.emplace(id, std::move(request));
  ++sym.in_flight;
  ++stats_.backfill_requests;
  for (auto& gap : sym.gaps) {
    if (gap.from_ns >= from_ns && gap.to_ns <= to_ns) gap.in_flight = true;
  }
  sym.health_dirty = true;
  host_.requestHistory(id, sym.name, from_ns, to_ns);
}

void ChartHub::historyArrived(uint64_t id, Result<std::vector<Candle>> bars) {
  auto node = in_flight_.extract(id);
  if (node.empty()) return;  // not ours, or answered twice
  Backfill& request = node.mapped();
  SymbolState& sym = *request.sym;
  --sym.in_flight;
  sym.health_dirty = true;
  if (!sym.queued && sym.watched()) {
    sym.queued = true;
    dirty_symbols_.push_back(&sym);
  }
  Result<void> outcome;
  if (bars) {
    for (Candle candle : *bars) {
      if (candle.start_ns < request.from_ns || candle.start_ns >= request.to_ns) continue;
      ++stats_.history_bars;
      candle.flags = static_cast<uint8_t>(kCandleHistory | (candle.flags & kCandleFinal));
      mergeMinute(sym, candle);
    }
    sym.backfill_error.clear();
    if (request.kind == BackfillKind::Initial || request.kind == BackfillKind::Range) {
      sym.known_from = std::min(sym.known_from, request.from_ns);
    }
    // Gaps inside the range are filled: what history did not return did
    // not trade.
    std::erase_if(sym.gaps, [&](const OpenGap& gap) {
      bool filled = gap.from_ns >= request.from_ns && gap.to_ns <= request.to_ns;
      if (filled && !gap.extends_history) ++stats_.gaps_filled;
      return filled;
    });
  } else {
    ++stats_.backfill_errors;
    sym.backfill_error = bars.error().message;
    outcome = std::unexpected(bars.error());
    for (auto& gap : sym.gaps) {
      if (gap.from_ns >= request.from_ns && gap.to_ns <= request.to_ns) {
        gap.in_flight = false;
        gap.retry_at_ns = host_.nowNs() + options_.retry_after_ns;
      }
    }
    if (request.kind != BackfillKind::Gap) {
      // A partial minute, or the history before the series, is kept as a
      // gap so that it is asked for again rather than missing for good.
      bool extends = request.kind == BackfillKind::Initial || request.kind == BackfillKind::Range;
      sym.gaps.push_back({request.from_ns, request.to_ns, false, host_.nowNs() + options_.retry_after_ns, extends});
    }
  }
  for (auto& ready : request.waiters) ready(outcome);
}

void ChartHub::detectGap(SymbolState& sym, int64_t from_ns, int64_t to_ns) {
  if (from_ns >= to_ns) return;
  // Only minutes inside one regular session can be missing: nights,
  // weekends and holidays are not gaps.
  auto session = periods_.calendar().sessionOnDateOf(from_ns);
  if (!session || from_ns < session->open_ns || to_ns > session->close_ns) return;
  ++sym.gaps_detected;
  ++stats_.gaps_detected;
  sym.gaps.push_back({from_ns, to_ns, false, 0});
  backfill(sym, from_ns, to_ns, BackfillKind::Gap, nullptr);
}

void ChartHub::ensureHistory(std::string_view symbol, int64_t from_ns, std::function<void(Result<void>)> ready) {
  if (!knows(symbol)) {
    track(symbol);
    host_.wantLive(std::string(symbol));
  }
  SymbolState& sym = ensure(symbol);
  // No further back than the 1-minute series can hold.
  int64_t now = host_.nowNs();
  int64_t horizon = floorMinute(now) - static_cast<int64_t>(options_.capacity) * kNsPerMinute;
  if (sym.minutes.full()) horizon = std::max(horizon, sym.minutes.front().start_ns);
  from_ns = std::max(floorMinute(from_ns), horizon);
  // What is held or on its way: history is known from `known_from`, and a
  // request still in flight will extend that to its own start.
  int64_t covered_from = sym.known_from;
  Backfill* covering = nullptr;
  for (auto& [id, request] : in_flight_) {
    if (request.sym != &sym || (request.kind != BackfillKind::Initial && request.kind != BackfillKind::Range)) continue;
    if (request.from_ns <= from_ns && (!covering || request.from_ns > covering->from_ns)) covering = &request;
    covered_from = std::min(covered_from, request.from_ns);
  }
  if (from_ns >= covered_from) {
    if (covering) {
      ++stats_.backfill_joined;
      covering->waiters.push_back(std::move(ready));
    } else {
      ready({});
    }
    return;
  }
  int64_t to = covered_from == kForever ? floorMinute(now) : covered_from;
  backfill(sym, from_ns, to, BackfillKind::Range, std::move(ready));
}

SeriesState ChartHub::stateOf(const SymbolState& sym, std::string* reason) const {
  if (!provider_connected_) {
    if (reason)
      *reason = fmt::format("provider '{}' disconnected{}{}", options_.provider, provider_reason_.empty() ? "" : ": ",
                            provider_reason_);
    return SeriesState::Degraded;
  }
  size_t waiting_gaps = 0;
  for (const auto& gap : sym.gaps) waiting_gaps += gap.in_flight ? 0 : 1;
  if (waiting_gaps > 0 || !sym.backfill_error.empty()) {
    if (reason) {
      *reason = fmt::format("{} gap(s) not filled{}{}", waiting_gaps, sym.backfill_error.empty() ? "" : ": ",
                            sym.backfill_error);
    }
    return SeriesState::Degraded;
  }
  if (sym.in_flight > 0) return SeriesState::Backfilling;
  int64_t now = host_.nowNs();
  // A symbol that has not traded yet is given the same grace from the
  // moment its feed started.
  int64_t since = sym.last_update_ns ? sym.last_update_ns : sym.stream_since;
  if (periods_.inSession(now) && since != kForever && now - since > options_.stale_after_ns) {
    if (reason) {
      *reason = sym.last_update_ns ? fmt::format("no update for {} s", (now - sym.last_update_ns) / 1'000'000'000)
                                   : "no update yet this session";
    }
    return SeriesState::Stale;
  }
  return SeriesState::Live;
}

SeriesHealth ChartHub::health(std::string_view symbol) const {
  SeriesHealth out;
  out.source = options_.provider;
  const SymbolState* sym = find(symbol);
  if (!sym) {
    out.state = SeriesState::Stale;
    out.reason = "not charted";
    return out;
  }
  out.state = stateOf(*sym, &out.reason);
  out.last_update_ns = sym->last_update_ns;
  out.age_ns = sym->last_update_ns ? host_.nowNs() - sym->last_update_ns : -1;
  out.gaps_detected = sym->gaps_detected;
  out.gaps_open = sym->gaps.size();
  out.backfills_in_flight = sym->in_flight;
  return out;
}

std::string_view markerKindName(MarkerKind kind) {
  static constexpr std::string_view kNames[] = {"fill", "level", "signal", "text"};
  return kNames[static_cast<size_t>(kind)];
}

std::optional<MarkerKind> parseMarkerKind(std::string_view name) {
  for (auto kind : {MarkerKind::Fill, MarkerKind::Level, MarkerKind::Signal, MarkerKind::Text}) {
    if (markerKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

void ChartHub::addMarker(std::string_view symbol, Marker marker) {
  SymbolState& sym = ensure(symbol);
  marker.id = next_marker_id_++;
  // Kept in time order: markers usually arrive in order, so this is a push.
  auto at = std::upper_bound(sym.markers.begin(), sym.markers.end(), marker.ts_ns,
                             [](int64_t ts, const Marker& m) { return ts < m.ts_ns; });
  sym.markers.insert(at, marker);
  while (sym.markers.size() > options_.max_markers) sym.markers.pop_front();
  if (sym.watched()) {
    sym.new_markers.push_back(std::move(marker));
    if (!sym.queued) {
      sym.queued = true;
      dirty_symbols_.push_back(&sym);
    }
  }
}

std::vector<Marker> ChartHub::markers(std::string_view symbol, int64_t from_ns, int64_t to_ns) const {
  std::vector<Marker> out;
  const SymbolState* sym = find(symbol);
  if (!sym) return out;
  auto it = std::lower_bound(sym->markers.begin(), sym->markers.end(), from_ns,
                             [](const Marker& m, int64_t ts) { return m.ts_ns < ts; });
  for (; it != sym->markers.end() && it->ts_ns < to_ns; ++it) out.push_back(*it);
  return out;
}

}  // namespace th
