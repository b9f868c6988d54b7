// The paper broker's order entry contract: validation and rejects, duplicate
// client ids, cancel, replace, the connection, and the reconciliation lists.
#include <set>
#include <thread>

#include "paper/paper_fixture.h"

namespace th::test {
namespace {

class PaperLifecycleTest : public PaperTest {};

TEST_F(PaperLifecycleTest, DescriptorDeclaresTheBrokerCapabilities) {
  const th_plugin_descriptor& d = plugin_->descriptor();
  EXPECT_STREQ(d.id, "paper");
  EXPECT_EQ(d.kind, TH_KIND_BROKER);
  ASSERT_NE(d.broker, nullptr);
  EXPECT_EQ(d.broker->capabilities,
            static_cast<uint32_t>(TH_BROKER_OPTIONS | TH_BROKER_SHORTING | TH_BROKER_REPLACE | TH_BROKER_MARKET_FEED |
                                  TH_BROKER_NATIVE_EXITS));
  EXPECT_NE(d.broker->replace, nullptr);
  EXPECT_NE(d.broker->on_quote, nullptr);
}

TEST_F(PaperLifecycleTest, BuyBeyondBuyingPowerIsRejectedWithTheReason) {
  start({{"starting_cash", 10000}});
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  Result too_big = submit(marketOrder("too-big", TH_SIDE_BUY, 101));
  EXPECT_EQ(too_big.status, TH_ERR_REJECTED);
  EXPECT_NE(too_big.error.find("insufficient buying power"), std::string::npos) << too_big.error;
  OrderRecord rejected = lastReport("too-big");
  EXPECT_EQ(rejected.status, TH_STATUS_REJECTED);
  EXPECT_EQ(rejected.reason, too_big.error);

  ASSERT_EQ(submit(limitOrder("fits", TH_SIDE_BUY, 90, 100.00)).status, TH_OK);
  EXPECT_NEAR(account().buying_power, 1000, 1e-9) << "an open buy reserves its cost";
  EXPECT_EQ(submit(limitOrder("second", TH_SIDE_BUY, 20, 100.00)).status, TH_ERR_REJECTED);
  ASSERT_EQ(cancel("fits").status, TH_OK);
  EXPECT_NEAR(account().buying_power, 10000, 1e-9);
  EXPECT_EQ(submit(limitOrder("third", TH_SIDE_BUY, 20, 100.00)).status, TH_OK);
}

TEST_F(PaperLifecycleTest, ShortSalesAreRejectedWhenShortingIsOff) {
  start({{"allow_short", false}});
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  Result naked = submit(marketOrder("naked", TH_SIDE_SELL, 10));
  EXPECT_EQ(naked.status, TH_ERR_REJECTED);
  EXPECT_NE(naked.error.find("allow_short"), std::string::npos) << naked.error;

  ASSERT_EQ(submit(marketOrder("buy", TH_SIDE_BUY, 10)).status, TH_OK);
  quote("AAPL", kTuesday1000 + kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("close", TH_SIDE_SELL, 10, 120)).status, TH_OK);
  EXPECT_EQ(submit(limitOrder("more", TH_SIDE_SELL, 1, 120)).status, TH_ERR_REJECTED)
      << "the 10 held are already offered by the working sell";
}

TEST_F(PaperLifecycleTest, ShortSalesOpenANegativePositionByDefault) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("short", TH_SIDE_SELL, 10)).status, TH_OK);
  quote("AAPL", kTuesday1000 + kSecond, 99.90, 100.00);
  auto held = positions();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_DOUBLE_EQ(held[0].quantity, -10);
  EXPECT_DOUBLE_EQ(held[0].average_price, 99.90);
  EXPECT_NEAR(account().cash, 100000 + 999, 1e-9);
}

TEST_F(PaperLifecycleTest, PositionsAverageInAndReopenAtTheFillPriceWhenFlipped) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 9.90, 10.00);
  ASSERT_EQ(submit(marketOrder("a", TH_SIDE_BUY, 100)).status, TH_OK);
  quote("AAPL", t + 1 * kSecond, 9.90, 10.00);
  ASSERT_EQ(submit(marketOrder("b", TH_SIDE_BUY, 100)).status, TH_OK);
  quote("AAPL", t + 2 * kSecond, 10.90, 11.00);
  ASSERT_EQ(positions().size(), 1u);
  EXPECT_DOUBLE_EQ(positions()[0].average_price, 10.50);

  ASSERT_EQ(submit(marketOrder("flip", TH_SIDE_SELL, 250)).status, TH_OK);
  quote("AAPL", t + 3 * kSecond, 12.00, 12.10);
  ASSERT_EQ(positions().size(), 1u);
  EXPECT_DOUBLE_EQ(positions()[0].quantity, -50);
  EXPECT_DOUBLE_EQ(positions()[0].average_price, 12.00);
  // Marked at the mid, 12.05: cash 100000 − 1000 − 1100 + 3000, short 50.
  th_account a = account();
  EXPECT_NEAR(a.cash, 100900, 1e-9);
  EXPECT_NEAR(a.equity, 100900 - 50 * 12.05, 1e-9);
}

