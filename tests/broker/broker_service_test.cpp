// The broker service against the real paper broker and a real store: the
// order path, brackets, the kill switch, loss limits and crash recovery.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/json.h"
#include "oms_harness.h"

namespace th::test {
namespace {

OrderFilter everything() {
  OrderFilter filter;
  filter.open_only = false;
  filter.limit = 10000;
  return filter;
}

const Order& only(BrokerService& oms, std::string_view id) {
  const Order* order = oms.find(id);
  EXPECT_NE(order, nullptr) << id;
  static const Order kNone;
  return order ? *order : kNone;
}

std::vector<const Order*> legsOf(BrokerService& oms, const std::string& parent) {
  std::vector<const Order*> legs;
  for (const Order* o : oms.orders(everything())) {
    if (o->parent_id == parent && (o->role == OrderRole::TakeProfit || o->role == OrderRole::StopLoss)) {
      legs.push_back(o);
    }
  }
  std::sort(legs.begin(), legs.end(),
            [](const Order* a, const Order* b) { return a->client_order_id < b->client_order_id; });
  return legs;
}

double accountQty(BrokerService& oms, std::string_view symbol) {
  const Position* p = oms.book().accountPosition(symbol);
  return p ? p->quantity : 0;
}

TEST(BrokerService, OrderIsStoredBeforeTheBrokerSeesItThenFills) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  auto order = h.oms().submit(intent("SPY", OrderSide::Buy, 10));
  ASSERT_TRUE(order) << order.error().message;
  EXPECT_EQ(order->status, OrderStatus::PendingNew);
  // The record was committed (synced) before submit returned, with the id
  // the broker received.
  auto stored = h.store().get(Family::Orders, order->client_order_id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(decodeOrder(**stored)->status, OrderStatus::PendingNew);
  EXPECT_EQ(h.paperState()["orders"].size(), 1u);
  EXPECT_EQ(h.paperState()["orders"][0]["client_order_id"], order->client_order_id);

  h.pump();
  EXPECT_EQ(only(h.oms(), order->client_order_id).status, OrderStatus::Accepted);
  h.quote("SPY", 100.00, 100.02);
  const Order& filled = only(h.oms(), order->client_order_id);
  EXPECT_EQ(filled.status, OrderStatus::Filled);
  EXPECT_DOUBLE_EQ(filled.booked_quantity, 10);
  EXPECT_DOUBLE_EQ(filled.average_fill_price, 100.02);  // a buy pays the ask
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 10);
  EXPECT_DOUBLE_EQ(h.oms().book().strategyPosition("s1", "SPY")->quantity, 10);
  // The fill is stored, as the library's own canonical text (it is written field by field).
  std::vector<std::string> fills;
  ASSERT_TRUE(h.store().scan(Family::Fills, "", [&](std::string_view, std::string_view value) {
    fills.emplace_back(value);
    return true;
  }));
  ASSERT_EQ(fills.size(), 1u);
  auto fill = nlohmann::json::parse(fills[0]);
  EXPECT_EQ(fills[0], jsonText(fill));
  EXPECT_EQ(fill["symbol"], "SPY");
  EXPECT_EQ(fill["strategy"], "s1");
  EXPECT_EQ(fill["broker"], "paper");
  EXPECT_EQ(fill["side"], TH_SIDE_BUY);
  EXPECT_EQ(fill["quantity"], 10.0);
  EXPECT_EQ(fill["price"], 100.02);
  EXPECT_EQ(fill["multiplier"], 1.0);
  // Each risk decision and the request are journalled.
  auto decisions = h.journal(JournalKind::RiskDecision);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0]["data"]["accepted"], true);
  EXPECT_EQ(decisions[0]["data"]["quantity"], 10.0);
  EXPECT_EQ(decisions[0]["data"]["side"], "buy");
  EXPECT_EQ(h.journal(JournalKind::OrderRequest).size(), 1u);
  // The decision is journalled as the library's own canonical text (it is written field by field).
  auto records = h.store().readJournal(1, 1000);
  ASSERT_TRUE(records);
  auto decision = std::find_if(records->begin(), records->end(), [](const JournalRecord& r) {
    return r.kind == static_cast<uint16_t>(JournalKind::RiskDecision);
  });
  ASSERT_NE(decision, records->end());
  EXPECT_EQ(decision->payload, jsonText(nlohmann::json::parse(decision->payload)));
}

TEST(BrokerService, RiskRefusalIsStoredJournalledAndNeverSent) {
  RiskConfig risk = OmsHarness::permissiveRisk();
  risk.limits.max_order_quantity = 100;
  OmsHarness h(risk);
  h.quote("SPY", 100.00, 100.02);
  auto order = h.oms().submit(intent("SPY", OrderSide::Buy, 500));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status, OrderStatus::Rejected);
  EXPECT_EQ(order->reason_code, "MAX_ORDER_QUANTITY");
  EXPECT_NE(order->reason.find("max_order_quantity 100"), std::string::npos) << order->reason;
  EXPECT_FALSE(h.paperState().contains("orders") && !h.paperState()["orders"].empty());
  auto decisions = h.journal(JournalKind::RiskDecision);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0]["data"]["reason_code"], "MAX_ORDER_QUANTITY");
  EXPECT_TRUE(h.store().get(Family::Orders, order->client_order_id).value().has_value());
}

TEST(BrokerService, InvalidIntentAndUnknownBrokerAreErrorsNamingTheField) {
  OmsHarness h;
  OrderIntent bad = intent("SPY", OrderSide::Buy, 10);
  bad.type = OrderType::Limit;
  auto refused = h.oms().submit(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("limit_price"), std::string::npos);
  auto unknown = h.oms().submit(intent("SPY", OrderSide::Buy, 1), "alpaca");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::NotFound);
}

