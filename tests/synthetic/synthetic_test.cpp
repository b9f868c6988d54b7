// Tests of plugins/synthetic through the real shared library and the C ABI:
// determinism, the tape's internal consistency, the intraday shape and the
// session calendar in UTC.
#include <atomic>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "synthetic/synthetic_support.h"

namespace {

using namespace th::test::synthetic;
using th::test::BarRecord;
using th::test::LoadedPlugin;
using th::test::RecordingHost;

// A host that serialises every callback, in arrival order, into one byte
// string: symbols, integers and the raw bytes of every double.
class SerialHost {
 public:
  SerialHost() {
    api_.struct_size = sizeof api_;
    api_.abi_major = TH_ABI_VERSION_MAJOR;
    api_.abi_minor = TH_ABI_VERSION_MINOR;
    api_.log = [](void*, int32_t, const char*, uint32_t) {};
    api_.now_ns = [](void* c) { return static_cast<SerialHost*>(c)->now_ns.load(); };
    api_.on_trade = [](void* c, const th_trade* t) {
      static_cast<SerialHost*>(c)->put('T', t->symbol, t->symbol_len, t->ts_ns, {t->price, t->size}, t->sequence);
    };
    api_.on_quote = [](void* c, const th_quote* q) {
      static_cast<SerialHost*>(c)->put('Q', q->symbol, q->symbol_len, q->ts_ns,
                                       {q->bid, q->ask, q->bid_size, q->ask_size}, 0);
    };
    api_.on_bar = [](void* c, const th_bar* b) {
      static_cast<SerialHost*>(c)->put(
          'B', b->symbol, b->symbol_len, b->start_ns, {b->open, b->high, b->low, b->close, b->volume, b->vwap},
          b->trade_count ^ (uint64_t{b->flags} << 48) ^ (static_cast<uint64_t>(b->duration_ns) << 8));
    };
    api_.on_order = [](void*, const th_order_state*) {};
    api_.on_fill = [](void*, const th_fill*) {};
    api_.on_connection = [](void* c, int32_t state, const char* r, uint32_t n) {
      auto* h = static_cast<SerialHost*>(c);
      h->put('C', r, n, state, {}, 0);
      if (state == TH_CONN_DISCONNECTED) h->ended.store(true);
    };
    api_.session_on = [](void*, int32_t date, th_session* out) {
      return th::toAbiSession(th::SessionCalendar::builtin().sessionOn(date), out);
    };
    api_.next_session = [](void*, int64_t ts_ns, th_session* out) {
      return th::toAbiSession(th::SessionCalendar::builtin().nextSession(ts_ns), out);
    };
    api_.previous_session = [](void*, int64_t ts_ns, th_session* out) {
      return th::toAbiSession(th::SessionCalendar::builtin().previousSession(ts_ns), out);
    };
  }
  const th_host_api* api() const { return &api_; }

  std::atomic<int64_t> now_ns{kFreeRunning};
  std::atomic<bool> ended{false};
  std::string bytes;
  size_t events = 0;