TEST_F(PaperLifecycleTest, ADuplicateClientIdChangesNothing) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("dup", TH_SIDE_BUY, 10, 90)).status, TH_OK);
  const size_t reports = host_.locked([&] { return host_.orders.size(); });
  Result again = submit(limitOrder("dup", TH_SIDE_BUY, 20, 95));
  EXPECT_EQ(again.status, TH_ERR_DUPLICATE);
  EXPECT_EQ(host_.locked([&] { return host_.orders.size(); }), reports) << "no callback for a duplicate";
  ASSERT_EQ(openOrders().size(), 1u);
  EXPECT_DOUBLE_EQ(openOrders()[0].quantity, 10);

  ASSERT_EQ(submit(limitOrder("bad", TH_SIDE_BUY, 0, 90)).status, TH_ERR_REJECTED);
  EXPECT_EQ(submit(limitOrder("bad", TH_SIDE_BUY, 10, 90)).status, TH_ERR_DUPLICATE)
      << "a rejected order's id is used too";
}

TEST_F(PaperLifecycleTest, RejectSymbolsAreRefused) {
  start({{"reject_symbols", {"HALT"}}});
  quote("HALT", kTuesday1000 - kSecond, 9.90, 10.00);
  Result r = submit(limitOrder("halted", TH_SIDE_BUY, 10, 10, "HALT"));
  EXPECT_EQ(r.status, TH_ERR_REJECTED);
  EXPECT_NE(r.error.find("reject_symbols"), std::string::npos) << r.error;
  EXPECT_EQ(statusesOf("halted"), (std::vector<int32_t>{TH_STATUS_REJECTED}));
  EXPECT_TRUE(lastReport("halted").broker_order_id.empty());
}

TEST_F(PaperLifecycleTest, InvalidOrdersAreRejectedWithAReason) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  OrderSpec zero = limitOrder("zero", TH_SIDE_BUY, 0, 90);
  OrderSpec no_limit = limitOrder("no-limit", TH_SIDE_BUY, 10, 0);
  OrderSpec no_stop = stopOrder("no-stop", TH_SIDE_SELL, 10, 0);
  OrderSpec bracket = limitOrder("bracket", TH_SIDE_BUY, 10, 90);
  bracket.order_class = TH_CLASS_BRACKET;
  OrderSpec bad_side = limitOrder("bad-side", 7, 10, 90);
  OrderSpec ioc_stop = stopOrder("ioc-stop", TH_SIDE_BUY, 10, 110);
  ioc_stop.time_in_force = TH_TIF_IOC;
  const std::pair<OrderSpec, const char*> cases[] = {{zero, "quantity"},      {no_limit, "limit_price"},
                                                     {no_stop, "stop_price"}, {bracket, "needs a take-profit"},
                                                     {bad_side, "side"},      {ioc_stop, "IOC"}};
  for (const auto& [spec, expected] : cases) {
    Result r = submit(spec);
    EXPECT_EQ(r.status, TH_ERR_REJECTED) << spec.id;
    EXPECT_NE(r.error.find(expected), std::string::npos) << spec.id << ": " << r.error;
    EXPECT_EQ(lastReport(spec.id).status, TH_STATUS_REJECTED) << spec.id;
    EXPECT_EQ(lastReport(spec.id).reason, r.error) << spec.id;
  }
  EXPECT_EQ(submit(limitOrder("", TH_SIDE_BUY, 10, 90)).status, TH_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(openOrders().empty());
}