TEST(BrokerService, BracketLegsFollowPartialEntryFillsAndOneCancelsTheOther) {
  OmsHarness h;
  h.quote("AAPL", 99.98, 100.00);
  OrderIntent in = intent("AAPL", OrderSide::Buy, 100);
  in.type = OrderType::Limit;
  in.limit_price = 100;
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 110;
  in.stop_loss_price = 95;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->role, OrderRole::Entry);
  h.pump();
  EXPECT_TRUE(legsOf(h.oms(), entry->client_order_id).empty()) << "no legs before a fill";

  // 40 of 100 fill: one pair of legs for 40.
  h.quote("AAPL", 99.98, 100.00, 40);
  auto legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  for (const Order* leg : legs) {
    EXPECT_DOUBLE_EQ(leg->intent.quantity, 40);
    EXPECT_EQ(leg->intent.side, OrderSide::Sell);
    EXPECT_EQ(leg->status, OrderStatus::Accepted);
  }
  EXPECT_EQ(legs[0]->sibling_id, legs[1]->client_order_id);
  // The remaining 60: a second pair for 60.
  h.quote("AAPL", 99.98, 100.00, 1000);
  legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 4u);
  double tp = 0, sl = 0;
  for (const Order* leg : legs) (leg->role == OrderRole::TakeProfit ? tp : sl) += leg->intent.quantity;
  EXPECT_DOUBLE_EQ(tp, 100);
  EXPECT_DOUBLE_EQ(sl, 100);

  // The take-profits fill at 110: every stop-loss is canceled.
  h.quote("AAPL", 110.00, 110.02, 1000);
  for (const Order* leg : legsOf(h.oms(), entry->client_order_id)) {
    EXPECT_EQ(leg->status, leg->role == OrderRole::TakeProfit ? OrderStatus::Filled : OrderStatus::Canceled)
        << leg->client_order_id << " " << toString(leg->role);
  }
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "AAPL"), 0);
  EXPECT_NEAR(h.oms().book().strategyPosition("s1", "AAPL")->realised, 1000, 1e-6);
  EXPECT_EQ(h.oms().stats().overfills, 0u);
}

TEST(BrokerService, AnEntryThatFillsAfterAHaltStillGetsItsLegs) {
  OmsHarness h;
  h.quote("AAPL", 99.98, 100.00);
  OrderIntent in = intent("AAPL", OrderSide::Buy, 20);
  in.type = OrderType::Limit;
  in.limit_price = 99;
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 110;
  in.stop_loss_price = 95;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  h.pump();
  // A halt that cancels nothing (a store failure, a loss limit), then the entry fills.
  h.oms().halt("store: test");
  h.quote("AAPL", 98.90, 98.95);
  ASSERT_EQ(only(h.oms(), entry->client_order_id).status, OrderStatus::Filled);
  auto legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  for (const Order* leg : legs) EXPECT_EQ(leg->status, OrderStatus::Accepted) << leg->reason;
  // New orders are still refused.
  auto refused = h.oms().submit(intent("AAPL", OrderSide::Buy, 1));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason_code, "HALTED");
}

TEST(BrokerService, BothLegsFillingInOneEventIsAnOverfillTakenBack) {
  // A symbol with bars only (as in a backtest on bars): the paper broker
  // fills from each bar's range.
  OmsHarness h;
  h.bar("IWM", 100, 100.5, 99.5, 100);
  OrderIntent in = intent("IWM", OrderSide::Buy, 50);
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 105;
  in.stop_loss_price = 95;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry) << entry.error().message;
  h.bar("IWM", 100, 100.5, 99.5, 100);
  ASSERT_EQ(only(h.oms(), entry->client_order_id).status, OrderStatus::Filled);
  ASSERT_EQ(legsOf(h.oms(), entry->client_order_id).size(), 2u);
  // One bar reaches both: the broker fills both legs before the host can
  // cancel either.
  h.bar("IWM", 100, 106, 94, 100);
  auto legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  for (const Order* leg : legs) {
    EXPECT_EQ(leg->status, OrderStatus::Filled);
    EXPECT_NE(leg->reason.find("over-fill"), std::string::npos) << leg->reason;
  }
  EXPECT_EQ(h.oms().stats().overfills, 1u);
  // The correction buys the 50 back.
  const Order* correction = nullptr;
  for (const Order* o : h.oms().orders(everything())) {
    if (o->role == OrderRole::Correction) correction = o;
  }
  ASSERT_NE(correction, nullptr);
  EXPECT_EQ(correction->intent.side, OrderSide::Buy);
  EXPECT_DOUBLE_EQ(correction->intent.quantity, 50);
  h.bar("IWM", 100, 100.5, 99.5, 100);
  EXPECT_EQ(only(h.oms(), correction->client_order_id).status, OrderStatus::Filled);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "IWM"), 0);
  auto actions = h.journal(JournalKind::OrderAction);
  EXPECT_TRUE(std::any_of(actions.begin(), actions.end(),
                          [](const nlohmann::json& a) { return a["data"]["action"] == "overfill"; }));
  // Detected once: a restart does not correct it again.
  h.restart();
  size_t corrections = 0;
  for (const Order* o : h.oms().orders(everything())) corrections += o->role == OrderRole::Correction;
  EXPECT_EQ(corrections, 1u);
}

TEST(BrokerService, OcoGroupSendsBothLegsAndCancelsTheOther) {
  OmsHarness h;
  h.quote("QQQ", 499.98, 500.00);
  ASSERT_TRUE(h.oms().submit(intent("QQQ", OrderSide::Buy, 10)));
  h.quote("QQQ", 499.98, 500.00);
  OrderIntent in = intent("QQQ", OrderSide::Sell, 10);
  in.order_class = OrderClass::Oco;
  in.take_profit_price = 510;
  in.stop_loss_price = 490;
  auto group = h.oms().submit(in);
  ASSERT_TRUE(group);
  EXPECT_EQ(group->role, OrderRole::Group);
  h.pump();
  auto legs = legsOf(h.oms(), group->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  h.quote("QQQ", 489.00, 489.02);  // the stop triggers and fills
  legs = legsOf(h.oms(), group->client_order_id);
  for (const Order* leg : legs) {
    EXPECT_EQ(leg->status, leg->role == OrderRole::StopLoss ? OrderStatus::Filled : OrderStatus::Canceled);
  }
  EXPECT_EQ(only(h.oms(), group->client_order_id).status, OrderStatus::Filled);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "QQQ"), 0);
}

