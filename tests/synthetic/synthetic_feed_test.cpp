// Tests of plugins/synthetic's request side and live feed through the C ABI:
// history against the live bars and the host clock, streaming from the
// subscription time, disconnect, option chains, config errors and lookup.
#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <chrono>
#include <thread>

#include "synthetic/synthetic_support.h"

namespace {

using namespace th::test::synthetic;
using th::test::BarRecord;

// ---------------------------------------------------------------- history --

TEST(SyntheticHistory, EqualsTheLiveBarsForTheSameRange) {
  const std::string config = R"({"seed": 17, "sessions": 2, "start_date": "2026-12-01"})";
  Instance live(config);
  ASSERT_EQ(live.subscribe("AMD", TH_STREAM_BARS_1M), TH_OK);
  live.runToEnd();
  ASSERT_GT(live.host.bars.size(), 700u);

  Instance past(config);
  std::vector<BarRecord> bars;
  ASSERT_EQ(past.history("AMD", utcNs(2026, 12, 1), utcNs(2026, 12, 3), bars), TH_OK) << past.err;
  ASSERT_EQ(bars.size(), live.host.bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    const BarRecord& h = bars[i];
    const BarRecord& l = live.host.bars[i];
    EXPECT_EQ(h.flags, uint32_t{TH_BAR_FINAL | TH_BAR_HISTORY});
    EXPECT_EQ(
        std::tie(h.symbol, h.start_ns, h.duration_ns, h.open, h.high, h.low, h.close, h.volume, h.vwap, h.trade_count),
        std::tie(l.symbol, l.start_ns, l.duration_ns, l.open, l.high, l.low, l.close, l.volume, l.vwap, l.trade_count))
        << "bar " << i;
  }
}

TEST(SyntheticHistory, NeverReturnsBarsThatEndAfterTheHostClock) {
  Instance s(R"({"seed": 2, "start_date": "2026-11-16"})");
  const int64_t now = utcNs(2026, 11, 16, 16, 0);  // 11:00 EST
  s.host.now_ns = now;
  std::vector<BarRecord> bars;
  ASSERT_EQ(s.history("SPY", utcNs(2026, 11, 16), utcNs(2026, 11, 18), bars), TH_OK) << s.err;
  ASSERT_FALSE(bars.empty());
  for (const auto& b : bars) EXPECT_LE(b.start_ns + b.duration_ns, now);
  EXPECT_EQ(bars.back().start_ns, now - kMinute);  // the 10:59 bar is the last one complete

  // Later, the same range returns more, and what it returned before is unchanged.
  s.host.now_ns = utcNs(2026, 11, 17, 15, 0);
  std::vector<BarRecord> later;
  ASSERT_EQ(s.history("SPY", utcNs(2026, 11, 16), utcNs(2026, 11, 18), later), TH_OK) << s.err;
  ASSERT_GT(later.size(), bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(later[i].start_ns, bars[i].start_ns);
    EXPECT_EQ(later[i].close, bars[i].close);
  }

  // A range wholly in the future has nothing yet.
  std::vector<BarRecord> future;
  ASSERT_EQ(s.history("SPY", utcNs(2026, 11, 20), utcNs(2026, 11, 21), future), TH_OK);
  EXPECT_TRUE(future.empty());
}

TEST(SyntheticHistory, RefusesOtherBarSizesAndOptionSymbols) {
  Instance s("{}");
  std::vector<BarRecord> bars;
  EXPECT_EQ(s.history("SPY", utcNs(2026, 11, 16), utcNs(2026, 11, 17), bars, 5 * kMinute), TH_ERR_NOT_SUPPORTED);
  EXPECT_EQ(s.history("SPY261120C00590000", utcNs(2026, 11, 16), utcNs(2026, 11, 17), bars), TH_ERR_NOT_SUPPORTED);
  EXPECT_EQ(s.history("bad symbol", utcNs(2026, 11, 16), utcNs(2026, 11, 17), bars), TH_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(s.err).find("bad symbol"), std::string::npos) << s.err;
}

TEST(SyntheticHistory, ConcurrentRequestsWhileStreamingGiveTheSameAnswers) {
  const std::string config = R"({"seed": 31, "start_date": "2026-11-16"})";
  const int64_t from = utcNs(2026, 11, 16), to = utcNs(2026, 11, 19), as_of = utcNs(2026, 11, 18, 16, 0);
  std::vector<BarRecord> expected_bars;
  std::vector<OptionRecord> expected_chain;
  {
    Instance quiet(config);
    ASSERT_EQ(quiet.history("SPY", from, to, expected_bars), TH_OK) << quiet.err;
    ASSERT_EQ(quiet.chain("SPY", as_of, expected_chain), TH_OK) << quiet.err;
  }
  Instance s(config);
  ASSERT_EQ(s.subscribe("SPY"), TH_OK);
  ASSERT_EQ(s.subscribe("QQQ"), TH_OK);
  ASSERT_EQ(s.connect(), TH_OK) << s.err;  // free-running, unlimited sessions
  std::atomic<int> mismatches{0}, failures{0};
  auto work = [&] {
    for (int i = 0; i < 3; ++i) {
      std::vector<BarRecord> bars;
      std::vector<OptionRecord> chain;
      char err[256];
      th_history_request request{sizeof request, "SPY", 3, from, to, kMinute};
      auto bar_sink = [](void* ctx, const th_bar* b) {
        static_cast<std::vector<BarRecord>*>(ctx)->push_back({"SPY", b->flags, b->start_ns, b->duration_ns, b->open,
                                                              b->high, b->low, b->close, b->volume, b->vwap,
                                                              b->trade_count});
      };
      auto option_sink = [](void* ctx, const th_option_quote* q) {
        static_cast<std::vector<OptionRecord>*>(ctx)->push_back(
            {std::string(q->symbol, q->symbol_len), "SPY", q->right, q->expiry_yyyymmdd, q->strike, q->ts_ns, q->bid,
             q->ask, q->last, q->volume, q->open_interest, q->implied_vol, q->delta, q->gamma, q->theta, q->vega,
             q->underlying_price});
      };
      if (s.api().history(s.handle(), &request, bar_sink, &bars, err, sizeof err) != TH_OK) ++failures;
      if (s.api().option_chain(s.handle(), "SPY", 3, as_of, option_sink, &chain, err, sizeof err) != TH_OK) {
        ++failures;
      }
      bool same = bars.size() == expected_bars.size() && chain.size() == expected_chain.size();
      for (size_t j = 0; same && j < bars.size(); ++j) {
        same = bars[j].start_ns == expected_bars[j].start_ns && bars[j].close == expected_bars[j].close &&
               bars[j].volume == expected_bars[j].volume && bars[j].vwap == expected_bars[j].vwap;
      }
      for (size_t j = 0; same && j < chain.size(); ++j) {
        same = chain[j].symbol == expected_chain[j].symbol && chain[j].bid == expected_chain[j].bid &&
               chain[j].ask == expected_chain[j].ask && chain[j].open_interest == expected_chain[j].open_interest;
      }
      if (!same) ++mismatches;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  // The feed streamed meanwhile; on a loaded machine its first trade may
  // come only after the requests, so give it a moment before stopping it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.host.locked([&] { return s.host.trades.empty(); }) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(s.disconnect(), TH_OK) << s.err;
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_FALSE(s.host.locked([&] { return s.host.trades.empty(); }));
}

// ------------------------------------------------------------------- live --

TEST(SyntheticLive, StreamsFromTheSubscriptionTimeAndStopsOnDisconnect) {
  Instance s(R"({"seed": 4, "start_date": "2026-11-16"})");
  const int64_t t0 = utcNs(2026, 11, 16, 15, 0);  // 10:00 EST, mid-session
  s.host.now_ns = t0;
  ASSERT_EQ(s.subscribe("SPY"), TH_OK);
  ASSERT_EQ(s.connect(), TH_OK) << s.err;
  s.host.now_ns = t0 + 2 * kMinute;
  ASSERT_TRUE(s.host.waitFor([&] { return s.host.bars.size() >= 2; }));
  ASSERT_EQ(s.disconnect(), TH_OK) << s.err;

  auto [trades, bars] = s.host.locked([&] { return std::pair(s.host.trades, s.host.bars); });
  ASSERT_FALSE(trades.empty());
  EXPECT_GT(trades.front().ts_ns, t0);  // nothing from before the subscription
  EXPECT_LE(trades.back().ts_ns, t0 + 2 * kMinute);
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].start_ns, t0);
  EXPECT_EQ(bars[1].start_ns, t0 + kMinute);

  // After disconnect returns nothing more arrives, even with the clock free.
  size_t events = trades.size() + s.host.locked([&] { return s.host.quotes.size(); });
  s.host.now_ns = kFreeRunning;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events, s.host.locked([&] { return s.host.trades.size() + s.host.quotes.size(); }));
  auto connections = s.host.locked([&] { return s.host.connections; });
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].first, TH_CONN_CONNECTED);
  EXPECT_EQ(connections[1].first, TH_CONN_DISCONNECTED);
}