 private:
  void put(char kind, const char* symbol, uint32_t len, int64_t ts, std::initializer_list<double> values,
           uint64_t extra) {
    std::lock_guard lock(mutex_);
    bytes.push_back(kind);
    bytes.append(symbol, len);
    bytes.append(reinterpret_cast<const char*>(&ts), sizeof ts);
    for (double v : values) bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
    bytes.append(reinterpret_cast<const char*>(&extra), sizeof extra);
    ++events;
  }
  th_host_api api_{};
  std::mutex mutex_;
};

// Runs a config to its end on a SerialHost. With `step` > 0 the clock starts
// at `start` and moves forward in steps of `step` instead of running free.
std::string serialStream(const std::string& config, const std::vector<std::string>& symbols, int64_t start = 0,
                         int64_t step = 0) {
  RecordingHost loader;
  LoadedPlugin plugin(kPluginPath, loader);
  SerialHost host;
  if (step > 0) host.now_ns = start;
  th_plugin* p = nullptr;
  char err[512] = {0};
  const auto& d = plugin.descriptor();
  EXPECT_EQ(d.create(config.data(), static_cast<uint32_t>(config.size()), host.api(), &host, &p, err, sizeof err),
            TH_OK)
      << err;
  if (!p) return {};
  for (const std::string& s : symbols) {
    EXPECT_EQ(d.data->subscribe(p, s.data(), static_cast<uint32_t>(s.size()), kAllStreams, err, sizeof err), TH_OK);
  }
  EXPECT_EQ(d.data->connect(p, err, sizeof err), TH_OK) << err;
  for (int i = 0; i < 600'000 && !host.ended.load(); ++i) {
    if (step > 0) host.now_ns += step;
    std::this_thread::sleep_for(std::chrono::microseconds(step > 0 ? 300 : 1000));
  }
  EXPECT_TRUE(host.ended.load());
  EXPECT_EQ(d.data->disconnect(p, err, sizeof err), TH_OK) << err;
  d.destroy(p);
  EXPECT_GT(host.events, 1000u);
  return host.bytes;
}

// ------------------------------------------------------------ determinism --

TEST(SyntheticDeterminism, SameSeedGivesTheSameStreamByteForByte) {
  const std::string config = R"({"seed": 42, "sessions": 2, "symbols": {"SPY": {"price": 590}}})";
  std::string a = serialStream(config, {"SPY", "AAPL"});
  std::string b = serialStream(config, {"AAPL", "SPY"});  // subscription order must not matter
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0);
}

TEST(SyntheticDeterminism, DifferentSeedGivesADifferentStream) {
  std::string a = serialStream(R"({"seed": 42, "sessions": 1})", {"SPY"});
  std::string b = serialStream(R"({"seed": 43, "sessions": 1})", {"SPY"});
  EXPECT_NE(a, b);
}

TEST(SyntheticDeterminism, StreamDoesNotDependOnHowTheClockAdvances) {
  const std::string config = R"({"seed": 7, "sessions": 2, "start_date": "2026-11-19"})";
  std::string free_running = serialStream(config, {"MSFT", "QQQ"});
  // Nine-minute steps from well before the first open: every poll sees a
  // different slice of the tape, yet the concatenation must be identical.
  std::string stepped = serialStream(config, {"MSFT", "QQQ"}, utcNs(2026, 11, 19, 12, 0), 9 * kMinute + 17);
  ASSERT_EQ(free_running.size(), stepped.size());
  EXPECT_EQ(std::memcmp(free_running.data(), stepped.data(), stepped.size()), 0);
}

// ------------------------------------------------------------------ tape --

TEST(SyntheticTape, EachBarIsExactlyTheAggregateOfItsMinutesTrades) {
  Instance s(R"({"seed": 3, "sessions": 2})");
  ASSERT_EQ(s.subscribe("SPY"), TH_OK);
  ASSERT_EQ(s.subscribe("KO"), TH_OK);
  s.runToEnd();
  std::map<std::pair<std::string, int64_t>, BarRecord> expected;
  for (const auto& t : s.host.trades) {
    int64_t start = t.ts_ns - t.ts_ns % kMinute;
    auto [it, fresh] = expected.try_emplace(
        {t.symbol, start}, BarRecord{t.symbol, 0, start, kMinute, t.price, t.price, t.price, t.price, 0, 0, 0});
    BarRecord& b = it->second;
    b.high = std::max(b.high, t.price);
    b.low = std::min(b.low, t.price);
    b.close = t.price;
    b.volume += t.size;
    b.vwap += t.price * t.size;  // notional until divided below
    ++b.trade_count;
  }
  ASSERT_EQ(s.host.bars.size(), expected.size());
  for (const BarRecord& bar : s.host.bars) {
    auto it = expected.find({bar.symbol, bar.start_ns});
    ASSERT_NE(it, expected.end()) << bar.symbol << " bar at " << bar.start_ns << " has no trades";
    const BarRecord& e = it->second;
    EXPECT_EQ(bar.flags, uint32_t{TH_BAR_FINAL});
    EXPECT_EQ(bar.duration_ns, kMinute);
    EXPECT_EQ(bar.open, e.open);
    EXPECT_EQ(bar.high, e.high);
    EXPECT_EQ(bar.low, e.low);
    EXPECT_EQ(bar.close, e.close);
    EXPECT_EQ(bar.volume, e.volume);
    EXPECT_EQ(bar.trade_count, e.trade_count);
    EXPECT_NEAR(bar.vwap, e.vwap / e.volume, 1e-9 * bar.vwap);
  }
}

