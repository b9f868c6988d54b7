// Shared pieces of the chart hub tests: a host with a hand-driven clock
// whose history answers come from the full trade tape (as a real provider's
// would), a seeded trade-tape generator, a reference 1-minute builder, and
// the invariant check every test ends with.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "chart/chart_hub.h"
#include "core/time.h"
#include "data/calendar.h"

namespace th::test {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kMinute = 60 * kSecond;

inline int64_t at(int32_t yyyymmdd, int hour, int minute, int second = 0) {
  return fromExchangeTime(yyyymmdd, hour, minute, second);
}

inline TradeEvent trade(std::string_view symbol, int64_t ts, double price, double size) {
  TradeEvent t;
  t.symbol = Symbol(symbol);
  t.ts_ns = ts;
  t.price = price;
  t.size = size;
  return t;
}

// The 1-minute candles of a tape, built the obvious way. Minutes are keyed
// by start; only trades before `until` count, and only minutes that ended
// by then when `ended_only` (what a provider's history serves).
inline std::map<int64_t, Candle> referenceMinutes(const std::vector<TradeEvent>& tape, std::string_view symbol,
                                                  const PeriodMap& periods, int64_t until = INT64_MAX,
                                                  bool ended_only = false, int64_t from = INT64_MIN) {
  std::map<int64_t, Candle> out;
  // The tape is in time order: start at `from` rather than at the beginning.
  auto first =
      std::lower_bound(tape.begin(), tape.end(), from, [](const TradeEvent& t, int64_t ts) { return t.ts_ns < ts; });
  for (auto it = first; it != tape.end() && it->ts_ns < until; ++it) {
    const TradeEvent& t = *it;
    if (t.symbol.view() != symbol) continue;
    auto minute = periods.minute(t.ts_ns);
    if (!minute) continue;
    if (ended_only && minute->start_ns + kMinute > until) continue;
    auto [slot, fresh] = out.try_emplace(minute->start_ns);
    Candle& c = slot->second;
    if (fresh) {
      c.start_ns = minute->start_ns;
      c.open = c.high = c.low = c.close = t.price;
      c.volume = t.size;
      c.trades = 1;
      c.flags = kCandleFinal;
    } else {
      c.high = std::max(c.high, t.price);
      c.low = std::min(c.low, t.price);
      c.close = t.price;
      c.volume += t.size;
      c.trades += 1;
    }
  }
  return out;
}

// A host whose clock the test moves. History requests are recorded; the
// test answers them when it likes (late, out of order, with an error).
class FakeChartHost : public ChartHost {
 public:
  struct Request {
    uint64_t id;
    std::string symbol;
    int64_t from_ns, to_ns, asked_at_ns;
  };

  int64_t now = 0;
  std::vector<Request> requests;  // every request ever made
  std::vector<Request> pending;   // not answered yet
  std::vector<std::string> wanted;

  int64_t nowNs() const override { return now; }
  void requestHistory(uint64_t id, const std::string& symbol, int64_t from_ns, int64_t to_ns) override {
    requests.push_back({id, symbol, from_ns, to_ns, now});
    pending.push_back(requests.back());
  }
  void wantLive(const std::string& symbol) override { wanted.push_back(symbol); }