TEST(SyntheticLive, ReportsTheEndOfTheConfiguredSessions) {
  Instance s(R"({"sessions": 1})");
  ASSERT_EQ(s.subscribe("SPY", TH_STREAM_BARS_1M), TH_OK);
  s.runToEnd();
  auto end = s.host.connections.back();
  EXPECT_EQ(end.first, TH_CONN_DISCONNECTED);
  EXPECT_EQ(end.second, "synthetic: end of configured sessions");
  EXPECT_EQ(s.host.bars.size(), 390u);
}

TEST(SyntheticLive, RefusesBadSubscriptions) {
  Instance s("{}");
  EXPECT_EQ(s.subscribe("SPY261120C00590000"), TH_ERR_NOT_SUPPORTED);
  EXPECT_EQ(s.subscribe("SPY", 0), TH_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s.subscribe("SPY", 1u << 9), TH_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s.subscribe(""), TH_ERR_INVALID_ARGUMENT);
}

// ---------------------------------------------------------------- options --

class SyntheticOptions : public ::testing::Test {
 protected:
  // Friday 2026-11-20 10:00 EST: the third Friday of November.
  const int64_t as_of_ = utcNs(2026, 11, 20, 15, 0);
  const std::string config_ = R"({"seed": 8, "sessions": 10, "symbols": {"SPY": {"price": 590, "volatility": 0.18}}})";