TEST(SyntheticTape, MinutesWithoutTradesHaveNoBar) {
  Instance s(R"({"seed": 5, "sessions": 1, "trades_per_minute": 0.4})");
  ASSERT_EQ(s.subscribe("ZZZ"), TH_OK);
  s.runToEnd();
  std::set<int64_t> minutes_with_trades;
  for (const auto& t : s.host.trades) minutes_with_trades.insert(t.ts_ns - t.ts_ns % kMinute);
  EXPECT_LT(minutes_with_trades.size(), 390u);  // sparse enough that empty minutes exist
  ASSERT_EQ(s.host.bars.size(), minutes_with_trades.size());
  for (const auto& b : s.host.bars) EXPECT_TRUE(minutes_with_trades.count(b.start_ns));
}

TEST(SyntheticTape, QuotesAreUncrossedAndTradesPrintWithinThem) {
  Instance s(R"({"seed": 11, "sessions": 1})");
  ASSERT_EQ(s.subscribe("NVDA"), TH_OK);
  s.runToEnd();
  ASSERT_FALSE(s.host.quotes.empty());
  for (const auto& q : s.host.quotes) {
    EXPECT_GT(q.bid, 0.0);
    EXPECT_LT(q.bid, q.ask);
    EXPECT_GT(q.bid_size, 0.0);
    EXPECT_GT(q.ask_size, 0.0);
    EXPECT_NEAR(q.bid * 100, std::round(q.bid * 100), 1e-6);  // whole cents
  }
  // Every trade prints at or inside the latest quote before it.
  size_t qi = 0;
  int64_t last_ts = 0;
  for (const auto& t : s.host.trades) {
    EXPECT_GE(t.ts_ns, last_ts);
    last_ts = t.ts_ns;
    while (qi + 1 < s.host.quotes.size() && s.host.quotes[qi + 1].ts_ns <= t.ts_ns) ++qi;
    ASSERT_LE(s.host.quotes[qi].ts_ns, t.ts_ns);
    EXPECT_GE(t.price, s.host.quotes[qi].bid - 1e-9);
    EXPECT_LE(t.price, s.host.quotes[qi].ask + 1e-9);
    EXPECT_GT(t.size, 0.0);
  }
}

TEST(SyntheticTape, VolumeAndRangeAreUShapedOverTheDay) {
  Instance s(R"({"seed": 9, "sessions": 5})");
  ASSERT_EQ(s.subscribe("IBM"), TH_OK);
  s.runToEnd();
  auto sessions = bySession(s.host.bars);
  ASSERT_EQ(sessions.size(), 5u);
  double open_volume = 0, mid_volume = 0, close_volume = 0, open_range = 0, mid_range = 0;
  int open_n = 0, mid_n = 0, close_n = 0;
  for (const auto& bars : sessions) {
    int64_t open = bars.front().start_ns;
    for (const auto& b : bars) {
      int64_t minute = (b.start_ns - open) / kMinute;
      double range = (b.high - b.low) / b.close;
      // The opening and closing auction prints would make both ends heavy
      // on their own; leaving their minutes out tests continuous trading.
      if (minute >= 1 && minute < 30) {
        open_volume += b.volume, open_range += range, ++open_n;
      } else if (minute >= 360 && minute < 389) {
        close_volume += b.volume, ++close_n;
      } else if (minute >= 120 && minute < 270) {
        mid_volume += b.volume, mid_range += range, ++mid_n;
      }
    }
  }
  ASSERT_GT(open_n * mid_n * close_n, 0);
  EXPECT_GT(open_volume / open_n, 1.5 * mid_volume / mid_n);
  EXPECT_GT(close_volume / close_n, 1.5 * mid_volume / mid_n);
  EXPECT_GT(open_range / open_n, 1.2 * mid_range / mid_n);
}