TEST_F(PaperLifecycleTest, CancelEndsAnOpenOrderAndUnknownOrFinalOrdersAreNotFound) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("resting", TH_SIDE_BUY, 10, 90)).status, TH_OK);
  host_.now_ns = kTuesday1000 + kSecond;
  ASSERT_EQ(cancel("resting").status, TH_OK);
  OrderRecord canceled = lastReport("resting");
  EXPECT_EQ(canceled.status, TH_STATUS_CANCELED);
  EXPECT_EQ(canceled.ts_ns, kTuesday1000 + kSecond);
  EXPECT_TRUE(openOrders().empty());
  trade("AAPL", kTuesday1000 + 2 * kSecond, 80);
  EXPECT_TRUE(fillsFor("resting").empty()) << "a canceled order never fills";

  EXPECT_EQ(cancel("resting").status, TH_ERR_NOT_FOUND);
  Result unknown = cancel("never-sent");
  EXPECT_EQ(unknown.status, TH_ERR_NOT_FOUND);
  EXPECT_NE(unknown.error.find("never-sent"), std::string::npos);
}

TEST_F(PaperLifecycleTest, ReplaceReportsReplacedThenTheOrderWorksOnItsNewTerms) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("order", TH_SIDE_BUY, 50, 99.00)).status, TH_OK);
  host_.now_ns = t + kSecond;
  ASSERT_EQ(replace("order", 80, 99.50).status, TH_OK);
  auto reports = reportsFor("order");
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[1].status, TH_STATUS_REPLACED);
  EXPECT_DOUBLE_EQ(reports[1].quantity, 80);
  EXPECT_DOUBLE_EQ(reports[1].limit_price, 99.50);
  EXPECT_EQ(reports[1].broker_order_id, reports[0].broker_order_id);
  EXPECT_EQ(reports[2].status, TH_STATUS_ACCEPTED);
  EXPECT_DOUBLE_EQ(reports[2].quantity, 80);
  EXPECT_EQ(reports[2].ts_ns, t + kSecond);
  ASSERT_EQ(openOrders().size(), 1u);
  EXPECT_DOUBLE_EQ(openOrders()[0].limit_price, 99.50);

  trade("AAPL", t + 2 * kSecond, 99.40, 1000);
  ASSERT_EQ(fillsFor("order").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("order")[0].price, 99.50);
  EXPECT_DOUBLE_EQ(fillsFor("order")[0].quantity, 80);

  EXPECT_EQ(replace("order", 90).status, TH_ERR_NOT_FOUND) << "a filled order cannot change";
  EXPECT_EQ(replace("never-sent", 10).status, TH_ERR_NOT_FOUND);
  ASSERT_EQ(submit(marketOrder("market", TH_SIDE_SELL, 10)).status, TH_OK);
  EXPECT_EQ(replace("market", 0, 99).status, TH_ERR_INVALID_ARGUMENT) << "a market order has no limit";
  EXPECT_EQ(replace("market", 0).status, TH_ERR_INVALID_ARGUMENT) << "nothing to change";
}

TEST_F(PaperLifecycleTest, ReplaceCannotCutBelowTheFilledQuantityOrBuyBeyondBuyingPower) {
  start({{"starting_cash", 10000}, {"participation", 0.5}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("order", TH_SIDE_BUY, 40, 100.00)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.90, 100.00, 1000, 40);
  ASSERT_EQ(lastReport("order").status, TH_STATUS_PARTIALLY_FILLED);
  EXPECT_EQ(replace("order", 20).status, TH_ERR_INVALID_ARGUMENT);
  Result too_big = replace("order", 200);
  EXPECT_EQ(too_big.status, TH_ERR_REJECTED);
  EXPECT_NE(too_big.error.find("buying power"), std::string::npos) << too_big.error;
  EXPECT_EQ(lastReport("order").status, TH_STATUS_PARTIALLY_FILLED) << "a refused replace reports nothing";
  ASSERT_EQ(replace("order", 50).status, TH_OK);
  EXPECT_EQ(lastReport("order").status, TH_STATUS_PARTIALLY_FILLED);
  EXPECT_DOUBLE_EQ(lastReport("order").filled_quantity, 20);
  EXPECT_DOUBLE_EQ(lastReport("order").quantity, 50);
}

TEST_F(PaperLifecycleTest, DisconnectRefusesOrderEntryAndWorkingOrdersFillAfterReconnect) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("working", TH_SIDE_BUY, 10, 99.00)).status, TH_OK);
  ASSERT_EQ(disconnect().status, TH_OK);
  auto connections = host_.locked([&] { return host_.connections; });
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].first, TH_CONN_CONNECTED);
  EXPECT_EQ(connections[1].first, TH_CONN_DISCONNECTED);

  EXPECT_EQ(submit(limitOrder("while-down", TH_SIDE_BUY, 10, 99.00)).status, TH_ERR_NOT_CONNECTED);
  EXPECT_EQ(cancel("working").status, TH_ERR_NOT_CONNECTED);
  EXPECT_EQ(replace("working", 20).status, TH_ERR_NOT_CONNECTED);
  trade("AAPL", t + kSecond, 98.00);
  EXPECT_TRUE(fillsFor("working").empty()) << "nothing trades while the link is down";

  ASSERT_EQ(connect().status, TH_OK);
  EXPECT_EQ(host_.locked([&] { return host_.connections.back().first; }), TH_CONN_CONNECTED);
  ASSERT_EQ(openOrders().size(), 1u);
  trade("AAPL", t + 2 * kSecond, 98.50);
  ASSERT_EQ(fillsFor("working").size(), 1u);
  EXPECT_DOUBLE_EQ(fillsFor("working")[0].price, 99.00);
  EXPECT_EQ(submit(limitOrder("while-down", TH_SIDE_BUY, 10, 99.00)).status, TH_OK)
      << "an id refused while disconnected was never taken";
}