  std::map<int32_t, std::vector<OptionRecord>> byExpiry(const std::vector<OptionRecord>& chain, int32_t right) {
    std::map<int32_t, std::vector<OptionRecord>> out;
    for (const auto& o : chain) {
      if (o.right == right) out[o.expiry].push_back(o);
    }
    for (auto& [expiry, list] : out) {
      std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.strike < b.strike; });
    }
    return out;
  }
};

TEST_F(SyntheticOptions, ListsCallsAndPutsWithA0DteExpiry) {
  Instance s(config_);
  std::vector<OptionRecord> chain;
  ASSERT_EQ(s.chain("SPY", as_of_, chain), TH_OK) << s.err;
  auto calls = byExpiry(chain, TH_OPTION_CALL), puts = byExpiry(chain, TH_OPTION_PUT);
  ASSERT_TRUE(calls.count(20261120)) << "no 0-DTE expiry";
  // Five daily expiries (Thanksgiving skipped) and the next monthlies.
  std::set<int32_t> expiries;
  for (const auto& [e, list] : calls) expiries.insert(e);
  EXPECT_EQ(expiries, (std::set<int32_t>{20261120, 20261123, 20261124, 20261125, 20261127, 20261218, 20270115}));
  for (const auto& [expiry, list] : calls) {
    ASSERT_EQ(list.size(), 21u);
    ASSERT_EQ(puts[expiry].size(), 21u);
  }
  for (const auto& o : chain) {
    EXPECT_EQ(o.underlying, "SPY");
    EXPECT_EQ(o.ts_ns, as_of_);
    EXPECT_GT(o.underlying_price, 0.0);
    EXPECT_GT(o.implied_vol, 0.0);
    EXPECT_GE(o.bid, 0.0);
    EXPECT_GT(o.ask, o.bid);
    EXPECT_GT(o.gamma, 0.0);
    EXPECT_GT(o.vega, 0.0);
    EXPECT_LT(o.theta, 0.0);
    EXPECT_GE(o.open_interest, 0.0);
    char expected[32];
    std::snprintf(expected, sizeof expected, "SPY%06d%c%08lld", o.expiry % 1000000,
                  o.right == TH_OPTION_CALL ? 'C' : 'P', std::llround(o.strike * 1000));
    EXPECT_EQ(o.symbol, expected);
  }
  // The 0-DTE contracts are gone once that session has closed.
  std::vector<OptionRecord> after_close;
  ASSERT_EQ(s.chain("SPY", utcNs(2026, 11, 20, 21, 30), after_close), TH_OK) << s.err;
  for (const auto& o : after_close) EXPECT_GT(o.expiry, 20261120);
}

