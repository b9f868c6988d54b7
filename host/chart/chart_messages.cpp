// What the hub tells WebSocket clients: snapshots and numbered updates.
#include <fmt/format.h>

#include "chart/chart_hub.h"
#include "chart/chart_hub_internal.h"
#include "chart/chart_json.h"
#include "core/json.h"

namespace th {

std::string candleJson(const Candle& c) {
  // {} prints the shortest text that reads back as the same double, so a
  // client sees exactly the values the invariant is stated over.
  return fmt::format(
      R"({{"time":{},"open":{},"high":{},"low":{},"close":{},"volume":{},"trades":{},"source":"{}","final":{}}})",
      c.start_ns / 1'000'000, c.open, c.high, c.low, c.close, c.volume, c.trades, candleSource(c), c.final());
}

std::string markerJson(const Marker& m) {
  return fmt::format(R"({{"id":{},"time":{},"kind":"{}","price":{},"text":{},"origin":{},"side":{}}})", m.id,
                     m.ts_ns / 1'000'000, markerKindName(m.kind), m.price, jsonString(m.text), jsonString(m.origin),
                     jsonString(m.side));
}

std::string healthJson(const SeriesHealth& h) {
  return fmt::format(
      R"({{"state":"{}","age_ms":{},"gaps_detected":{},"gaps_open":{},"backfills_in_flight":{},"source":{},"reason":{}}})",
      seriesStateName(h.state), h.age_ns < 0 ? -1 : h.age_ns / 1'000'000, h.gaps_detected, h.gaps_open,
      h.backfills_in_flight, jsonString(h.source), jsonString(h.reason));
}

std::string ChartHub::healthJson(const SymbolState& sym) const { return th::healthJson(health(sym.name)); }

std::shared_ptr<const std::string> ChartHub::watch(std::string_view symbol, Timeframe timeframe, size_t max_bars) {
  series(symbol, timeframe);  // tracks the symbol and derives the timeframe if need be
  SymbolState& sym = ensure(symbol);
  ++sym.watchers[static_cast<size_t>(timeframe)];
  watchersChanged(sym);
  return snapshot(symbol, timeframe, max_bars);
}

void ChartHub::unwatch(std::string_view symbol, Timeframe timeframe) {
  SymbolState* sym = find(symbol);
  if (!sym) return;
  size_t index = static_cast<size_t>(timeframe);
  if (sym->watchers[index] > 0 && --sym->watchers[index] == 0) sym->dirty[index].clear();
  watchersChanged(*sym);
}

std::shared_ptr<const std::string> ChartHub::snapshot(std::string_view symbol, Timeframe timeframe, size_t max_bars) {
  const CandleSeries& bars = series(symbol, timeframe);
  SymbolState& sym = ensure(symbol);
  size_t first = bars.size() > max_bars ? bars.size() - max_bars : 0;
  std::string text =
      fmt::format(R"({{"type":"snapshot","series":"{}:{}","symbol":{},"timeframe":"{}","seq":{},"bars":[)", sym.name,
                  timeframeName(timeframe), jsonString(sym.name), timeframeName(timeframe),
                  sym.sequence[static_cast<size_t>(timeframe)]);
  for (size_t i = first; i < bars.size(); ++i) {
    if (i > first) text += ',';
    text += candleJson(bars.at(i));
  }
  text += R"(],"health":)";
  text += healthJson(sym);
  text += R"(,"markers":[)";
  int64_t from = bars.empty() ? kNever : bars.at(first).start_ns;
  bool comma = false;
  for (const Marker& marker : sym.markers) {
    if (marker.ts_ns < from) continue;
    if (comma) text += ',';
    text += markerJson(marker);
    comma = true;
  }
  text += "]}";
  return std::make_shared<const std::string>(std::move(text));
}

std::vector<ChartHub::Update> ChartHub::takeUpdates() {
  std::vector<Update> out;
  for (SymbolState* sym : dirty_symbols_) {
    sym->queued = false;
    std::string health;
    std::string markers;
    for (const Marker& marker : sym->new_markers) {
      if (!markers.empty()) markers += ',';
      markers += markerJson(marker);
    }
    for (auto timeframe : kAllTimeframes) {
      size_t index = static_cast<size_t>(timeframe);
      auto& dirty = sym->dirty[index];
      if (!sym->watchers[index] || (dirty.empty() && !sym->health_dirty && markers.empty())) {
        dirty.clear();
        continue;
      }
      if (health.empty()) health = healthJson(*sym);
      const CandleSeries& bars = timeframe == Timeframe::M1 ? sym->minutes : sym->derived[index]->bars;
      uint64_t seq = ++sym->sequence[index];
      std::string text = fmt::format(R"({{"type":"update","series":"{}:{}","seq":{},"bars":[)", sym->name,
                                     timeframeName(timeframe), seq);
      bool comma = false;
      for (int64_t start : dirty) {
        std::optional<Candle> candle = bars.find(start);
        if (!candle) continue;  // pushed out of the series since
        if (comma) text += ',';
        text += candleJson(*candle);
        comma = true;
      }
      text += R"(],"health":)";
      text += health;
      text += R"(,"markers":[)";
      text += markers;
      text += "]}";
      dirty.clear();
      out.push_back({fmt::format("{}:{}", sym->name, timeframeName(timeframe)),
                     std::make_shared<const std::string>(std::move(text))});
    }
    sym->health_dirty = false;
    sym->new_markers.clear();
  }
  dirty_symbols_.clear();
  return out;
}

}  // namespace th
