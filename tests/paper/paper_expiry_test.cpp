// Option contracts held to their expiry: at the first market event at or
// after the close of the expiry day (16:00 ET, 13:00 on an early close, from
// the host's calendar) the paper broker settles them from the
// underlying's last price. In the money by a cent or more a long contract is
// exercised and a short one assigned, the shares moving at the strike; below
// that it expires worthless. Each settlement is a fill with no order, which
// says what it is (ABI 1.3).
#include <cmath>

#include "paper/paper_fixture.h"

namespace th::test {
namespace {

// Tuesday 2024-03-12 closes at 16:00 EDT; the next session opens Wednesday 09:30.
constexpr int64_t kClose = kTuesday1000 + 6 * kHour;
constexpr int64_t kWednesdayOpen = kClose + 17 * kHour + 30 * kMinute;
const std::string kCall = "SPY240312C00500000";  // the 500 call expiring that Tuesday
const std::string kPut = "SPY240312P00500000";

class PaperExpiryTest : public PaperTest {
 protected:
  // Buys (contracts > 0) or sells to open (< 0) at 2.00 a contract at 10:00.
  void open(const std::string& id, const std::string& contract, double contracts) {
    quote(contract, kTuesday1000 - kSecond, 2.00, 2.00);
    OrderSpec order = marketOrder(id, contracts > 0 ? TH_SIDE_BUY : TH_SIDE_SELL, std::abs(contracts), contract);
    order.asset_class = TH_ASSET_OPTION;
    ASSERT_EQ(submit(order).status, TH_OK);
    quote(contract, kTuesday1000 + kSecond, 2.00, 2.00);
    ASSERT_EQ(fillsFor(id).size(), 1u) << "the contract was not bought or sold";
  }
  void buyShares(double shares, double price) {
    quote("SPY", kTuesday1000 + 2 * kSecond, price, price);
    ASSERT_EQ(submit(marketOrder("shares", TH_SIDE_BUY, shares, "SPY")).status, TH_OK);
    quote("SPY", kTuesday1000 + 3 * kSecond, price, price);
    ASSERT_EQ(fillsFor("shares").size(), 1u);
  }
  // SPY's last bar of the day, 15:59-16:00, closing at `close`.
  void lastBar(double close) { bar("SPY", kClose - kMinute, close, close + 0.5, close - 0.5, close); }
  // Every fill that came from no order.
  std::vector<FillRecord> settlements() {
    return host_.locked([&] {
      std::vector<FillRecord> out;
      for (const auto& f : host_.fills) {
        if (f.activity != TH_FILL_TRADE) out.push_back(f);
      }
      return out;
    });
  }
  // The settlement fill `f` moves `quantity` of `symbol` at `price` to `side`, as `activity`.
  static void expectSettled(const FillRecord& f, const std::string& symbol, int32_t activity, int32_t side,
                            double quantity, double price) {
    EXPECT_EQ(f.symbol, symbol);
    EXPECT_EQ(f.activity, activity) << symbol;
    EXPECT_EQ(f.side, side) << symbol;
    EXPECT_DOUBLE_EQ(f.quantity, quantity) << symbol;
    EXPECT_DOUBLE_EQ(f.price, price) << symbol;
  }
  double held(const std::string& symbol) {
    for (const auto& p : positions()) {
      if (p.symbol == symbol) return p.quantity;
    }
    return 0;
  }
};

TEST_F(PaperExpiryTest, AShortCallOutOfTheMoneyExpiresWorthlessAtTheFirstEventAfterTheClose) {
  start({{"allow_short", true}});
  open("sell", kCall, -2);
  lastBar(498.50);
  EXPECT_TRUE(settlements().empty()) << "the 15:59 bar starts before the close";
  EXPECT_DOUBLE_EQ(held(kCall), -2);
  const double cash = account().cash;

  bar("QQQ", kWednesdayOpen, 430, 431, 429, 430.5);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 1u);
  const FillRecord& f = settled[0];
  expectSettled(f, kCall, TH_FILL_EXPIRED, TH_SIDE_BUY, 2, 0);  // a short contract is bought back
  EXPECT_EQ(f.client_order_id, "") << "a settlement comes from no order";
  EXPECT_DOUBLE_EQ(f.commission, 0);
  EXPECT_DOUBLE_EQ(f.multiplier, 100);
  EXPECT_EQ(f.asset_class, TH_ASSET_OPTION);
  EXPECT_EQ(f.ts_ns, kClose) << "dated when the contract ended, not when the news came";
  EXPECT_EQ(f.contract, "");
  EXPECT_DOUBLE_EQ(held(kCall), 0) << "the contract is gone";
  EXPECT_NEAR(account().cash, cash, 1e-9) << "the premium was received at the sale; expiry moves no cash";