  // What a provider holding `tape` would have answered at the time it was
  // asked: the minutes of the range that had ended by then.
  static std::vector<Candle> answerFrom(const std::vector<TradeEvent>& tape, const Request& request,
                                        const PeriodMap& periods) {
    std::vector<Candle> out;
    int64_t until = std::min(request.asked_at_ns, request.to_ns);
    for (auto& [start, candle] : referenceMinutes(tape, request.symbol, periods, until, true, request.from_ns)) {
      if (start >= request.from_ns && start < request.to_ns) out.push_back(candle);
    }
    return out;
  }
  // Answers every pending request from the tape, oldest first.
  void answerAll(ChartHub& hub, const std::vector<TradeEvent>& tape) {
    while (!pending.empty()) {
      Request request = pending.front();
      pending.erase(pending.begin());
      hub.historyArrived(request.id, answerFrom(tape, request, hub.periods()));
    }
  }
};

// A seeded random tape: a random walk in cents, sizes in tenths (so volume
// sums are not exact integers and the order of additions matters), quiet
// minutes, and a few trades outside regular hours.
inline std::vector<TradeEvent> randomTape(std::mt19937_64& rng, const SessionCalendar& calendar,
                                          const std::vector<int32_t>& dates, const std::vector<std::string>& symbols) {
  std::vector<TradeEvent> tape;
  std::uniform_real_distribution<double> unit(0, 1);
  std::map<std::string, double> price;
  for (const auto& s : symbols) price[s] = 50 + 500 * unit(rng);
  for (int32_t date : dates) {
    auto session = calendar.sessionOn(date);
    if (!session) continue;
    int64_t from = session->open_ns - 20 * kMinute, to = session->close_ns + 20 * kMinute;
    for (const auto& s : symbols) {
      double quiet = 0.05 + 0.3 * unit(rng);  // share of minutes with no trade at all
      for (int64_t minute = from; minute < to; minute += kMinute) {
        if (unit(rng) < quiet) continue;
        int n = 1 + static_cast<int>(unit(rng) * 12);
        std::vector<int64_t> offsets;
        for (int i = 0; i < n; ++i) offsets.push_back(static_cast<int64_t>(unit(rng) * (kMinute - 1)));
        std::sort(offsets.begin(), offsets.end());
        for (int64_t offset : offsets) {
          double& p = price[s];
          p = std::max(1.0, std::round((p + (unit(rng) - 0.5) * 0.4) * 100) / 100);
          double size = std::round((1 + unit(rng) * 300) * 10) / 10;
          tape.push_back(trade(s, minute + offset, p, size));
        }
      }
    }
  }
  std::stable_sort(tape.begin(), tape.end(),
                   [](const TradeEvent& a, const TradeEvent& b) { return a.ts_ns < b.ts_ns; });
  return tape;
}

// The invariant: every derived candle is exactly the fold of the 1-minute
// candles of its period, and every 1-minute candle belongs to a derived
// candle in every timeframe. Returns the number of candles checked.
inline size_t expectInvariant(ChartHub& hub, std::string_view symbol) {
  const CandleSeries& minutes = hub.series(symbol, Timeframe::M1);
  size_t checked = 0;
  for (auto timeframe : kAllTimeframes) {
    if (timeframe == Timeframe::M1) continue;
    const CandleSeries& bars = hub.series(symbol, timeframe);
    for (size_t i = 0; i < bars.size(); ++i) {
      const Candle bar = bars.at(i);
      auto period = hub.periods().period(bar.start_ns, timeframe);
      EXPECT_TRUE(period && period->start_ns == bar.start_ns)
          << symbol << " " << timeframeName(timeframe) << " candle at " << formatExchangeTime(bar.start_ns)
          << " is not aligned to a period";
      if (!period) continue;
      Candle fold{};
      bool any = false;
      minutes.forRange(period->start_ns, period->end_ns, [&](const Candle& m) {
        if (any) {
          combine(fold, m);
        } else {
          fold = m;
          any = true;
        }
      });
      if (!any) continue;  // minutes no longer retained
      fold.start_ns = period->start_ns;
      EXPECT_TRUE(bar.sameValues(fold)) << symbol << " " << timeframeName(timeframe) << " "
                                        << formatExchangeTime(bar.start_ns) << ": candle o=" << bar.open
                                        << " h=" << bar.high << " l=" << bar.low << " c=" << bar.close
                                        << " v=" << bar.volume << " but its minutes give o=" << fold.open
                                        << " h=" << fold.high << " l=" << fold.low << " c=" << fold.close
                                        << " v=" << fold.volume;
      ++checked;
    }
    for (size_t i = 0; i < minutes.size(); ++i) {
      auto period = hub.periods().period(minutes.at(i).start_ns, timeframe);
      if (!period) continue;
      EXPECT_TRUE(bars.find(period->start_ns).has_value())
          << symbol << " " << timeframeName(timeframe) << ": no candle for the minute "
          << formatExchangeTime(minutes.at(i).start_ns);
    }
  }
  return checked;
}

// The 1-minute series equals the reference built from the whole tape.
inline void expectMinutesEqual(ChartHub& hub, std::string_view symbol, const std::map<int64_t, Candle>& reference,
                               int64_t from_ns, int64_t to_ns) {
  const CandleSeries& minutes = hub.series(symbol, Timeframe::M1);
  size_t seen = 0;
  minutes.forRange(from_ns, to_ns, [&](const Candle& m) {
    ++seen;
    auto it = reference.find(m.start_ns);
    if (it == reference.end()) {
      ADD_FAILURE() << symbol << ": a candle at " << formatExchangeTime(m.start_ns) << " that the tape has not";
      return;
    }
    EXPECT_TRUE(m.sameValues(it->second))
        << symbol << " " << formatExchangeTime(m.start_ns) << ": o=" << m.open << " h=" << m.high << " l=" << m.low
        << " c=" << m.close << " v=" << m.volume << " n=" << m.trades << ", the tape gives o=" << it->second.open
        << " h=" << it->second.high << " l=" << it->second.low << " c=" << it->second.close
        << " v=" << it->second.volume << " n=" << it->second.trades;
  });
  size_t expected = 0;
  for (auto it = reference.lower_bound(from_ns); it != reference.end() && it->first < to_ns; ++it) ++expected;
  EXPECT_EQ(seen, expected) << symbol << ": minutes in the series vs in the tape";
}

}  // namespace th::test