TEST(BrokerService, IllegalReportIsRefusedAndJournalled) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  auto order = h.oms().submit(intent("SPY", OrderSide::Buy, 10));
  ASSERT_TRUE(order);
  h.quote("SPY", 100.00, 100.02);
  ASSERT_EQ(only(h.oms(), order->client_order_id).status, OrderStatus::Filled);
  OrderEvent back;
  back.client_order_id = order->client_order_id;
  back.status = TH_STATUS_ACCEPTED;
  back.quantity = 10;
  h.oms().onOrder("paper", back);
  EXPECT_EQ(only(h.oms(), order->client_order_id).status, OrderStatus::Filled);
  EXPECT_EQ(h.oms().stats().illegal_reports, 1u);
  auto actions = h.journal(JournalKind::OrderAction);
  ASSERT_FALSE(actions.empty());
  EXPECT_EQ(actions.back()["data"]["action"], "illegal_report");
}

TEST(BrokerService, KillSwitchCancelsFlattensAndHaltsUntilResumed) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  ASSERT_TRUE(h.oms().submit(intent("SPY", OrderSide::Buy, 10)));
  h.quote("SPY", 100.00, 100.02);
  OrderIntent resting = intent("SPY", OrderSide::Buy, 5);
  resting.type = OrderType::Limit;
  resting.limit_price = 99;
  auto open = h.oms().submit(resting);
  ASSERT_TRUE(open);
  h.pump();

  auto killed = h.oms().kill(true, "test");
  h.pump();
  EXPECT_EQ(h.oms().risk().state(), TradingState::Halted);
  ASSERT_EQ(killed.canceled.size(), 1u);
  EXPECT_EQ(killed.canceled[0], open->client_order_id);
  EXPECT_EQ(only(h.oms(), open->client_order_id).status, OrderStatus::Canceled);
  ASSERT_EQ(killed.flatten.size(), 1u);
  h.quote("SPY", 100.00, 100.02);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 0);

  auto refused = h.oms().submit(intent("SPY", OrderSide::Buy, 1));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason_code, "HALTED");
  // HALTED survives a restart (an operator's state keeps whatever the day).
  h.restart();
  EXPECT_EQ(h.oms().risk().state(), TradingState::Halted);
  ASSERT_TRUE(h.oms().resume(TradingState::Active, "checked"));
  h.quote("SPY", 100.00, 100.02);
  auto accepted = h.oms().submit(intent("SPY", OrderSide::Buy, 1));
  ASSERT_TRUE(accepted);
  EXPECT_NE(accepted->status, OrderStatus::Rejected) << accepted->reason;
}

TEST(BrokerService, DailyLossBreachHaltsAndStaysHaltedAfterRestartSameDay) {
  RiskConfig risk = OmsHarness::permissiveRisk();
  risk.limits.daily_loss_limit = 500;
  risk.loss_action = LossAction::Halted;
  OmsHarness h(risk);
  h.quote("SPY", 100.00, 100.02);
  ASSERT_TRUE(h.oms().submit(intent("SPY", OrderSide::Buy, 100)));
  h.quote("SPY", 100.00, 100.02);
  h.oms().tick();
  EXPECT_EQ(h.oms().risk().state(), TradingState::Active);
  h.quote("SPY", 94.00, 94.02);  // 100 × −6 = −600
  h.oms().tick();
  EXPECT_EQ(h.oms().risk().state(), TradingState::Halted);
  EXPECT_NE(h.oms().risk().stateReason().find("daily_loss_limit"), std::string::npos) << h.oms().risk().stateReason();
  h.commit();
  h.restart();
  EXPECT_EQ(h.oms().risk().state(), TradingState::Halted);
  auto states = h.journal(JournalKind::RiskState);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states[0]["data"]["to"], "HALTED");
}

TEST(BrokerService, CrashBeforeTheFillWasHeardIsReconciledAndLegsActivated) {
  OmsHarness h;
  h.quote("AAPL", 99.98, 100.00);
  OrderIntent in = intent("AAPL", OrderSide::Buy, 30);
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 110;
  in.stop_loss_price = 90;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  h.pump();
  // The broker fills the entry; the host dies before it hears.
  th_quote q{sizeof(th_quote), "AAPL", 4, h.nowNs(), 99.98, 100.00, 1000, 1000};
  h.paper().feedQuote(q);
  h.restart();

  ASSERT_EQ(h.reports().size(), 1u);
  EXPECT_TRUE(h.reports()[0].ok) << h.reports()[0].detail;
  EXPECT_EQ(h.reports()[0].fills_added, 1u);
  EXPECT_EQ(h.reports()[0].orders_closed, 1u);
  EXPECT_EQ(only(h.oms(), entry->client_order_id).status, OrderStatus::Filled);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "AAPL"), 30);
  auto legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  for (const Order* leg : legs) EXPECT_DOUBLE_EQ(leg->intent.quantity, 30);
  h.pump();
  EXPECT_EQ(h.paperState()["orders"].size(), 3u);  // entry and both legs, each once
  EXPECT_EQ(h.oms().risk().state(), TradingState::Active);
}

