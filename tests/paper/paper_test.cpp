// The paper broker's fill model, driven through the real plugin: prices
// (bid/ask, slippage, limits through, stops and gaps), quantities (partial
// fills from size and volume), timing (latency, DAY expiry) and costs
// (commissions, the option multiplier).
#include "paper/paper_fixture.h"

namespace th::test {
namespace {

class PaperFillTest : public PaperTest {};

TEST_F(PaperFillTest, MarketBuyFillsAtTheAskAndSellAtTheBid) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.95, 100.00, 500, 0);  // a price, but nothing offered yet
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 100)).status, TH_OK);
  EXPECT_EQ(statusesOf("buy"), (std::vector<int32_t>{TH_STATUS_ACCEPTED}));
  EXPECT_EQ(lastReport("buy").broker_order_id, "P-1");
  EXPECT_EQ(lastReport("buy").ts_ns, t);

  quote("AAPL", t + kSecond, 100.00, 100.05, 500, 500);
  auto buys = fillsFor("buy");
  ASSERT_EQ(buys.size(), 1u);
  EXPECT_DOUBLE_EQ(buys[0].price, 100.05);
  EXPECT_DOUBLE_EQ(buys[0].quantity, 100);
  EXPECT_EQ(buys[0].ts_ns, t + kSecond);
  EXPECT_EQ(buys[0].broker_order_id, "P-1");
  EXPECT_EQ(statusesOf("buy"), (std::vector<int32_t>{TH_STATUS_ACCEPTED, TH_STATUS_FILLED}));
  EXPECT_DOUBLE_EQ(lastReport("buy").average_fill_price, 100.05);

  ASSERT_EQ(submit(marketOrder("sell-1", TH_SIDE_SELL, 100)).status, TH_OK);
  quote("AAPL", t + 2 * kSecond, 100.10, 100.15, 500, 500);
  auto sells = fillsFor("sell-1");
  ASSERT_EQ(sells.size(), 1u);
  EXPECT_DOUBLE_EQ(sells[0].price, 100.10);
  EXPECT_NEAR(account().cash, 100000 - 10005 + 10010, 1e-6);
  EXPECT_TRUE(positions().empty());
}

// Buying power cannot be checked without a price: the order is refused, not
// let through to fill at whatever size it asks for.
TEST_F(PaperFillTest, MarketBuyBeforeAnyPriceIsRefused) {
  start();
  auto result = submit(marketOrder("blind", TH_SIDE_BUY, 1'000'000));
  EXPECT_EQ(result.status, TH_ERR_REJECTED);
  EXPECT_NE(result.error.find("no price for AAPL yet"), std::string::npos) << result.error;
  EXPECT_EQ(statusesOf("blind"), (std::vector<int32_t>{TH_STATUS_REJECTED}));
  quote("AAPL", kTuesday1000 + kSecond, 99.95, 100.00, 2'000'000, 2'000'000);
  EXPECT_TRUE(fillsFor("blind").empty());
  EXPECT_DOUBLE_EQ(account().cash, 100000);
}

TEST_F(PaperFillTest, SlippageMovesMarketFillsAgainstTheTrader) {
  start({{"slippage_ticks", 2}, {"tick_size", 0.05}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 10)).status, TH_OK);
  ASSERT_EQ(submit(marketOrder("sell", TH_SIDE_SELL, 10)).status, TH_OK);
  quote("AAPL", t + kSecond, 100.00, 100.20);
  ASSERT_EQ(fillsFor("buy").size(), 1u);
  ASSERT_EQ(fillsFor("sell").size(), 1u);
  EXPECT_NEAR(fillsFor("buy")[0].price, 100.30, 1e-9);
  EXPECT_NEAR(fillsFor("sell")[0].price, 99.90, 1e-9);
}