  bar("QQQ", kWednesdayOpen + kMinute, 430, 431, 429, 430.5);
  EXPECT_EQ(settlements().size(), 1u) << "settled once";
}

TEST_F(PaperExpiryTest, AShortCallInTheMoneyIsAssignedAndTheSharesGoAtTheStrike) {
  start();
  buyShares(200, 495.00);
  open("sell", kCall, -2);  // covered: 200 shares held
  lastBar(503.00);          // 3.00 in the money
  const double cash = account().cash;

  bar("SPY", kWednesdayOpen, 504, 505, 503, 504.5);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 2u);
  // The shares first, so the host knows who held the contract that delivered them.
  expectSettled(settled[0], "SPY", TH_FILL_ASSIGNED, TH_SIDE_SELL, 200, 500.00);
  EXPECT_EQ(settled[0].asset_class, TH_ASSET_EQUITY);
  EXPECT_DOUBLE_EQ(settled[0].multiplier, 1);
  EXPECT_EQ(settled[0].contract, kCall);
  expectSettled(settled[1], kCall, TH_FILL_ASSIGNED, TH_SIDE_BUY, 2, 0);
  EXPECT_TRUE(positions().empty()) << "the shares were called away and the contract is gone";
  EXPECT_NEAR(account().cash, cash + 200 * 500.00, 1e-6) << "the shares were sold at the strike, not at 504";
}

TEST_F(PaperExpiryTest, OnAnEarlyCloseTheContractEndsAtOnePm) {
  // Wednesday 2024-07-03 closes at 13:00 EDT (17:00 UTC).
  const int64_t open_1000 = 1'720'015'200 * kSecond;  // 10:00 EDT
  const int64_t early_close = open_1000 + 3 * kHour;
  const std::string call = "SPY240703C00500000";
  host_.now_ns = open_1000;
  start({{"allow_short", true}});
  quote(call, open_1000 - kSecond, 2.00, 2.00);
  OrderSpec order = marketOrder("sell", TH_SIDE_SELL, 1, call);
  order.asset_class = TH_ASSET_OPTION;
  ASSERT_EQ(submit(order).status, TH_OK);
  quote(call, open_1000 + kSecond, 2.00, 2.00);
  ASSERT_EQ(fillsFor("sell").size(), 1u);
  bar("SPY", early_close - kMinute, 498, 498.5, 497.5, 498);
  EXPECT_TRUE(settlements().empty()) << "12:59 is before the close";
  bar("QQQ", early_close, 430, 431, 429, 430.5);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 1u) << "settled at the first event from 13:00, not 16:00";
  expectSettled(settled[0], call, TH_FILL_EXPIRED, TH_SIDE_BUY, 1, 0);
  EXPECT_EQ(settled[0].ts_ns, early_close);
}

TEST_F(PaperExpiryTest, ALongPutInTheMoneyIsExercisedAndSellsSharesAtTheStrike) {
  start({{"allow_short", true}});
  open("put", kPut, 1);
  lastBar(497.25);  // 2.75 in the money
  const double cash = account().cash;

  bar("SPY", kWednesdayOpen, 497, 498, 496, 497.5);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 2u);
  // A put's holder delivers the shares; a long contract is closed by selling it.
  expectSettled(settled[0], "SPY", TH_FILL_EXERCISED, TH_SIDE_SELL, 100, 500.00);
  expectSettled(settled[1], kPut, TH_FILL_EXERCISED, TH_SIDE_SELL, 1, 0);
  EXPECT_DOUBLE_EQ(held("SPY"), -100) << "no shares were held: the exercise leaves them short";
  EXPECT_DOUBLE_EQ(held(kPut), 0);
  EXPECT_NEAR(account().cash, cash + 100 * 500.00, 1e-6);
}