TEST(BrokerService, OrdersCanceledAtTheBrokerWhileDownAreClosedAndPositionsCompared) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  OrderIntent resting = intent("SPY", OrderSide::Buy, 5);
  resting.type = OrderType::Limit;
  resting.limit_price = 99;
  auto order = h.oms().submit(resting);
  ASSERT_TRUE(order);
  h.pump();
  ASSERT_TRUE(h.paper().cancel(order->client_order_id));
  h.restart();
  EXPECT_TRUE(h.reports()[0].ok);
  EXPECT_EQ(only(h.oms(), order->client_order_id).status, OrderStatus::Canceled);
  EXPECT_NE(only(h.oms(), order->client_order_id).reason.find("reconciled"), std::string::npos);
}

TEST(BrokerService, PositionTheHostCannotExplainHaltsTradingWithTheReason) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  // An order placed at the broker behind the host's back, filled while it is down.
  th_order_request r{};
  r.struct_size = sizeof r;
  r.client_order_id = "outside-1";
  r.client_order_id_len = 9;
  r.symbol = "SPY";
  r.symbol_len = 3;
  r.asset_class = TH_ASSET_EQUITY;
  r.side = TH_SIDE_BUY;
  r.type = TH_ORDER_MARKET;
  r.time_in_force = TH_TIF_DAY;
  r.order_class = TH_CLASS_SIMPLE;
  r.quantity = 7;
  ASSERT_TRUE(h.paper().submit(r));
  th_quote q{sizeof(th_quote), "SPY", 3, h.nowNs() + kMillis, 100.00, 100.02, 1000, 1000};
  h.paper().feedQuote(q);
  // The fill is older than anything the host asks for: it cannot be explained.
  h.advance(3'600'000 * kMillis);
  h.restart();
  ASSERT_EQ(h.reports().size(), 1u);
  EXPECT_FALSE(h.reports()[0].ok);
  EXPECT_NE(h.reports()[0].detail.find("SPY: broker 7, host 0"), std::string::npos) << h.reports()[0].detail;
  EXPECT_EQ(h.oms().risk().state(), TradingState::Halted);
  EXPECT_NE(h.oms().risk().stateReason().find("reconciliation with 'paper' failed"), std::string::npos);
}

TEST(BrokerService, StoreFailureRefusesToSend) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  h.fail_commits = true;
  auto order = h.oms().submit(intent("SPY", OrderSide::Buy, 10));
  ASSERT_TRUE(order);
  EXPECT_EQ(order->status, OrderStatus::Rejected);
  EXPECT_NE(order->reason.find("not sent"), std::string::npos);
  EXPECT_FALSE(h.paperState().contains("orders") && !h.paperState()["orders"].empty());
  h.fail_commits = false;
}

TEST(BrokerService, ClientOrderIdsNeverRepeatAcrossRestarts) {
  OmsHarness h;
  h.quote("SPY", 100.00, 100.02);
  std::set<std::string> ids;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) {
      // Refused (no price yet after a restart) or sent: either way the id is spent.
      auto order = h.oms().submit(intent("SPY", OrderSide::Buy, 1, fmt::format("s{}", i)));
      ASSERT_TRUE(order);
      EXPECT_TRUE(ids.insert(order->client_order_id).second) << order->client_order_id;
      h.commit();  // as the session does before it answers
    }
    h.restart();
  }
}

}  // namespace
}  // namespace th::test

namespace th::test {
namespace {

// With the paper broker as it is (hidden = 0), brackets go to it whole and it places the legs.
TEST(BrokerServiceNativeExits, LegsAreRecordedAheadAndFollowTheBrokersReports) {
  OmsHarness h(OmsHarness::permissiveRisk(), {}, 0);
  h.bar("SPY", 100, 100.5, 99.5, 100);
  OrderIntent in = intent("SPY", OrderSide::Buy, 10);
  in.order_class = OrderClass::Bracket;
  in.take_profit_offset = 1.5;
  in.stop_loss_price = 99;
  in.exit_at_ns = h.nowNs() + 30 * 60'000 * kMillis;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->role, OrderRole::Single) << "the broker places the legs, the host does not emulate them";
  const std::string id = entry->client_order_id;
  for (const char* suffix : {".sl", ".tp", ".tx"}) {
    const Order& leg = only(h.oms(), id + suffix);
    EXPECT_TRUE(leg.native_leg);
    EXPECT_EQ(leg.status, OrderStatus::PendingNew) << suffix;
    EXPECT_EQ(leg.parent_id, id);
    EXPECT_EQ(leg.intent.side, OrderSide::Sell);
  }

  // Entry at the next bar's open 100.2; the target is set from that fill.
  h.bar("SPY", 100.2, 100.9, 99.6, 100.5);
  EXPECT_EQ(only(h.oms(), id).status, OrderStatus::Filled);
  EXPECT_EQ(only(h.oms(), id + ".tp").status, OrderStatus::Accepted);
  EXPECT_TRUE(only(h.oms(), id + ".tp").reason.empty()) << "placed: no longer held";
  EXPECT_DOUBLE_EQ(only(h.oms(), id + ".tp").intent.limit_price, 101.7);
  EXPECT_DOUBLE_EQ(only(h.oms(), id + ".sl").intent.stop_price, 99);
  EXPECT_DOUBLE_EQ(only(h.oms(), id + ".sl").intent.quantity, 10);

  // A bar reaching both: the stop fills, the others are canceled; flat, no over-fill.
  h.bar("SPY", 100.5, 102, 98.5, 100);
  EXPECT_EQ(only(h.oms(), id + ".sl").status, OrderStatus::Filled);
  EXPECT_EQ(only(h.oms(), id + ".tp").status, OrderStatus::Canceled);
  EXPECT_EQ(only(h.oms(), id + ".tx").status, OrderStatus::Canceled);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 0);
  EXPECT_NEAR(h.oms().book().strategyPosition("s1", "SPY")->realised, (99 - 100.2) * 10, 1e-6);
  EXPECT_EQ(h.oms().stats().overfills, 0u);
  EXPECT_EQ(h.oms().stats().adopted, 0u) << "every leg report matched a recorded leg";
}

TEST(BrokerServiceNativeExits, AHostThatCommitsAtGroupEndsGetsEachOrdersLastRecord) {
  OmsHarness h(OmsHarness::permissiveRisk(), {}, 0);
  h.deferred_commits = true;
  h.bar("SPY", 100, 100.5, 99.5, 100);
  OrderIntent in = intent("SPY", OrderSide::Buy, 10);
  in.order_class = OrderClass::Bracket;
  in.take_profit_offset = 1.5;
  in.stop_loss_price = 99;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry) << entry.error().message;
  const std::string id = entry->client_order_id;
  // Nothing was written as the legs were recorded: a commit that skips the
  // service's records has none of them.
  ASSERT_TRUE(h.store().commit(h.batch()));
  auto early = h.store().get(Family::Orders, id + ".sl");
  ASSERT_TRUE(early);
  EXPECT_FALSE(*early) << "the leg's record was written before the group's end";