TEST_F(PaperFillTest, QuoteSizeLimitsFillsAndTheRestFillsOnLaterQuotes) {
  start({{"participation", 0.5}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 100)).status, TH_OK);

  quote("AAPL", t + 1 * kSecond, 100.00, 100.05, 1000, 100);  // half of 100 offered
  quote("AAPL", t + 2 * kSecond, 100.00, 100.10, 1000, 40);   // half of 40
  auto reports = reportsFor("buy");
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[1].status, TH_STATUS_PARTIALLY_FILLED);
  EXPECT_DOUBLE_EQ(reports[1].filled_quantity, 50);
  EXPECT_EQ(reports[2].status, TH_STATUS_PARTIALLY_FILLED);
  EXPECT_DOUBLE_EQ(reports[2].filled_quantity, 70);
  ASSERT_EQ(openOrders().size(), 1u);

  quote("AAPL", t + 3 * kSecond, 99.95, 100.00, 1000, 1000);
  auto fills = fillsFor("buy");
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_DOUBLE_EQ(fills[0].quantity, 50);
  EXPECT_DOUBLE_EQ(fills[1].quantity, 20);
  EXPECT_DOUBLE_EQ(fills[2].quantity, 30);
  EXPECT_NE(fills[0].fill_id, fills[1].fill_id);
  EXPECT_NE(fills[1].fill_id, fills[2].fill_id);
  OrderRecord last = lastReport("buy");
  EXPECT_EQ(last.status, TH_STATUS_FILLED);
  EXPECT_DOUBLE_EQ(last.filled_quantity, 100);
  EXPECT_NEAR(last.average_fill_price, (50 * 100.05 + 20 * 100.10 + 30 * 100.00) / 100, 1e-9);
  EXPECT_TRUE(openOrders().empty());
}

TEST_F(PaperFillTest, OrdersShareAQuotesSizeInSubmitOrder) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("first", TH_SIDE_BUY, 60)).status, TH_OK);
  ASSERT_EQ(submit(marketOrder("second", TH_SIDE_BUY, 60)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.95, 100.00, 1000, 100);
  ASSERT_EQ(fillsFor("first").size(), 1u);
  ASSERT_EQ(fillsFor("second").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("first")[0].quantity, 60);
  EXPECT_DOUBLE_EQ(fillsFor("second")[0].quantity, 40);
}

TEST_F(PaperFillTest, LatencyKeepsEarlierQuotesFromFilling) {
  start({{"latency_ms", 50}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 10)).status, TH_OK);
  quote("AAPL", t + 49 * kMs, 99.90, 100.01);
  EXPECT_TRUE(fillsFor("buy").empty()) << "a quote before submit + latency must not fill";
  quote("AAPL", t + 50 * kMs, 99.90, 100.02);
  ASSERT_EQ(fillsFor("buy").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].price, 100.02);
}

TEST_F(PaperFillTest, LimitFillsOnlyWhenATradeGoesThroughIt) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("buy", TH_SIDE_BUY, 100, 99.50)).status, TH_OK);
  ASSERT_EQ(submit(limitOrder("sell", TH_SIDE_SELL, 100, 100.50)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.40, 99.60);
  trade("AAPL", t + 2 * kSecond, 99.50);
  trade("AAPL", t + 3 * kSecond, 100.50);
  EXPECT_TRUE(fillsFor("buy").empty()) << "a trade exactly at the limit only touches it";
  EXPECT_TRUE(fillsFor("sell").empty());

  trade("AAPL", t + 4 * kSecond, 99.49, 300);
  trade("AAPL", t + 5 * kSecond, 100.51, 300);
  ASSERT_EQ(fillsFor("buy").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].price, 99.50) << "a limit fills at its limit, not at the print";
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].quantity, 100);
  ASSERT_EQ(fillsFor("sell").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("sell")[0].price, 100.50);
}

TEST_F(PaperFillTest, MarketableLimitFillsAtTheQuote) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("buy", TH_SIDE_BUY, 10, 101.00)).status, TH_OK);
  ASSERT_EQ(submit(limitOrder("sell", TH_SIDE_SELL, 10, 99.00)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.80, 100.50);
  ASSERT_EQ(fillsFor("buy").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].price, 100.50);
  ASSERT_EQ(fillsFor("sell").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("sell")[0].price, 99.80);
}

TEST_F(PaperFillTest, LimitOnBarsNeedsTheLowBelowAndFillsAtABetterOpen) {
  start();
  const int64_t t = kTuesday1000;
  bar("SPY", t - kMinute, 401, 402, 400.5, 401.5);
  ASSERT_EQ(submit(limitOrder("touch", TH_SIDE_BUY, 10, 400, "SPY")).status, TH_OK);
  bar("SPY", t, 401, 401.5, 400.00, 400.8);
  EXPECT_TRUE(fillsFor("touch").empty()) << "a low exactly at the limit does not fill";
  bar("SPY", t + kMinute, 401, 401.2, 399.90, 400.5);
  ASSERT_EQ(fillsFor("touch").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("touch")[0].price, 400);
  EXPECT_EQ(fillsFor("touch")[0].ts_ns, t + kMinute);

  ASSERT_EQ(submit(limitOrder("gap", TH_SIDE_BUY, 10, 400, "SPY")).status, TH_OK);
  bar("SPY", t + 2 * kMinute, 398, 398.5, 397, 398.2);
  ASSERT_EQ(fillsFor("gap").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("gap")[0].price, 398) << "a bar that opens through the limit fills at its open";
}

