#include "market.h"

#include <algorithm>
#include <cmath>

#include "random.h"

namespace th::synthetic {
namespace {

constexpr double kTradingDaysPerYear = 252.0;
constexpr int64_t kMinPriceCents = 100;  // keeps a long run from decaying into sub-penny nonsense
// Recently generated tapes are kept for history and option chain requests;
// bounded by count and by trades (about 100 bytes each with their quotes).
constexpr size_t kTapeCacheSize = 16;
constexpr size_t kTapeCacheTrades = 1'000'000;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerUs = 1'000;

int64_t clampPrice(double cents) { return std::max(kMinPriceCents, roundToInt(cents)); }

// Round lots of 100 shares, at least one.
int64_t roundLots(double shares) { return std::max<int64_t>(1, roundToInt(shares / 100.0)) * 100; }

// Quoted spread in cents: wider for pricier names, a tick wider now and then
// and in the first minutes when the book is thin.
int64_t spreadTicks(Rng& rng, double price_cents, int minute) {
  int64_t ticks = price_cents < 5'000 ? 1 : price_cents < 20'000 ? 2 : 3;
  if (rng.chance(0.25)) ++ticks;
  if (minute < 5) ++ticks;
  return ticks;
}

int64_t tradeSize(Rng& rng, double mean_size) {
  if (mean_size < 100.0) {
    // Thin names trade odd lots: uniform on 1..2M-1 has mean M.
    int64_t span = std::max<int64_t>(1, roundToInt(2.0 * mean_size) - 1);
    return 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(span)));
  }
  if (rng.chance(0.1)) return 1 + static_cast<int64_t>(rng.below(99));
  double extra_lots = std::max(mean_size / 100.0 - 0.5, 0.05);
  return 100 * (1 + static_cast<int64_t>(std::floor(rng.exponential(extra_lots))));
}

}  // namespace

std::vector<double> intradayProfile(int minutes) {
  std::vector<double> weights(static_cast<size_t>(minutes));
  double sum = 0.0;
  for (int m = 0; m < minutes; ++m) {
    double x = (m + 0.5) / minutes;
    // A flat floor, an opening burst, a smaller closing ramp, and a gentle
    // parabola between them: the classic intraday "U".
    double w = 0.6 + 1.8 * portableExp(-x / 0.06) + 1.0 * portableExp(-(1.0 - x) / 0.08) +
               0.6 * (2.0 * x - 1.0) * (2.0 * x - 1.0);
    weights[static_cast<size_t>(m)] = w;
    sum += w;
  }
  for (double& w : weights) w *= minutes / sum;
  return weights;
}

MarketModel::MarketModel(const Config& config, const SessionSchedule& schedule)
    : config_(config), schedule_(schedule) {}

SymbolParams MarketModel::params(std::string_view symbol) const {
  // Derived values are drawn in a fixed order whether or not an override
  // replaces them, so overriding one never changes the others.
  Rng rng(deriveSeed(config_.seed, symbol, 0, Purpose::SymbolParams));
  double price = 20.0 * portableExp(rng.uniform() * portableLog(30.0));  // log-uniform 20..600
  double volatility = 0.15 + 0.45 * rng.uniform();
  double trade_size = 100.0 * (1.0 + 3.0 * rng.uniform());
  double volume = config_.trades_per_minute * trade_size;

  auto found = config_.symbols.find(symbol);
  if (found != config_.symbols.end()) {
    const SymbolOverride& o = found->second;
    if (o.price) price = *o.price;
    if (o.volatility) volatility = *o.volatility;
    if (o.volume) volume = *o.volume;
  }
  return {std::max<int64_t>(1, roundToInt(price * 100.0)), volatility, volume, volume / config_.trades_per_minute};
}

DayPrices MarketModel::dayPrices(std::string_view symbol, uint64_t session_index) const {
  SymbolParams p = params(symbol);
  double daily_vol = p.volatility / std::sqrt(kTradingDaysPerYear);

  std::lock_guard lock(mutex_);
  auto it = day_prices_.find(symbol);
  if (it == day_prices_.end()) it = day_prices_.emplace(std::string(symbol), std::vector<DayPrices>{}).first;
  std::vector<DayPrices>& chain = it->second;
  while (chain.size() <= session_index) {
    uint64_t index = chain.size();
    std::optional<Session> session = schedule_.session(index);
    int64_t previous = index == 0 ? p.price_cents : chain.back().close;
    int64_t day = session ? session->day : 0;
    Rng rng(deriveSeed(config_.seed, symbol, day, Purpose::DayPrices));
    // Overnight gap: usually a fraction of a day's move, sometimes (news,
    // earnings) several days' worth.
    double gap = 0.4 * daily_vol * rng.normal();
    if (rng.chance(0.06)) gap += 2.5 * daily_vol * rng.normal();
    // Open-to-close return, with an occasional volatile day; the -s^2/2 term
    // keeps the expected price flat.
    double sigma = daily_vol * (rng.chance(0.05) ? 2.0 : 1.0);
    double ret = sigma * rng.normal() - 0.5 * sigma * sigma;
    int64_t open = clampPrice(static_cast<double>(previous) * portableExp(gap));
    int64_t close = clampPrice(static_cast<double>(open) * portableExp(ret));
    chain.push_back({previous, open, close});
  }
  return chain[session_index];
}