  // Entry, target placed, then the stop: each order changes several times.
  h.bar("SPY", 100.2, 100.9, 99.6, 100.5);
  h.bar("SPY", 100.5, 102, 98.5, 100);
  ASSERT_EQ(only(h.oms(), id + ".sl").status, OrderStatus::Filled);
  h.commit();
  size_t checked = 0;
  for (const Order* order : h.oms().orders(everything())) {
    auto stored = h.store().get(Family::Orders, order->client_order_id);
    ASSERT_TRUE(stored && *stored) << order->client_order_id;
    EXPECT_EQ(**stored, encodeOrder(*order)) << "not the last record of " << order->client_order_id;
    ++checked;
  }
  EXPECT_EQ(checked, 3u) << "the entry and its two legs";
  auto risk = h.store().get(Family::RiskState, "risk");
  ASSERT_TRUE(risk && *risk);
  EXPECT_EQ(**risk, h.oms().risk().encode()) << "the risk state after the losing exit";

  // What a restart reads back is that last state.
  h.restart();
  EXPECT_EQ(only(h.oms(), id + ".sl").status, OrderStatus::Filled);
  EXPECT_EQ(only(h.oms(), id + ".tp").status, OrderStatus::Canceled);
  EXPECT_EQ(only(h.oms(), id).status, OrderStatus::Filled);
  EXPECT_NEAR(h.oms().book().strategyPosition("s1", "SPY")->realised, (99 - 100.2) * 10, 1e-6);
}

TEST(BrokerServiceNativeExits, AnEntryEndingUnfilledClosesItsHeldLegs) {
  OmsHarness h(OmsHarness::permissiveRisk(), {}, 0);
  h.bar("SPY", 100, 100.5, 99.5, 100);
  OrderIntent in = intent("SPY", OrderSide::Buy, 10);
  in.type = OrderType::Limit;
  in.limit_price = 95;
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 97;
  in.stop_loss_price = 94;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  h.pump();
  const std::string id = entry->client_order_id;
  ASSERT_TRUE(h.oms().cancel(id));
  h.pump();
  EXPECT_EQ(only(h.oms(), id).status, OrderStatus::Canceled);
  for (const char* suffix : {".sl", ".tp"}) {
    EXPECT_EQ(only(h.oms(), id + suffix).status, OrderStatus::Canceled) << suffix;
    EXPECT_NE(only(h.oms(), id + suffix).reason.find("without a fill"), std::string::npos);
  }
  OrderFilter open;
  EXPECT_TRUE(h.oms().orders(open).empty());
}

TEST(BrokerServiceNativeExits, HeldLegsSurviveARestartAndReconcile) {
  OmsHarness h(OmsHarness::permissiveRisk(), {}, 0);
  h.bar("SPY", 100, 100.5, 99.5, 100);
  OrderIntent in = intent("SPY", OrderSide::Buy, 10);
  in.type = OrderType::Limit;
  in.limit_price = 99;
  in.order_class = OrderClass::Bracket;
  in.take_profit_price = 101;
  in.stop_loss_price = 98;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  h.pump();
  const std::string id = entry->client_order_id;
  h.restart();
  for (const auto& report : h.reports()) EXPECT_TRUE(report.ok) << report.detail;
  EXPECT_EQ(only(h.oms(), id + ".sl").status, OrderStatus::PendingNew) << "held, not lost";
  h.bar("SPY", 99.5, 99.8, 98.9, 99.2);  // the entry fills at 99 and the legs are placed
  EXPECT_EQ(only(h.oms(), id).status, OrderStatus::Filled);
  EXPECT_EQ(only(h.oms(), id + ".sl").status, OrderStatus::Accepted);
  EXPECT_EQ(only(h.oms(), id + ".tp").status, OrderStatus::Accepted);
}

TEST(BrokerService, EmulatedBracketMeasuresOffsetsFromTheFillAndExitsAtItsTime) {
  OmsHarness h;  // the paper broker's native exits hidden: the host emulates
  h.quote("AAPL", 99.98, 100.00);
  h.oms().tick();  // ticks before the bracket exists must not make it miss its time
  OrderIntent in = intent("AAPL", OrderSide::Buy, 10);
  in.order_class = OrderClass::Bracket;
  in.take_profit_offset = 5;
  in.stop_loss_offset = 2;
  in.exit_at_ns = h.nowNs() + 60'000 * kMillis;
  auto entry = h.oms().submit(in);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->role, OrderRole::Entry);
  h.quote("AAPL", 100.00, 100.02);  // fills at the ask, 100.02
  auto legs = legsOf(h.oms(), entry->client_order_id);
  ASSERT_EQ(legs.size(), 2u);
  for (const Order* leg : legs) {
    if (leg->role == OrderRole::TakeProfit) {
      EXPECT_DOUBLE_EQ(leg->intent.limit_price, 105.02);
    } else {
      EXPECT_DOUBLE_EQ(leg->intent.stop_price, 98.02);
    }
  }
  h.advance(60'000 * kMillis);
  h.oms().tick();  // due: the legs are canceled first
  h.pump();
  for (const Order* leg : legsOf(h.oms(), entry->client_order_id)) EXPECT_EQ(leg->status, OrderStatus::Canceled);
  h.oms().tick();  // then the rest is closed at the market
  h.pump();
  h.quote("AAPL", 100.50, 100.52);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "AAPL"), 0);
  size_t exits = 0;
  for (const Order* o : h.oms().orders(everything())) {
    if (o->role == OrderRole::TimeExit) {
      ++exits;
      EXPECT_EQ(o->status, OrderStatus::Filled);
      EXPECT_EQ(o->parent_id, entry->client_order_id);
    }
  }
  EXPECT_EQ(exits, 1u);
  h.oms().tick();
  h.pump();
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "AAPL"), 0) << "the time exit is sent once";
}