TEST_F(PaperFillTest, MarketOrderOnBarsFillsAtTheNextBarsOpenWithinItsVolume) {
  start({{"participation", 0.1}});
  const int64_t t = kTuesday1000;
  bar("SPY", t - 2 * kMinute, 50.00, 50.20, 49.90, 50.10, 5000);
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 100, "SPY")).status, TH_OK);
  bar("SPY", t - kMinute, 50.10, 50.30, 50.00, 50.20, 5000);  // started before the order existed
  EXPECT_TRUE(fillsFor("buy").empty());
  bar("SPY", t, 50.25, 50.40, 50.10, 50.30, 500, 0);  // still forming: moves the mark only
  EXPECT_TRUE(fillsFor("buy").empty());
  bar("SPY", t, 50.25, 50.40, 50.10, 50.30, 500);
  ASSERT_EQ(fillsFor("buy").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].price, 50.25);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[0].quantity, 50) << "10% of a 500-share bar";
  bar("SPY", t + kMinute, 50.35, 50.50, 50.30, 50.45, 5000);
  ASSERT_EQ(fillsFor("buy").size(), 2u);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[1].price, 50.35);
  EXPECT_DOUBLE_EQ(fillsFor("buy")[1].quantity, 50);
  EXPECT_EQ(lastReport("buy").status, TH_STATUS_FILLED);
}

TEST_F(PaperFillTest, StopOnBarsFillsAtTheStopOrAtAGappedOpen) {
  start();
  const int64_t t = kTuesday1000;
  bar("SPY", t - kMinute, 100, 101, 99, 100);
  ASSERT_EQ(submit(stopOrder("buy-stop", TH_SIDE_BUY, 10, 105, "SPY")).status, TH_OK);
  ASSERT_EQ(submit(stopOrder("sell-stop", TH_SIDE_SELL, 10, 95, "SPY")).status, TH_OK);
  bar("SPY", t, 100, 104.99, 95.01, 100);
  EXPECT_TRUE(fillsFor("buy-stop").empty());
  EXPECT_TRUE(fillsFor("sell-stop").empty());

  bar("SPY", t + kMinute, 106, 107, 105.5, 106.5);
  ASSERT_EQ(fillsFor("buy-stop").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy-stop")[0].price, 106) << "the bar gapped over the stop: fill at its open";

  bar("SPY", t + 2 * kMinute, 96, 96.5, 94, 94.5);
  ASSERT_EQ(fillsFor("sell-stop").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("sell-stop")[0].price, 95) << "hit inside the bar: fill at the stop";
}

TEST_F(PaperFillTest, StopOnQuotesTriggersAndFillsAtTheQuote) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(stopOrder("sell-stop", TH_SIDE_SELL, 10, 99.00)).status, TH_OK);
  OrderSpec stop_limit = stopOrder("buy-stop-limit", TH_SIDE_BUY, 10, 101.00);
  stop_limit.type = TH_ORDER_STOP_LIMIT;
  stop_limit.limit = 101.10;
  ASSERT_EQ(submit(stop_limit).status, TH_OK);

  quote("AAPL", t + 1 * kSecond, 99.50, 100.90);
  EXPECT_TRUE(fillsFor("sell-stop").empty());
  EXPECT_TRUE(fillsFor("buy-stop-limit").empty());

  quote("AAPL", t + 2 * kSecond, 98.90, 99.00);
  ASSERT_EQ(fillsFor("sell-stop").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("sell-stop")[0].price, 98.90);

  quote("AAPL", t + 3 * kSecond, 101.10, 101.20);  // triggers, but the ask is above the limit
  EXPECT_TRUE(fillsFor("buy-stop-limit").empty());
  quote("AAPL", t + 4 * kSecond, 100.95, 101.05);
  ASSERT_EQ(fillsFor("buy-stop-limit").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("buy-stop-limit")[0].price, 101.05);
}