TEST_F(PaperLifecycleTest, ListsReportOpenOrdersPositionsFillsAndTheAccount) {
  start({{"account_id", "paper-7"}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  quote("MSFT", t - kSecond, 399.90, 400.00);
  ASSERT_EQ(submit(marketOrder("aapl", TH_SIDE_BUY, 10)).status, TH_OK);
  quote("AAPL", t + 1 * kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("msft", TH_SIDE_BUY, 5, "MSFT")).status, TH_OK);
  quote("MSFT", t + 2 * kSecond, 399.90, 400.00);
  ASSERT_EQ(submit(limitOrder("open", TH_SIDE_BUY, 10, 90)).status, TH_OK);

  auto open = openOrders();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].client_order_id, "open");
  EXPECT_EQ(open[0].status, TH_STATUS_ACCEPTED);
  EXPECT_EQ(open[0].type, TH_ORDER_LIMIT);

  auto held = positions();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].symbol, "AAPL");
  EXPECT_DOUBLE_EQ(held[0].quantity, 10);
  EXPECT_EQ(held[1].symbol, "MSFT");
  EXPECT_DOUBLE_EQ(held[1].quantity, 5);

  ASSERT_EQ(fillsSince(0).size(), 2u);
  auto later = fillsSince(t + 2 * kSecond);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].client_order_id, "msft");
  EXPECT_TRUE(fillsSince(t + 3 * kSecond).empty());

  quote("AAPL", t + 3 * kSecond, 109.90, 110.10);  // mark 110
  th_account a = account();
  EXPECT_STREQ(a.account_id, "paper-7");
  EXPECT_STREQ(a.currency, "USD");
  EXPECT_NEAR(a.cash, 100000 - 1000 - 2000, 1e-9);
  EXPECT_NEAR(a.equity, a.cash + 10 * 110 + 5 * 399.95, 1e-9);
  EXPECT_NEAR(a.buying_power, a.cash - 900, 1e-9);
  EXPECT_DOUBLE_EQ(a.commissions, 0);
}

TEST_F(PaperLifecycleTest, OrderEntryAndTheMarketFeedMayRunOnDifferentThreads) {
  start();
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  constexpr int kOrders = 60;
  auto idOf = [](int i) {
    std::string id = "o";
    id += std::to_string(i);
    return id;
  };
  std::thread entry([&] {
    for (int i = 0; i < kOrders; ++i) {
      EXPECT_EQ(submit(limitOrder(idOf(i), TH_SIDE_BUY, 1, 100)).status, TH_OK);
    }
  });
  std::thread feed([&] {
    for (int i = 0; i < kOrders; ++i) trade("AAPL", t + i * kMs, 99.00, 1e6);
  });
  entry.join();
  feed.join();
  trade("AAPL", t + kSecond, 99.00, 1e6);  // whatever was submitted after the last print

  std::set<std::string> fill_ids;
  for (int i = 0; i < kOrders; ++i) {
    const std::string id = idOf(i);
    ASSERT_EQ(fillsFor(id).size(), 1u) << id;
    fill_ids.insert(fillsFor(id)[0].fill_id);
    EXPECT_EQ(lastReport(id).status, TH_STATUS_FILLED) << id;
  }
  EXPECT_EQ(fill_ids.size(), static_cast<size_t>(kOrders));
  ASSERT_EQ(positions().size(), 1u);
  EXPECT_DOUBLE_EQ(positions()[0].quantity, kOrders);
  EXPECT_NEAR(account().cash, 100000 - kOrders * 100.0, 1e-6);
}

}  // namespace
}  // namespace th::test