// The service marks each symbol's positions from a list it keeps between
// marks; a position that opens later, a second strategy's, and the books a
// restart reads back must all be marked too.
TEST(BrokerService, MarksReachPositionsOpenedAfterTheSymbolWasFirstMarked) {
  OmsHarness h;
  h.quote("SPY", 99.99, 100.01);  // marked while nothing is held
  h.quote("SPY", 99.99, 100.01);
  ASSERT_TRUE(h.oms().submit(intent("SPY", OrderSide::Buy, 10)));
  h.pump();
  h.quote("SPY", 99.99, 100.01);  // fills at the ask
  ASSERT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 10);
  h.quote("SPY", 104.99, 105.01);
  EXPECT_DOUBLE_EQ(h.oms().book().accountPosition("SPY")->last_price, 105.00);
  EXPECT_NEAR(h.oms().book().accountSummary().unrealised, (105.00 - 100.01) * 10, 1e-9);

  OrderIntent other = intent("SPY", OrderSide::Buy, 5);
  other.strategy = "s2";
  ASSERT_TRUE(h.oms().submit(other));
  h.pump();
  h.quote("SPY", 104.99, 105.01);
  ASSERT_NE(h.oms().book().strategyPosition("s2", "SPY"), nullptr);
  h.quote("SPY", 109.99, 110.01);
  EXPECT_DOUBLE_EQ(h.oms().book().strategyPosition("s2", "SPY")->last_price, 110.00);
  EXPECT_DOUBLE_EQ(h.oms().book().strategyPosition("s1", "SPY")->last_price, 110.00);

  h.restart();
  h.quote("SPY", 119.99, 120.01);
  EXPECT_DOUBLE_EQ(h.oms().book().accountPosition("SPY")->last_price, 120.00);
  EXPECT_DOUBLE_EQ(h.oms().book().strategyPosition("s2", "SPY")->last_price, 120.00);
  EXPECT_NEAR(h.oms().book().accountSummary().unrealised, (120.00 - 100.01) * 10 + (120.00 - 105.01) * 5, 1e-6);
}

// Monday 2026-11-16's SPY 500 call, assigned: shares bought at 495 and calls
// sold at 2.00 by the books a test names, SPY's last price of the day 503
// (3.00 in the money), and the next morning's first quote, which settles.
struct AssignedCall {
  static constexpr const char* kCall = "SPY261116C00500000";
  AssignedCall() { h.quote("SPY", 495.00, 495.00); }
  void buyShares(const std::string& book, double shares) {
    submit(intent("SPY", OrderSide::Buy, shares, book));
    h.quote("SPY", 495.00, 495.00);
  }
  void sellCalls(const std::string& book, double contracts) { tradeContract(book, kCall, OrderSide::Sell, contracts); }
  // At 2.00, like the calls.
  void tradeContract(const std::string& book, const std::string& contract, OrderSide side, double contracts) {
    h.quote(contract, 2.00, 2.00);
    OrderIntent order = intent(contract, side, contracts, book);
    order.asset_class = AssetClass::Option;
    submit(std::move(order));
    h.quote(contract, 2.00, 2.00);
  }
  // covered_call holds 200 shares and sells 2 calls; the trader buys `calls` by hand.
  void coveredCallsBoughtByHand(double calls) {
    buyShares("covered_call", 200);
    sellCalls("covered_call", 2);
    tradeContract("", kCall, OrderSide::Buy, calls);
  }
  // The first minute after 16:00 of the expiry day, with SPY's last price at `spot`.
  void closeTheDay(double spot) {
    h.quote("SPY", spot, spot);
    h.advance(fromExchangeTime(20261116, 16, 0, 30) - h.nowNs());
    h.oms().tick();
    h.commit();
  }
  void settle() {
    h.quote("SPY", 503.00, 503.00);
    h.advance(fromExchangeTime(20261117, 9, 30) - h.nowNs());
    h.quote("SPY", 504.00, 504.00);
  }
  void submit(OrderIntent in) {
    auto order = h.oms().submit(std::move(in));
    ASSERT_TRUE(order) << order.error().message;
    ASSERT_NE(order->status, OrderStatus::Rejected) << order->reason;
    h.pump();
  }
  OmsHarness h{OmsHarness::permissiveRisk(), {{"starting_cash", 200000}}};
};