TEST_F(PaperFillTest, IocFillsWhatTheFirstQuoteOffersAndCancelsTheRest) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  OrderSpec ioc = marketOrder("ioc", TH_SIDE_BUY, 100);
  ioc.time_in_force = TH_TIF_IOC;
  ASSERT_EQ(submit(ioc).status, TH_OK);
  quote("AAPL", t + kSecond, 99.95, 100.00, 1000, 30);
  EXPECT_EQ(statusesOf("ioc"),
            (std::vector<int32_t>{TH_STATUS_ACCEPTED, TH_STATUS_PARTIALLY_FILLED, TH_STATUS_CANCELED}));
  EXPECT_DOUBLE_EQ(lastReport("ioc").filled_quantity, 30);
  EXPECT_FALSE(lastReport("ioc").reason.empty());
  quote("AAPL", t + 2 * kSecond, 99.95, 100.00, 1000, 1000);
  EXPECT_EQ(fillsFor("ioc").size(), 1u);
  EXPECT_TRUE(openOrders().empty());
}

TEST_F(PaperFillTest, FokIsCanceledUnlessTheFirstOpportunityFillsItAll) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  OrderSpec fok = marketOrder("fok-short", TH_SIDE_BUY, 100);
  fok.time_in_force = TH_TIF_FOK;
  ASSERT_EQ(submit(fok).status, TH_OK);
  quote("AAPL", t + kSecond, 99.95, 100.00, 1000, 99);
  EXPECT_EQ(statusesOf("fok-short"), (std::vector<int32_t>{TH_STATUS_ACCEPTED, TH_STATUS_CANCELED}));
  EXPECT_TRUE(fillsFor("fok-short").empty());

  fok.id = "fok-full";
  ASSERT_EQ(submit(fok).status, TH_OK);
  quote("AAPL", t + 2 * kSecond, 99.95, 100.00, 1000, 100);
  EXPECT_EQ(statusesOf("fok-full"), (std::vector<int32_t>{TH_STATUS_ACCEPTED, TH_STATUS_FILLED}));
}

TEST_F(PaperFillTest, DayOrdersExpireAt1600NewYorkTime) {
  start();
  const int64_t t = kTuesday1000;  // 10:00 EDT
  quote("AAPL", t - kSecond, 99.90, 100.00);
  OrderSpec day = limitOrder("day", TH_SIDE_BUY, 10, 90);
  day.time_in_force = TH_TIF_DAY;
  ASSERT_EQ(submit(day).status, TH_OK);
  ASSERT_EQ(submit(limitOrder("gtc", TH_SIDE_BUY, 10, 90)).status, TH_OK);

  const int64_t close = t + 6 * kHour;  // 16:00 EDT = 20:00 UTC
  quote("MSFT", close - kSecond, 300, 300.10);
  EXPECT_EQ(lastReport("day").status, TH_STATUS_ACCEPTED);
  quote("MSFT", close, 300, 300.10);  // an event of any symbol marks the close
  OrderRecord expired = lastReport("day");
  EXPECT_EQ(expired.status, TH_STATUS_EXPIRED);
  EXPECT_EQ(expired.reason, "day order expired at session close");
  EXPECT_EQ(expired.ts_ns, close);
  EXPECT_EQ(lastReport("gtc").status, TH_STATUS_ACCEPTED);
  ASSERT_EQ(openOrders().size(), 1u);
  EXPECT_EQ(openOrders()[0].client_order_id, "gtc");
}

TEST_F(PaperFillTest, DayOrdersExpireAt1600EasternStandardTimeInWinter) {
  host_.now_ns = 1'704'812'400 * kSecond;  // Tuesday 2024-01-09 10:00 EST = 15:00 UTC
  start();
  const int64_t t = host_.now_ns;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  OrderSpec day = limitOrder("day", TH_SIDE_BUY, 10, 90);
  day.time_in_force = TH_TIF_DAY;
  ASSERT_EQ(submit(day).status, TH_OK);
  quote("AAPL", t + 5 * kHour + 30 * kMinute, 99.90, 100.00);  // 20:30 UTC is 15:30 EST
  EXPECT_EQ(lastReport("day").status, TH_STATUS_ACCEPTED);
  quote("AAPL", t + 6 * kHour, 99.90, 100.00);  // 21:00 UTC is 16:00 EST
  EXPECT_EQ(lastReport("day").status, TH_STATUS_EXPIRED);
}