std::shared_ptr<const SessionTape> MarketModel::tape(std::string_view symbol, const Session& session) const {
  {
    std::lock_guard lock(mutex_);
    for (const CachedTape& cached : tapes_) {
      if (cached.index == session.index && cached.symbol == symbol) return cached.tape;
    }
  }
  // Generated outside the lock: it is pure, so two threads racing for the
  // same tape both get identical copies and one of them is kept.
  std::shared_ptr<const SessionTape> made = generate(symbol, session);
  std::lock_guard lock(mutex_);
  tapes_.push_front({std::string(symbol), session.index, made});
  // Keep the newest tapes within both bounds, always the one just made.
  size_t keep = 1, trades = made->trades.size();
  while (keep < tapes_.size() && keep < kTapeCacheSize &&
         trades + tapes_[keep].tape->trades.size() <= kTapeCacheTrades) {
    trades += tapes_[keep].tape->trades.size();
    ++keep;
  }
  tapes_.erase(tapes_.begin() + static_cast<std::ptrdiff_t>(keep), tapes_.end());
  return made;
}

std::shared_ptr<const SessionTape> MarketModel::generate(std::string_view symbol, const Session& session) const {
  auto tape = std::make_shared<SessionTape>();
  tape->session = session;
  tape->prices = dayPrices(symbol, session.index);
  const SymbolParams p = params(symbol);
  const int n = session.minutes();
  const std::vector<double> profile = intradayProfile(n);
  Rng rng(deriveSeed(config_.seed, symbol, session.day, Purpose::Intraday));

  // Minute-end log prices: a Gaussian bridge from log(open) to log(close).
  // Minute variances follow the U profile and sum to the daily variance;
  // adding (v_m / V) * (target - drawn) to each step is the exact
  // conditional law of the steps given their sum.
  const double daily_var = p.volatility * p.volatility / kTradingDaysPerYear;
  std::vector<double> variance(static_cast<size_t>(n));
  std::vector<double> step(static_cast<size_t>(n));
  double drawn = 0.0;
  for (int m = 0; m < n; ++m) {
    variance[m] = daily_var * profile[m] / n;
    step[m] = std::sqrt(variance[m]) * rng.normal();
    drawn += step[m];
  }
  const double log_open = portableLog(static_cast<double>(tape->prices.open) / 100.0);
  const double log_close = portableLog(static_cast<double>(tape->prices.close) / 100.0);
  std::vector<double> level(static_cast<size_t>(n) + 1);
  level[0] = log_open;
  for (int m = 0; m < n; ++m) {
    level[m + 1] = level[m] + step[m] + variance[m] / daily_var * (log_close - log_open - drawn);
  }
  level[n] = log_close;

  const int64_t day_number = toYyyymmdd(session.day);
  const double daily_shares = p.volume * n;
  uint64_t trade_number = 0;
  std::vector<int64_t> offsets;

  for (int m = 0; m < n; ++m) {
    const int64_t t0 = session.open_ns + m * kNsPerMinute;
    const int64_t t1 = t0 + kNsPerMinute;
    const bool first = m == 0, last = m == n - 1;
    const size_t trades_before = tape->trades.size();

    // Regular trades at uniform times; the opening print owns the first
    // instant of the session and the closing print the last millisecond.
    int64_t count = rng.poisson(config_.trades_per_minute * profile[m]);
    const int64_t lo = first ? kNsPerMs : 0;
    const int64_t hi = last ? kNsPerMinute - 2 * kNsPerMs : kNsPerMinute;
    offsets.clear();
    for (int64_t i = 0; i < count; ++i)
      offsets.push_back(lo + static_cast<int64_t>(rng.below(static_cast<uint64_t>(hi - lo))));
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 1; i < offsets.size(); ++i) offsets[i] = std::max(offsets[i], offsets[i - 1] + 1);
    if (first) offsets.insert(offsets.begin(), 0);
    if (last) offsets.push_back(kNsPerMinute - kNsPerMs);

    // Quotes go strictly after the previous trade, so "the latest quote at
    // or before a trade" is always the one it executed against.
    int64_t previous_ts = t0 - 1;
    double prev_level = level[m];
    int64_t prev_time = t0;
    const double rate = variance[m] / static_cast<double>(kNsPerMinute);  // variance per ns
    for (size_t i = 0; i < offsets.size(); ++i) {
      const int64_t ts = t0 + offsets[i];
      const bool opening = first && i == 0;
      const bool closing = last && i + 1 == offsets.size();
      // The mid at the trade: the Brownian bridge from the previous point to
      // the minute's end level, sampled sequentially.
      const double span = static_cast<double>(t1 - prev_time);
      const double dt = static_cast<double>(ts - prev_time);
      const double mean = prev_level + dt / span * (level[m + 1] - prev_level);
      const double var = rate * dt * (span - dt) / span;
      const double mid_level = mean + std::sqrt(var > 0.0 ? var : 0.0) * rng.normal();
      prev_level = mid_level;
      prev_time = ts;

      const double mid_cents = portableExp(mid_level) * 100.0;
      const int64_t ticks = spreadTicks(rng, mid_cents, m);
      int64_t price = 0, bid = 0;
      if (opening || closing) {
        // Auction prints happen at exactly the day's open and close, and the
        // book straddles them.
        price = opening ? tape->prices.open : tape->prices.close;
        bid = price - ticks / 2;
      } else {
        bid = roundToInt(mid_cents - static_cast<double>(ticks) / 2.0);
      }
      bid = std::max<int64_t>(1, bid);
      const int64_t ask = bid + ticks;
      if (!opening && !closing) {
        // Buyers lift the offer and sellers hit the bid, equally often; with
        // a spread of two ticks or more a tenth of trades print inside it.
        const bool inside = ticks >= 2 && rng.chance(0.1);
        const bool buyer = rng.chance(0.5);
        if (inside) {
          price = bid + 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(ticks - 1)));
        } else {
          price = buyer ? ask : bid;
        }
      }
      int64_t size = 0;
      if (opening) {
        size = roundLots(daily_shares * 0.01 * (0.5 + rng.uniform()));
      } else if (closing) {
        size = roundLots(daily_shares * 0.04 * (0.5 + rng.uniform()));
      } else {
        size = tradeSize(rng, p.mean_trade_size);
      }

      // The quote the trade executed against, shortly before it, never
      // before the minute or the previous event.
      const int64_t lead = opening ? 0 : (1 + static_cast<int64_t>(rng.below(2000))) * kNsPerUs;
      const int64_t quote_ts = std::max(ts - lead, previous_ts + 1);
      const int64_t bid_size = 100 * (1 + static_cast<int64_t>(rng.below(15)));
      const int64_t ask_size = 100 * (1 + static_cast<int64_t>(rng.below(15)));
      tape->quotes.push_back({quote_ts, bid, ask, bid_size, ask_size});
      tape->events.push_back({quote_ts, EventKind::Quote, static_cast<uint32_t>(tape->quotes.size() - 1)});
      ++trade_number;
      tape->trades.push_back({ts, price, size, static_cast<uint64_t>(day_number) * 100'000'000ULL + trade_number});
      tape->events.push_back({ts, EventKind::Trade, static_cast<uint32_t>(tape->trades.size() - 1)});
      previous_ts = ts;
    }

    // The minute's bar is exactly the aggregate of its trades; no trades, no bar.
    if (tape->trades.size() > trades_before) {
      TapeBar bar{t0, 0, 0, 0, 0, 0, 0.0, 0};
      double notional = 0.0;
      for (size_t i = trades_before; i < tape->trades.size(); ++i) {
        const TapeTrade& t = tape->trades[i];
        if (i == trades_before) bar.open = bar.high = bar.low = t.price;
        bar.high = std::max(bar.high, t.price);
        bar.low = std::min(bar.low, t.price);
        bar.close = t.price;
        bar.volume += t.size;
        notional += static_cast<double>(t.price) * static_cast<double>(t.size);
        ++bar.trade_count;
      }
      bar.vwap = notional / static_cast<double>(bar.volume) / 100.0;
      tape->bars.push_back(bar);
      tape->events.push_back({t1, EventKind::Bar, static_cast<uint32_t>(tape->bars.size() - 1)});
    }
  }
  return tape;
}

int64_t MarketModel::priceAt(std::string_view symbol, int64_t ns) const {
  std::optional<Session> session = schedule_.firstClosingAfter(ns);
  if (!session) {
    std::optional<Session> last = schedule_.lastClosedBy(ns);
    return last ? dayPrices(symbol, last->index).close : params(symbol).price_cents;
  }
  if (ns < session->open_ns) return dayPrices(symbol, session->index).previous_close;
  std::shared_ptr<const SessionTape> t = tape(symbol, *session);
  auto after = std::upper_bound(t->trades.begin(), t->trades.end(), ns,
                                [](int64_t at, const TapeTrade& trade) { return at < trade.ts_ns; });
  // The opening print sits at the open, so a trade at or before ns exists.
  return after == t->trades.begin() ? t->prices.open : std::prev(after)->price;
}

int64_t MarketModel::referencePrice(std::string_view symbol, int64_t ns) const {
  std::optional<Session> session = schedule_.firstClosingAfter(ns);
  if (session) return dayPrices(symbol, session->index).previous_close;
  std::optional<Session> last = schedule_.lastClosedBy(ns);
  return last ? dayPrices(symbol, last->index).close : params(symbol).price_cents;
}

}  // namespace th::synthetic