TEST(SyntheticTape, SessionsOpenWithAGapFromThePreviousClose) {
  Instance s(R"({"seed": 21, "sessions": 8})");
  ASSERT_EQ(s.subscribe("XOM"), TH_OK);
  ASSERT_EQ(s.subscribe("T"), TH_OK);
  s.runToEnd();
  int gaps = 0, pairs = 0;
  for (const std::string symbol : {"XOM", "T"}) {
    auto sessions = bySession(barsOf(s.host.bars, symbol));
    ASSERT_EQ(sessions.size(), 8u);
    for (size_t i = 1; i < sessions.size(); ++i) {
      ++pairs;
      if (sessions[i].front().open != sessions[i - 1].back().close) ++gaps;
    }
  }
  EXPECT_GE(gaps, pairs - 2) << gaps << " gaps in " << pairs << " overnight transitions";
}

// -------------------------------------------------------------- calendar --

std::vector<std::vector<BarRecord>> historySessions(const std::string& config, int64_t from, int64_t to) {
  Instance s(config);
  std::vector<BarRecord> bars;
  EXPECT_EQ(s.history("SPY", from, to, bars), TH_OK) << s.err;
  return bySession(bars);
}

TEST(SyntheticCalendar, SkipsWeekendsAndHolidaysAndClosesEarly) {
  auto sessions =
      historySessions(R"({"start_date": "2026-11-20", "sessions": 6})", utcNs(2026, 11, 1), utcNs(2026, 12, 31));
  ASSERT_EQ(sessions.size(), 6u);
  // Fri 20th, Mon 23rd .. Wed 25th, (Thanksgiving 26th closed), Fri 27th (13:00 close), Mon 30th.
  const int days[] = {20, 23, 24, 25, 27, 30};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(sessions[i].front().start_ns, utcNs(2026, 11, days[i], 14, 30)) << "session " << i;
    int close_hour = days[i] == 27 ? 18 : 21;  // 13:00 / 16:00 EST
    EXPECT_EQ(sessions[i].back().start_ns + kMinute, utcNs(2026, 11, days[i], close_hour, 0)) << "session " << i;
  }
  // Christmas Eve closes at 13:00, Christmas Day is closed.
  auto december =
      historySessions(R"({"start_date": "2026-12-23", "sessions": 3})", utcNs(2026, 12, 1), utcNs(2027, 1, 31));
  ASSERT_EQ(december.size(), 3u);
  EXPECT_EQ(december[1].back().start_ns + kMinute, utcNs(2026, 12, 24, 18, 0));
  EXPECT_EQ(december[2].front().start_ns, utcNs(2026, 12, 28, 14, 30));
}

TEST(SyntheticCalendar, TheHostsCalendarOverrideReachesThePlugin) {
  auto calendar = th::SessionCalendar::parse(
      "schema: 2\nholidays: [{date: 2026-11-23, name: Storm}]\nopen_days: [{date: 2026-11-26, name: Traded}]\n",
      "override.yaml");
  ASSERT_TRUE(calendar) << calendar.error().message;
  Instance s(R"({"start_date": "2026-11-20", "sessions": 4})", *calendar);
  std::vector<BarRecord> bars;
  ASSERT_EQ(s.history("SPY", utcNs(2026, 11, 1), utcNs(2026, 12, 31), bars), TH_OK) << s.err;
  auto sessions = bySession(bars);
  ASSERT_EQ(sessions.size(), 4u);
  // Fri 20th, (Mon 23rd closed by the file), Tue 24th, Wed 25th, Thanksgiving opened by the file.
  EXPECT_EQ(sessions[1].front().start_ns, utcNs(2026, 11, 24, 14, 30));
  EXPECT_EQ(sessions[3].front().start_ns, utcNs(2026, 11, 26, 14, 30));
}