// An option held to its expiry is settled by the broker with fills that come
// from no order. They are booked to the strategies that hold the contract,
// not to the manual book. An assignment's shares come out of the holder's
// own shares first, then out of the shares bought by hand: the strategy's
// P&L and the covered-call check see the lots called away.
TEST(BrokerService, AnAssignedCallIsBookedToTheStrategiesThatSoldItWithItsShares) {
  AssignedCall day;
  OmsHarness& h = day.h;
  const std::string call = AssignedCall::kCall;
  // covered_call holds 100 shares and sells 2 calls; the trader holds 200 and sells 1 by hand.
  day.buyShares("covered_call", 100);
  day.buyShares("", 200);
  day.sellCalls("covered_call", 2);
  day.sellCalls("", 1);
  ASSERT_DOUBLE_EQ(accountQty(h.oms(), call), -3);
  day.settle();

  const PositionBook& book = h.oms().book();
  const Position* strategy_call = book.strategyPosition("covered_call", call);
  const Position* strategy_shares = book.strategyPosition("covered_call", "SPY");
  ASSERT_NE(strategy_call, nullptr);
  ASSERT_NE(strategy_shares, nullptr);
  EXPECT_DOUBLE_EQ(strategy_call->quantity, 0);
  EXPECT_NEAR(strategy_call->realised, 2 * 2.00 * 100, 1e-9) << "the premium kept";
  EXPECT_DOUBLE_EQ(strategy_shares->quantity, 0) << "its 100 shares were called away";
  EXPECT_NEAR(strategy_shares->realised, 100 * (500.00 - 495.00), 1e-9) << "at the strike, not at 503";
  EXPECT_DOUBLE_EQ(book.strategyPosition("", call)->quantity, 0);
  EXPECT_DOUBLE_EQ(book.strategyPosition("", "SPY")->quantity, 0) << "the other 100 it owed came from the trader's";
  EXPECT_NEAR(book.strategyPosition("", "SPY")->realised, 200 * 5.00, 1e-9);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 0);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), call), 0);

  // Stored with what they are, one record a book; the API's listeners hear of them.
  std::vector<nlohmann::json> settled;
  ASSERT_TRUE(h.store().scan(Family::Fills, "", [&](std::string_view, std::string_view value) {
    auto fill = nlohmann::json::parse(value);
    if (fill.contains("activity")) settled.push_back(fill);
    return true;
  }));
  ASSERT_EQ(settled.size(), 4u);
  EXPECT_EQ(settled[0]["activity"], TH_FILL_ASSIGNED);
  EXPECT_EQ(settled[0]["symbol"], "SPY");
  EXPECT_EQ(settled[0]["strategy"], "");
  EXPECT_EQ(settled[0]["quantity"], 200.0);
  EXPECT_EQ(settled[1]["strategy"], "covered_call");
  EXPECT_EQ(settled[1]["quantity"], 100.0);
  EXPECT_EQ(settled[1]["fill_id"], settled[0]["fill_id"].get<std::string>() + "/covered_call");
  EXPECT_EQ(settled[2]["symbol"], call);
  EXPECT_EQ(settled[2]["strategy"], "covered_call");
  EXPECT_EQ(settled[2]["quantity"], 2.0);
  EXPECT_EQ(settled[2]["price"], 0.0);
  EXPECT_EQ(settled[3]["strategy"], "");
  EXPECT_EQ(settled[3]["quantity"], 1.0);
  const auto* shares = h.oms().settlementShares(settled[1]["fill_id"].get<std::string>().substr(
      0, settled[1]["fill_id"].get<std::string>().find('/')));
  ASSERT_NE(shares, nullptr);
  ASSERT_EQ(shares->size(), 2u);
  EXPECT_EQ((*shares)[1].strategy, "covered_call");
  EXPECT_DOUBLE_EQ((*shares)[1].quantity, 100);
  const bool heard = std::any_of(h.messages.begin(), h.messages.end(), [](const std::string& m) {
    return m.find(R"("activity":"assigned")") != std::string::npos;
  });
  EXPECT_TRUE(heard);

  // A restart books the stored fills again (a contract closed at 0
  // included) and the broker's list of fills adds nothing.
  h.restart();
  EXPECT_NEAR(h.oms().book().strategyPosition("covered_call", call)->realised, 400, 1e-9);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 0);
  ASSERT_FALSE(h.reports().empty());
  EXPECT_EQ(h.reports()[0].fills_added, 0u);
}

// What a holder owes beyond its own shares and the trader's opens a short in
// its own book: another strategy's shares are left to that strategy's own
// orders. The shares that moved are marked at the market, not at the strike.
TEST(BrokerService, AnAssignmentNeverTakesAnotherStrategysShares) {
  AssignedCall day;
  OmsHarness& h = day.h;
  day.buyShares("covered_call", 100);
  day.buyShares("other", 100);
  day.sellCalls("covered_call", 2);  // covered by the account's 200 shares
  day.settle();

  const PositionBook& book = h.oms().book();
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 0);
  EXPECT_DOUBLE_EQ(book.strategyPosition("other", "SPY")->quantity, 100) << "not covered_call's to deliver";
  EXPECT_DOUBLE_EQ(book.strategyPosition("other", "SPY")->realised, 0);
  const Position* owed = book.strategyPosition("covered_call", "SPY");
  EXPECT_DOUBLE_EQ(owed->quantity, -100) << "the call it sold beyond its own shares";
  EXPECT_NEAR(owed->realised, 100 * (500.00 - 495.00), 1e-9);
  EXPECT_DOUBLE_EQ(owed->last_price, 504.00) << "marked at the market";
  EXPECT_DOUBLE_EQ(book.strategyPosition("other", "SPY")->last_price, 504.00);
  EXPECT_NEAR(book.strategySummary("covered_call").unrealised, -100 * (504.00 - 500.00), 1e-9);
}

