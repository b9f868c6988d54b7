#include <gtest/gtest.h>

#include <th/plugin.h>

#include <nlohmann/json.hpp>

#include "store/journal_codec.h"

namespace th {
namespace {

nlohmann::json roundTrip(const Event& event) {
  auto encoded = encodeEvent(event, "synthetic");
  EXPECT_TRUE(encoded);
  JournalRecord record{7, static_cast<uint16_t>(encoded->kind), 1'700'000'000'000'000'000, encoded->payload};
  return nlohmann::json::parse(journalRecordJson(record));
}

TEST(JournalCodec, MarketEventsDecodeToTheirFields) {
  auto trade = roundTrip(Event{1, TradeEvent{Symbol("SPY"), 5, 590.25, 300, 77}});
  EXPECT_EQ(trade["kind"], "trade");
  EXPECT_EQ(trade["seq"], 7);
  EXPECT_EQ(trade["source"], "synthetic");
  EXPECT_EQ(trade["symbol"], "SPY");
  EXPECT_EQ(trade["price"], 590.25);
  EXPECT_EQ(trade["sequence"], 77);
  auto bar = roundTrip(Event{1, BarEvent{Symbol("QQQ"), 1, 0, 60'000'000'000, 1, 3, 0.5, 2, 1000, 1.5, 9}});
  EXPECT_EQ(bar["kind"], "bar");
  EXPECT_EQ(bar["high"], 3);
  EXPECT_EQ(bar["duration_s"], 60);
  EXPECT_EQ(bar["trade_count"], 9);
}

TEST(JournalCodec, OrderAndFillEventsKeepTheirIds) {
  OrderEvent order;
  order.client_order_id = "TH-20261120-000001";
  order.symbol = "SPY";
  order.status = 4;
  order.filled_quantity = 100;
  order.reason = "filled";
  auto o = roundTrip(Event{2, order});
  EXPECT_EQ(o["client_order_id"], "TH-20261120-000001");
  EXPECT_EQ(o["filled_quantity"], 100);
  EXPECT_EQ(o["reason"], "filled");
  FillEvent fill;
  fill.fill_id = "F-9";
  fill.quantity = 2;
  fill.multiplier = 100;
  auto f = roundTrip(Event{2, fill});
  EXPECT_EQ(f["fill_id"], "F-9");
  EXPECT_EQ(f["multiplier"], 100);
  EXPECT_FALSE(f.contains("activity")) << "a trade's record is as it always was";
  // An assignment's shares say what they are and which contract moved them.
  fill.activity = TH_FILL_ASSIGNED;
  fill.symbol = "SPY";
  fill.contract = "SPY261120C00590000";
  auto settled = roundTrip(Event{2, fill});
  EXPECT_EQ(settled["activity"], "assigned");
  EXPECT_EQ(settled["contract"], "SPY261120C00590000");
  EXPECT_EQ(settled["symbol"], "SPY");
  // The host's own offset of an expired contract held both ways across books.
  fill.activity = kFillOffset;
  fill.symbol = "SPY261120C00590000";
  fill.contract.clear();
  auto offset = roundTrip(Event{0, fill});
  EXPECT_EQ(offset["activity"], "offset");
  EXPECT_EQ(offset["symbol"], "SPY261120C00590000");
}

TEST(JournalCodec, TruncatedPayloadIsReportedNotCrashed) {
  auto encoded = encodeEvent(Event{1, TradeEvent{Symbol("SPY"), 5, 1, 1, 1}}, "x");
  JournalRecord record{1, static_cast<uint16_t>(encoded->kind), 0, encoded->payload.substr(0, 10)};
  auto j = nlohmann::json::parse(journalRecordJson(record));
  EXPECT_NE(j["error"].get<std::string>().find("truncated"), std::string::npos);
}

TEST(JournalCodec, TasksAreNotJournalled) {
  EXPECT_FALSE(encodeEvent(Event{0, TaskEvent{[] {}}}, "host"));
}

}  // namespace
}  // namespace th