TEST_F(PaperExpiryTest, InTheMoneyByLessThanACentExpiresAndByACentIsExercised) {
  start();
  open("below", kCall, 1);
  lastBar(500.009);
  bar("SPY", kWednesdayOpen, 501, 502, 500, 501);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0].activity, TH_FILL_EXPIRED) << "0.009 in the money is not exercised";

  // The next Tuesday's call, 500.01 at its last bar.
  const std::string next = "SPY240319C00500000";
  const int64_t week = 7 * 24 * kHour;
  host_.now_ns = kTuesday1000 + week;
  quote(next, kTuesday1000 + week - kSecond, 2.00, 2.00);
  OrderSpec order = marketOrder("at_a_cent", TH_SIDE_BUY, 1, next);
  order.asset_class = TH_ASSET_OPTION;
  ASSERT_EQ(submit(order).status, TH_OK);
  quote(next, kTuesday1000 + week + kSecond, 2.00, 2.00);
  bar("SPY", kClose + week - kMinute, 500.01, 500.01, 500.01, 500.01);
  bar("SPY", kWednesdayOpen + week, 501, 502, 500, 501);
  settled = settlements();
  ASSERT_EQ(settled.size(), 3u);
  EXPECT_EQ(settled[1].activity, TH_FILL_EXERCISED);
  EXPECT_EQ(settled[1].side, TH_SIDE_BUY) << "a call's holder takes the shares";
  EXPECT_DOUBLE_EQ(held("SPY"), 100);
}

TEST_F(PaperExpiryTest, OrdersStillWorkingInTheContractEndWithIt) {
  start({{"allow_short", true}});
  open("sell", kCall, -1);
  OrderSpec buy_back = limitOrder("buy_back", TH_SIDE_BUY, 1, 0.05, kCall);
  buy_back.asset_class = TH_ASSET_OPTION;
  ASSERT_EQ(submit(buy_back).status, TH_OK);
  lastBar(490);
  bar("SPY", kWednesdayOpen, 490, 491, 489, 490);
  const OrderRecord last = lastReport("buy_back");
  EXPECT_EQ(last.status, TH_STATUS_EXPIRED);
  EXPECT_EQ(last.reason, "the option contract expired");
  EXPECT_TRUE(openOrders().empty());
  ASSERT_EQ(settlements().size(), 1u);
  EXPECT_EQ(settlements()[0].activity, TH_FILL_EXPIRED);
}

TEST_F(PaperExpiryTest, WithoutAPriceOfTheUnderlyingTheContractExpiresAndTheLogSaysSo) {
  start();
  open("call", kCall, 1);
  bar("QQQ", kWednesdayOpen, 430, 431, 429, 430.5);
  auto settled = settlements();
  ASSERT_EQ(settled.size(), 1u);
  EXPECT_EQ(settled[0].activity, TH_FILL_EXPIRED);
  const bool logged = host_.locked([&] {
    for (const auto& log : host_.logs) {
      if (log.level == TH_LOG_WARN && log.message.find(kCall) != std::string::npos &&
          log.message.find("no price of SPY") != std::string::npos) {
        return true;
      }
    }
    return false;
  });
  EXPECT_TRUE(logged);
}

TEST_F(PaperExpiryTest, SettlementsAreInTheStateFileForAReconcilingHost) {
  start({{"allow_short", true}});
  buyShares(100, 495.00);
  open("sell", kCall, -1);
  lastBar(503.00);
  bar("SPY", kWednesdayOpen, 504, 505, 503, 504.5);
  ASSERT_EQ(settlements().size(), 2u);
  const double cash = account().cash;

  destroy();
  start({{"allow_short", true}});
  std::vector<FillRecord> kept;
  for (const auto& f : fillsSince(0)) {
    if (f.activity != TH_FILL_TRADE) kept.push_back(f);
  }
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].activity, TH_FILL_ASSIGNED);
  EXPECT_EQ(kept[0].contract, kCall);
  EXPECT_EQ(kept[0].client_order_id, "");
  EXPECT_EQ(kept[1].symbol, kCall);
  EXPECT_TRUE(positions().empty());
  EXPECT_NEAR(account().cash, cash, 1e-6);
  bar("SPY", kWednesdayOpen + kMinute, 504, 505, 503, 504.5);
  EXPECT_EQ(settlements().size(), 2u) << "nothing is settled twice after a restart";
}

}  // namespace
}  // namespace th::test