TEST_F(SyntheticOptions, SpotIsTheLastTradeAtTheSnapshotTime) {
  Instance live(config_);
  ASSERT_EQ(live.subscribe("SPY", TH_STREAM_TRADES), TH_OK);
  live.runToEnd();
  double last = 0;
  for (const auto& t : live.host.trades) {
    if (t.ts_ns <= as_of_) last = t.price;
  }
  Instance s(config_);
  std::vector<OptionRecord> chain;
  ASSERT_EQ(s.chain("SPY", as_of_, chain), TH_OK) << s.err;
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(chain.front().underlying_price, last);
}

TEST_F(SyntheticOptions, PricesAreConsistentAcrossStrikes) {
  Instance s(config_);
  std::vector<OptionRecord> chain;
  ASSERT_EQ(s.chain("SPY", as_of_, chain), TH_OK) << s.err;
  auto calls = byExpiry(chain, TH_OPTION_CALL), puts = byExpiry(chain, TH_OPTION_PUT);
  const double spot = chain.front().underlying_price;
  int parity_checked = 0;
  for (const auto& [expiry, list] : calls) {
    // Deep in or out of the money a same-day option's delta is 1 or 0 to
    // double precision; every expiry a week or more out stays strictly inside.
    const bool week_or_more = expiry >= 20261127;
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LE(list[i].mid(), list[i - 1].mid()) << expiry << " strike " << list[i].strike;
      if (list[i].bid > 0.05) {
        EXPECT_LT(list[i].mid(), list[i - 1].mid());
      }
      EXPECT_LE(list[i].delta, list[i - 1].delta);
      if (week_or_more || (list[i - 1].delta < 1.0 && list[i].delta > 0.0)) {
        EXPECT_LT(list[i].delta, list[i - 1].delta) << expiry << " strike " << list[i].strike;
      }
    }
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_GE(list[i].delta, 0.0);
      EXPECT_LE(list[i].delta, 1.0);
      if (week_or_more) {
        EXPECT_GT(list[i].delta, 0.0);
        EXPECT_LT(list[i].delta, 1.0);
      }
      const OptionRecord& put = puts[expiry][i];
      ASSERT_EQ(put.strike, list[i].strike);
      EXPECT_NEAR(list[i].delta - put.delta, 1.0, 1e-12);
      if (list[i].bid > 0 && put.bid > 0) {
        // Put-call parity with r = 0: C - P = S - K.
        EXPECT_NEAR(list[i].mid() - put.mid(), spot - list[i].strike, 0.02) << expiry << " " << list[i].strike;
        ++parity_checked;
      }
    }
  }
  EXPECT_GT(parity_checked, 30);
}

TEST_F(SyntheticOptions, PutsBelowSpotCarryAVolatilitySmile) {
  Instance s(config_);
  std::vector<OptionRecord> chain;
  ASSERT_EQ(s.chain("SPY", as_of_, chain), TH_OK) << s.err;
  const double spot = chain.front().underlying_price;
  for (const auto& [expiry, puts] : byExpiry(chain, TH_OPTION_PUT)) {
    auto atm = std::min_element(puts.begin(), puts.end(), [&](const auto& a, const auto& b) {
      return std::abs(a.strike - spot) < std::abs(b.strike - spot);
    });
    ASSERT_GT(atm - puts.begin(), 5);
    EXPECT_GT((atm - 5)->implied_vol, atm->implied_vol) << expiry;
    EXPECT_GT(puts.front().implied_vol, (atm - 5)->implied_vol) << expiry;
    // The skew makes downside strikes dearer than the same distance up.
    EXPECT_GT((atm - 5)->implied_vol, (atm + 5)->implied_vol) << expiry;
  }
}