// A strategy short calls the trader bought back by hand: the account is flat,
// so the broker settles nothing at the expiry, yet each book still holds its
// side. After 16:00 the two sides are closed against each other at the
// contract's worth (3.00 in the money): the strategy keeps its shares, no
// shares move in any book, and each book's P&L is the contract's.
TEST(BrokerService, AContractHeldBothWaysAcrossBooksIsClosedAgainstItselfAtTheExpiry) {
  AssignedCall day;
  OmsHarness& h = day.h;
  const std::string call = AssignedCall::kCall;
  day.coveredCallsBoughtByHand(2);
  ASSERT_DOUBLE_EQ(accountQty(h.oms(), call), 0);
  const PositionBook& book = h.oms().book();

  h.quote("SPY", 503.00, 503.00);
  h.oms().tick();
  EXPECT_DOUBLE_EQ(book.strategyPosition("covered_call", call)->quantity, -2) << "not before the expiry";
  EXPECT_TRUE(h.service_fills.empty());

  day.closeTheDay(503.00);
  const Position* strategy_call = book.strategyPosition("covered_call", call);
  const Position* by_hand = book.strategyPosition("", call);
  EXPECT_DOUBLE_EQ(strategy_call->quantity, 0);
  EXPECT_NEAR(strategy_call->realised, 2 * (2.00 - 3.00) * 100, 1e-9) << "bought back at 3.00, sold at 2.00";
  EXPECT_DOUBLE_EQ(by_hand->quantity, 0);
  EXPECT_NEAR(by_hand->realised, 2 * (3.00 - 2.00) * 100, 1e-9);
  EXPECT_DOUBLE_EQ(book.strategyPosition("covered_call", "SPY")->quantity, 200) << "no shares moved";
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 200);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), call), 0);
  EXPECT_NEAR(book.accountSummary().realised, 0, 1e-9) << "the account closed nothing";

  // The strategies hear of it as of a broker's settlement, one fill a book.
  ASSERT_EQ(h.service_fills.size(), 2u);
  const FillEvent& sold = h.service_fills[0];
  const FillEvent& bought = h.service_fills[1];
  EXPECT_EQ(sold.activity, kFillOffset);
  EXPECT_EQ(sold.side, TH_SIDE_SELL);
  EXPECT_DOUBLE_EQ(sold.price, 3.00);
  EXPECT_EQ(sold.ts_ns, fromExchangeTime(20261116, 16, 0));
  EXPECT_TRUE(sold.client_order_id.empty());
  EXPECT_EQ(bought.side, TH_SIDE_BUY);
  EXPECT_DOUBLE_EQ(bought.quantity, 2);
  EXPECT_EQ(bought.symbol, call);
  const auto* shares = h.oms().settlementShares(bought.fill_id);
  ASSERT_NE(shares, nullptr);
  ASSERT_EQ(shares->size(), 1u);
  EXPECT_EQ((*shares)[0].strategy, "covered_call");
  EXPECT_DOUBLE_EQ((*shares)[0].quantity, 2);
  EXPECT_TRUE(std::any_of(h.messages.begin(), h.messages.end(), [](const std::string& m) {
    return m.find(R"("activity":"offset")") != std::string::npos;
  }));

  // Once only; and a restart books the stored fills again to the same books.
  h.advance(10 * 60'000'000'000LL);
  h.oms().tick();
  EXPECT_EQ(h.service_fills.size(), 2u);
  h.restart();
  EXPECT_NEAR(h.oms().book().strategyPosition("covered_call", call)->realised, -200, 1e-9);
  EXPECT_DOUBLE_EQ(h.oms().book().strategyPosition("", call)->quantity, 0);
  h.oms().tick();
  EXPECT_EQ(h.service_fills.size(), 2u);
}

// The trader holds one call more than the strategy sold: two are offset (the
// trader's book first), and the one the account holds is the broker's to
// settle, which exercises it into the trader's book the next morning.
TEST(BrokerService, WhatTheAccountStillHoldsAfterAnOffsetIsTheBrokersToSettle) {
  AssignedCall day;
  OmsHarness& h = day.h;
  const std::string call = AssignedCall::kCall;
  day.coveredCallsBoughtByHand(3);
  ASSERT_DOUBLE_EQ(accountQty(h.oms(), call), 1);
  day.closeTheDay(503.00);
  const PositionBook& book = h.oms().book();
  EXPECT_DOUBLE_EQ(book.strategyPosition("covered_call", call)->quantity, 0);
  EXPECT_DOUBLE_EQ(book.strategyPosition("", call)->quantity, 1) << "the account's call, left to the broker";
  ASSERT_EQ(h.service_fills.size(), 2u);
  EXPECT_DOUBLE_EQ(h.service_fills[0].quantity, 2);

  day.settle();
  EXPECT_DOUBLE_EQ(book.strategyPosition("", call)->quantity, 0);
  EXPECT_DOUBLE_EQ(book.strategyPosition("", "SPY")->quantity, 100) << "exercised at the strike";
  EXPECT_DOUBLE_EQ(book.strategyPosition("covered_call", "SPY")->quantity, 200) << "not called away";
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), call), 0);
  EXPECT_DOUBLE_EQ(accountQty(h.oms(), "SPY"), 300);
  h.oms().tick();
  EXPECT_EQ(h.service_fills.size(), 2u);
}

// Out of the money both sides close at 0: the buyer loses its premium, the
// seller keeps it.
TEST(BrokerService, AContractHeldBothWaysOutOfTheMoneyIsClosedAtZero) {
  AssignedCall day;
  OmsHarness& h = day.h;
  const std::string put = "SPY261116P00490000";
  day.tradeContract("s1", put, OrderSide::Buy, 1);
  day.tradeContract("s2", put, OrderSide::Sell, 1);
  day.closeTheDay(495.00);
  const PositionBook& book = h.oms().book();
  EXPECT_DOUBLE_EQ(book.strategyPosition("s1", put)->quantity, 0);
  EXPECT_NEAR(book.strategyPosition("s1", put)->realised, -200, 1e-9);
  EXPECT_NEAR(book.strategyPosition("s2", put)->realised, 200, 1e-9);
  ASSERT_EQ(h.service_fills.size(), 2u);
  EXPECT_DOUBLE_EQ(h.service_fills[0].price, 0);
  EXPECT_EQ(fillActivityName(h.service_fills[0].activity), "offset");
}

}  // namespace
}  // namespace th::test