TEST(SyntheticCalendar, HistoryFollowsTheCalendarInEarlierYears) {
  // Hurricane Sandy closed 2012-10-29/30; the day after Thanksgiving closed at 13:00.
  auto sandy = historySessions(R"({"start_date": "2012-10-25", "sessions": 3})", utcNs(2012, 10, 1), utcNs(2012, 12, 1));
  ASSERT_EQ(sandy.size(), 3u);
  EXPECT_EQ(sandy[1].front().start_ns, utcNs(2012, 10, 26, 13, 30));
  EXPECT_EQ(sandy[2].front().start_ns, utcNs(2012, 10, 31, 13, 30));
  auto friday = historySessions(R"({"start_date": "2012-11-23", "sessions": 1})", utcNs(2012, 11, 1), utcNs(2012, 12, 1));
  ASSERT_EQ(friday.size(), 1u);
  EXPECT_EQ(friday[0].back().start_ns + kMinute, utcNs(2012, 11, 23, 18, 0));
}

TEST(SyntheticCalendar, AHostWithoutACalendarIsRefusedWithTheReason) {
  RecordingHost host;
  host.withoutCalendar();
  th::test::LoadedPlugin plugin(kPluginPath, host);
  try {
    plugin.create("{}", host);
    FAIL() << "created on a host without a calendar";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no exchange calendar (host API 1.4"), std::string::npos) << e.what();
  }
}

TEST(SyntheticCalendar, OpenIs1430UtcInWinterAnd1330UtcInSummer) {
  auto winter =
      historySessions(R"({"start_date": "2026-11-16", "sessions": 1})", utcNs(2026, 11, 16), utcNs(2026, 11, 17));
  ASSERT_EQ(winter.size(), 1u);
  EXPECT_EQ(winter[0].front().start_ns, utcNs(2026, 11, 16, 14, 30));
  EXPECT_EQ(winter[0].back().start_ns, utcNs(2026, 11, 16, 20, 59));
  auto summer =
      historySessions(R"({"start_date": "2026-07-15", "sessions": 1})", utcNs(2026, 7, 15), utcNs(2026, 7, 16));
  ASSERT_EQ(summer.size(), 1u);
  EXPECT_EQ(summer[0].front().start_ns, utcNs(2026, 7, 15, 13, 30));
  EXPECT_EQ(summer[0].back().start_ns, utcNs(2026, 7, 15, 19, 59));
}

TEST(SyntheticCalendar, FollowsTheDaylightSavingSwitches) {
  // US clocks went forward on Sunday 2026-03-08 and back on Sunday 2026-11-01.
  auto march = historySessions(R"({"start_date": "2026-03-06", "sessions": 2})", utcNs(2026, 3, 1), utcNs(2026, 3, 31));
  ASSERT_EQ(march.size(), 2u);
  EXPECT_EQ(march[0].front().start_ns, utcNs(2026, 3, 6, 14, 30));
  EXPECT_EQ(march[1].front().start_ns, utcNs(2026, 3, 9, 13, 30));
  auto november =
      historySessions(R"({"start_date": "2026-10-30", "sessions": 2})", utcNs(2026, 10, 1), utcNs(2026, 11, 30));
  ASSERT_EQ(november.size(), 2u);
  EXPECT_EQ(november[0].front().start_ns, utcNs(2026, 10, 30, 13, 30));
  EXPECT_EQ(november[1].front().start_ns, utcNs(2026, 11, 2, 14, 30));
}

}  // namespace