TEST_F(SyntheticOptions, OpenInterestPeaksNearTheMoney) {
  Instance s(config_);
  std::vector<OptionRecord> chain;
  ASSERT_EQ(s.chain("SPY", as_of_, chain), TH_OK) << s.err;
  const double spot = chain.front().underlying_price;
  for (const auto& [expiry, calls] : byExpiry(chain, TH_OPTION_CALL)) {
    auto most = std::max_element(calls.begin(), calls.end(),
                                 [](const auto& a, const auto& b) { return a.open_interest < b.open_interest; });
    EXPECT_LT(std::abs(most->strike - spot), 6 * 5.0) << expiry;  // within a few $5 strikes
    EXPECT_GT(most->open_interest, 1.5 * std::max(calls.front().open_interest, calls.back().open_interest)) << expiry;
  }
  // Activity is a property of (seed, contract, date): the same snapshot twice is identical.
  std::vector<OptionRecord> again;
  ASSERT_EQ(s.chain("SPY", as_of_, again), TH_OK);
  ASSERT_EQ(again.size(), chain.size());
  for (size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(again[i].open_interest, chain[i].open_interest);
    EXPECT_EQ(again[i].volume, chain[i].volume);
    EXPECT_EQ(again[i].last, chain[i].last);
  }
}

TEST_F(SyntheticOptions, RefusesTheFutureAndNonUnderlyings) {
  Instance s(config_);
  s.host.now_ns = as_of_ - kMinute;
  std::vector<OptionRecord> chain;
  EXPECT_EQ(s.chain("SPY", as_of_, chain), TH_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s.chain("SPY261120C00590000", as_of_ - kMinute, chain), TH_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s.chain("BRK.B", as_of_ - kMinute, chain), TH_ERR_NOT_SUPPORTED);
  EXPECT_TRUE(chain.empty());
  EXPECT_EQ(s.chain("SPY", 0, chain), TH_OK) << s.err;  // 0 = the host's now
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(chain.front().ts_ns, as_of_ - kMinute);
}

// ------------------------------------------------------- config and lookup --

std::string createError(const std::string& config) {
  try {
    Instance s(config);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "created";
}

TEST(SyntheticConfig, BadKeysAndValuesFailNamingTheKey) {
  EXPECT_NE(createError(R"({"seed": 1, "bogus": 2})").find("config key 'bogus'"), std::string::npos);
  EXPECT_NE(createError(R"({"sessions": -1})").find("config key 'sessions'"), std::string::npos);
  EXPECT_NE(createError(R"({"start_date": "2026-02-30"})").find("config key 'start_date'"), std::string::npos);
  EXPECT_NE(createError(R"({"symbols": {"SPY": {"prize": 5}}})").find("config key 'symbols.SPY.prize'"),
            std::string::npos);
  // Holidays come from the host's calendar, not from the plugin's config.
  EXPECT_NE(createError(R"({"holidays": ["2026-11-26"]})").find("config key 'holidays': unknown key"), std::string::npos);
  EXPECT_NE(createError(R"({"trades_per_minute": 0})").find("config key 'trades_per_minute'"), std::string::npos);
  EXPECT_NE(createError("[1, 2]").find("JSON object"), std::string::npos);
  EXPECT_NE(createError("{nope").find("not valid JSON"), std::string::npos);
  EXPECT_NE(createError(R"({"seed": 1})").find("created"), std::string::npos);
  EXPECT_NE(createError("").find("created"), std::string::npos);
}

TEST(SyntheticLookup, DescribesEquitiesAndOptions) {
  Instance s("{}");
  th_instrument out{};
  out.struct_size = sizeof out;
  ASSERT_EQ(s.api().lookup(s.handle(), "SPY", 3, &out, s.err, sizeof s.err), TH_OK) << s.err;
  EXPECT_STREQ(out.symbol, "SPY");
  EXPECT_STREQ(out.exchange, "SIM");
  EXPECT_EQ(out.asset_class, TH_ASSET_EQUITY);
  EXPECT_EQ(out.multiplier, 1.0);
  EXPECT_EQ(out.tick_size, 0.01);
  EXPECT_EQ(out.shortable, 1);
  const std::string occ = "SPY261120C00590000";
  ASSERT_EQ(s.api().lookup(s.handle(), occ.data(), static_cast<uint32_t>(occ.size()), &out, s.err, sizeof s.err),
            TH_OK);
  EXPECT_EQ(out.asset_class, TH_ASSET_OPTION);
  EXPECT_EQ(out.multiplier, 100.0);
  EXPECT_STREQ(out.name, "SPY 2026-11-20 590 call");
}

}  // namespace
