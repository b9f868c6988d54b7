// The simulated market itself: per-symbol parameters, the daily open/close
// chain, and the tape of one session (trades, quotes and 1-minute bars).
//
// Everything a session contains is a pure function of (seed, config, symbol,
// session date, previous close), so any session can be regenerated on its
// own, from any thread, and comes out identical every time. The daily
// open/close chain is drawn first and cheaply (an overnight gap and an
// open-to-close return per day); the intraday path is then a Brownian bridge
// from that open to that close. That is why history deep into a run does not
// need every intraday path before it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "calendar.h"
#include "config.h"

namespace th::synthetic {

struct SymbolParams {
  int64_t price_cents;     // reference price: the "previous close" of session 0
  double volatility;       // annualised
  double volume;           // mean shares per minute
  double mean_trade_size;  // shares
};

// Prices on the tape are integer cents; they become doubles only at the ABI.
struct DayPrices {
  int64_t previous_close;
  int64_t open;
  int64_t close;
};

struct TapeTrade {
  int64_t ts_ns;
  int64_t price;  // cents
  int64_t size;   // shares
  uint64_t sequence;
};

struct TapeQuote {
  int64_t ts_ns;
  int64_t bid, ask;  // cents
  int64_t bid_size, ask_size;
};

struct TapeBar {
  int64_t start_ns;
  int64_t open, high, low, close;  // cents
  int64_t volume;
  double vwap;  // dollars
  uint64_t trade_count;
};

enum class EventKind : uint8_t { Quote, Trade, Bar };

// One entry of the session's event order. A bar's time is the end of its
// minute: the moment it becomes final.
struct TapeEvent {
  int64_t ts_ns;
  EventKind kind;
  uint32_t index;  // into trades, quotes or bars
};

struct SessionTape {
  Session session;
  DayPrices prices;
  std::vector<TapeTrade> trades;
  std::vector<TapeQuote> quotes;
  std::vector<TapeBar> bars;
  std::vector<TapeEvent> events;  // non-decreasing ts_ns; ties keep generation order
};

// U-shaped intraday weight of minute `minute` of `minutes`, averaging 1 over
// the session: high at the open, higher than midday at the close.
std::vector<double> intradayProfile(int minutes);

class MarketModel {
 public:
  MarketModel(const Config& config, const SessionSchedule& schedule);

  SymbolParams params(std::string_view symbol) const;
  DayPrices dayPrices(std::string_view symbol, uint64_t session_index) const;
  std::shared_ptr<const SessionTape> tape(std::string_view symbol, const Session& session) const;
  // The last trade price (cents) at `ns`; outside a session, the previous
  // session's close (or the reference price before the first session).
  int64_t priceAt(std::string_view symbol, int64_t ns) const;
  // The previous close of the session in progress or next to open at `ns`:
  // the price open interest and daily activity are anchored to.
  int64_t referencePrice(std::string_view symbol, int64_t ns) const;

 private:
  std::shared_ptr<const SessionTape> generate(std::string_view symbol, const Session& session) const;

  const Config& config_;
  const SessionSchedule& schedule_;

  struct CachedTape {
    std::string symbol;
    uint64_t index;
    std::shared_ptr<const SessionTape> tape;
  };
  mutable std::mutex mutex_;  // guards the two caches below
  mutable std::map<std::string, std::vector<DayPrices>, std::less<>> day_prices_;
  mutable std::deque<CachedTape> tapes_;  // most recent first, bounded
};

}  // namespace th::synthetic