TEST_F(PaperFillTest, DayOrdersFollowTheHostsCalendarThroughEarlyClosesAndHolidays) {
  // Friday 2012-11-23 closes at 13:00 EST (18:00 UTC); 10:00 EST is 15:00 UTC.
  host_.now_ns = 1'353'682'800 * kSecond;
  start();
  const int64_t t = host_.now_ns;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  OrderSpec day = limitOrder("day", TH_SIDE_BUY, 10, 90);
  day.time_in_force = TH_TIF_DAY;
  ASSERT_EQ(submit(day).status, TH_OK);
  quote("AAPL", t + 3 * kHour - kSecond, 99.90, 100.00);
  EXPECT_EQ(lastReport("day").status, TH_STATUS_ACCEPTED);
  quote("AAPL", t + 3 * kHour, 99.90, 100.00);
  EXPECT_EQ(lastReport("day").status, TH_STATUS_EXPIRED) << "the session closed at 13:00";
  EXPECT_EQ(lastReport("day").ts_ns, t + 3 * kHour);

  // Sent on Thanksgiving Day (2012-11-22, closed): it lives through Friday's 13:00 close.
  host_.now_ns = t - 24 * kHour;
  OrderSpec holiday = limitOrder("holiday", TH_SIDE_BUY, 10, 90);
  holiday.time_in_force = TH_TIF_DAY;
  ASSERT_EQ(submit(holiday).status, TH_OK);
  quote("AAPL", t - 24 * kHour + 6 * kHour, 99.90, 100.00);  // 16:00 on the holiday
  EXPECT_EQ(lastReport("holiday").status, TH_STATUS_ACCEPTED);
  quote("AAPL", t + 3 * kHour + kSecond, 99.90, 100.00);
  EXPECT_EQ(lastReport("holiday").status, TH_STATUS_EXPIRED);
  EXPECT_EQ(lastReport("holiday").ts_ns, t + 3 * kHour + kSecond);
}

TEST_F(PaperFillTest, AHostWithoutACalendarIsRefusedWithTheReason) {
  host_.withoutCalendar();
  try {
    create();
    FAIL() << "created without a calendar";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no exchange calendar (host API 1.4"), std::string::npos) << e.what();
  }
}

TEST_F(PaperFillTest, CommissionPerShareIsChargedOnEachFill) {
  start({{"commission_per_share", 0.005}, {"participation", 0.5}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 200)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.90, 100.00, 1000, 200);
  quote("AAPL", t + 2 * kSecond, 99.90, 100.00, 1000, 1000);
  auto fills = fillsFor("buy");
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_DOUBLE_EQ(fills[0].commission, 0.5);
  EXPECT_DOUBLE_EQ(fills[1].commission, 0.5);
  EXPECT_DOUBLE_EQ(fills[0].multiplier, 1);
  th_account a = account();
  EXPECT_NEAR(a.commissions, 1.0, 1e-9);
  EXPECT_NEAR(a.cash, 100000 - 200 * 100.00 - 1.0, 1e-6);
}

TEST_F(PaperFillTest, OptionsPayPerContractAndMoveCashByTheMultiplier) {
  start();
  const std::string call = "SPY240315C00500000";
  const int64_t t = kTuesday1000;
  quote(call, t - kSecond, 1.20, 1.25);
  OrderSpec buy = marketOrder("call", TH_SIDE_BUY, 2, call);
  buy.asset_class = TH_ASSET_OPTION;
  ASSERT_EQ(submit(buy).status, TH_OK);
  quote(call, t + kSecond, 1.20, 1.25);
  auto fills = fillsFor("call");
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_DOUBLE_EQ(fills[0].price, 1.25);
  EXPECT_DOUBLE_EQ(fills[0].multiplier, 100);
  EXPECT_EQ(fills[0].asset_class, TH_ASSET_OPTION);
  EXPECT_NEAR(fills[0].commission, 2 * 0.65, 1e-12);

  th_account a = account();
  EXPECT_NEAR(a.cash, 100000 - 2 * 1.25 * 100 - 1.30, 1e-9);
  // Marked at the mid, 1.225: equity = cash + 2 × 1.225 × 100.
  EXPECT_NEAR(a.equity, a.cash + 2 * 1.225 * 100, 1e-9);
  auto held = positions();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].symbol, call);
  EXPECT_DOUBLE_EQ(held[0].quantity, 2);
  EXPECT_DOUBLE_EQ(held[0].multiplier, 100);
  EXPECT_DOUBLE_EQ(held[0].average_price, 1.25);

  OrderSpec half = buy;
  half.id = "half";
  half.quantity = 1.5;
  EXPECT_EQ(submit(half).status, TH_ERR_REJECTED) << "options trade in whole contracts";
}

}  // namespace
}  // namespace th::test
