#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "broker/positions.h"
#include "th/plugin.h"

namespace th {
namespace {

struct FillSpec {
  std::string id, strategy, symbol;
  int32_t side;
  double quantity, price;
  double commission = 0;
  double multiplier = 1;
  int32_t asset_class = TH_ASSET_EQUITY;
};

FillInput makeFill(const FillSpec& spec) {
  FillInput fill;
  fill.fill_id = spec.id;
  fill.strategy = spec.strategy;
  fill.symbol = spec.symbol;
  fill.side = spec.side;
  fill.quantity = spec.quantity;
  fill.price = spec.price;
  fill.commission = spec.commission;
  fill.multiplier = spec.multiplier;
  fill.asset_class = spec.asset_class;
  fill.ts_ns = 1'700'000'000'000'000'000;
  return fill;
}

// Fill ids are numbered so each test can write fills as one line each.
class Book {
 public:
  FillResult buy(std::string_view strategy, std::string_view symbol, double quantity, double price,
                 double commission = 0) {
    return apply(TH_SIDE_BUY, strategy, symbol, quantity, price, commission);
  }
  FillResult sell(std::string_view strategy, std::string_view symbol, double quantity, double price,
                  double commission = 0) {
    return apply(TH_SIDE_SELL, strategy, symbol, quantity, price, commission);
  }
  FillResult apply(int32_t side, std::string_view strategy, std::string_view symbol, double quantity, double price,
                   double commission) {
    auto result = book.apply(makeFill({"F" + std::to_string(++next_id_), std::string(strategy), std::string(symbol),
                                       side, quantity, price, commission}));
    EXPECT_TRUE(result) << (result ? "" : result.error().message);
    return result.value_or(FillResult::Duplicate);
  }
  const Position& account(std::string_view symbol) {
    const Position* position = book.accountPosition(symbol);
    EXPECT_NE(position, nullptr) << symbol;
    return position ? *position : empty_;
  }
  const Position& strategy(std::string_view name, std::string_view symbol) {
    const Position* position = book.strategyPosition(name, symbol);
    EXPECT_NE(position, nullptr) << name << " " << symbol;
    return position ? *position : empty_;
  }

  PositionBook book;

 private:
  int next_id_ = 0;
  Position empty_;
};

TEST(PositionBook, AddingToAPositionAveragesTheCostByQuantity) {
  Book b;
  b.buy("s", "AAPL", 100, 10);
  b.buy("s", "AAPL", 300, 12);
  EXPECT_DOUBLE_EQ(b.account("AAPL").quantity, 400);
  EXPECT_DOUBLE_EQ(b.account("AAPL").average_cost, 11.5);
  EXPECT_DOUBLE_EQ(b.account("AAPL").realised, 0);

  b.sell("s", "TSLA", 100, 20);
  b.sell("s", "TSLA", 100, 22);
  EXPECT_DOUBLE_EQ(b.account("TSLA").quantity, -200);
  EXPECT_DOUBLE_EQ(b.account("TSLA").average_cost, 21);
  EXPECT_DOUBLE_EQ(b.account("TSLA").realised, 0);
}

TEST(PositionBook, ReducingALongRealisesAgainstTheAverageCost) {
  Book b;
  b.buy("s", "AAPL", 100, 10);
  b.sell("s", "AAPL", 40, 12);
  EXPECT_DOUBLE_EQ(b.account("AAPL").realised, 80);
  EXPECT_DOUBLE_EQ(b.account("AAPL").quantity, 60);
  EXPECT_DOUBLE_EQ(b.account("AAPL").average_cost, 10);  // a reduction keeps the cost of what is left

  b.sell("s", "AAPL", 60, 9);
  EXPECT_DOUBLE_EQ(b.account("AAPL").realised, 80 - 60);
  EXPECT_DOUBLE_EQ(b.account("AAPL").quantity, 0);
  EXPECT_DOUBLE_EQ(b.account("AAPL").average_cost, 0);
}

TEST(PositionBook, ReducingAShortRealisesAgainstTheAverageCost) {
  Book b;
  b.sell("s", "TSLA", 100, 50);
  b.buy("s", "TSLA", 30, 45);
  EXPECT_DOUBLE_EQ(b.account("TSLA").realised, 150);
  EXPECT_DOUBLE_EQ(b.account("TSLA").quantity, -70);
  EXPECT_DOUBLE_EQ(b.account("TSLA").average_cost, 50);

  b.buy("s", "TSLA", 70, 52);
  EXPECT_DOUBLE_EQ(b.account("TSLA").realised, 150 - 140);
  EXPECT_DOUBLE_EQ(b.account("TSLA").quantity, 0);
  EXPECT_DOUBLE_EQ(b.account("TSLA").average_cost, 0);
}

TEST(PositionBook, AFillThroughZeroRealisesTheOldSideAndOpensTheNewAtTheFillPrice) {
  Book b;
  b.buy("s", "AAPL", 100, 10);
  b.sell("s", "AAPL", 150, 12);
  EXPECT_DOUBLE_EQ(b.account("AAPL").realised, 200);
  EXPECT_DOUBLE_EQ(b.account("AAPL").quantity, -50);
  EXPECT_DOUBLE_EQ(b.account("AAPL").average_cost, 12);

  b.buy("s", "AAPL", 80, 11);  // covers 50 at a profit of 1, opens 30 long at 11
  EXPECT_DOUBLE_EQ(b.account("AAPL").realised, 250);
  EXPECT_DOUBLE_EQ(b.account("AAPL").quantity, 30);
  EXPECT_DOUBLE_EQ(b.account("AAPL").average_cost, 11);
}

TEST(PositionBook, FractionalSharesThatCloseAPositionLeaveItFlat) {
  Book b;
  b.buy("s", "AAPL", 0.1, 10);
  b.buy("s", "AAPL", 0.2, 10);
  b.sell("s", "AAPL", 0.3, 11);
  EXPECT_EQ(b.account("AAPL").quantity, 0);
  EXPECT_EQ(b.account("AAPL").average_cost, 0);
  EXPECT_NEAR(b.account("AAPL").realised, 0.3, 1e-12);
}

TEST(PositionBook, OptionsApplyTheMultiplierToProfitAndExposure) {
  PositionBook book;
  auto option = [](std::string id, int32_t side, double quantity, double price) {
    return makeFill(
        {std::move(id), "s", "SPY261218C00600000", side, quantity, price, 0.65 * quantity, 100, TH_ASSET_OPTION});
  };
  ASSERT_TRUE(book.apply(option("1", TH_SIDE_BUY, 2, 1.50)));
  ASSERT_TRUE(book.apply(option("2", TH_SIDE_SELL, 2, 2.25)));
  const Position* position = book.accountPosition("SPY261218C00600000");
  ASSERT_NE(position, nullptr);
  EXPECT_DOUBLE_EQ(position->realised, 150);  // 0.75 x 2 contracts x 100
  EXPECT_DOUBLE_EQ(position->commissions, 2.6);
  EXPECT_EQ(position->asset_class, TH_ASSET_OPTION);

  ASSERT_TRUE(book.apply(option("3", TH_SIDE_BUY, 3, 1.00)));
  book.mark("SPY261218C00600000", 1.20);
  EXPECT_NEAR(position->unrealised(), 60, 1e-9);
  EXPECT_NEAR(book.accountSummary().gross_exposure, 360, 1e-9);
}

TEST(PositionBook, CommissionsAreKeptApartFromRealisedAndTakenOffInNet) {
  Book b;
  b.buy("s", "AAPL", 100, 10, 1.0);
  b.sell("s", "AAPL", 100, 11, 1.5);
  const Position& position = b.account("AAPL");
  EXPECT_DOUBLE_EQ(position.realised, 100);
  EXPECT_DOUBLE_EQ(position.commissions, 2.5);
  EXPECT_DOUBLE_EQ(position.realisedNet(), 97.5);
  PnlSummary summary = b.book.accountSummary();
  EXPECT_DOUBLE_EQ(summary.realised, 100);
  EXPECT_DOUBLE_EQ(summary.commissions, 2.5);
  EXPECT_DOUBLE_EQ(summary.net, 97.5);
}

TEST(PositionBook, MarkingGivesUnrealisedProfitForLongsAndShorts) {
  Book b;
  b.buy("s", "AAPL", 100, 10);
  b.sell("s", "TSLA", 50, 20, 1.0);
  b.book.mark("AAPL", 12);
  b.book.mark("TSLA", 22);
  EXPECT_DOUBLE_EQ(b.account("AAPL").unrealised(), 200);
  EXPECT_DOUBLE_EQ(b.account("TSLA").unrealised(), -100);
  EXPECT_DOUBLE_EQ(b.strategy("s", "TSLA").unrealised(), -100);

  PnlSummary summary = b.book.accountSummary();
  EXPECT_DOUBLE_EQ(summary.unrealised, 100);
  EXPECT_DOUBLE_EQ(summary.gross_exposure, 100 * 12 + 50 * 22);
  EXPECT_DOUBLE_EQ(summary.net, 100 - 1.0);

  b.book.mark("AAPL", 9);
  EXPECT_DOUBLE_EQ(b.account("AAPL").unrealised(), -100);
}

TEST(PositionBook, BadMarksAreIgnored) {
  Book b;
  b.buy("s", "AAPL", 100, 10);
  b.book.mark("AAPL", 11);
  b.book.mark("AAPL", std::numeric_limits<double>::quiet_NaN());
  b.book.mark("AAPL", 0);
  b.book.mark("AAPL", -5);
  b.book.mark("AAPL", std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(b.account("AAPL").last_price, 11);
  EXPECT_DOUBLE_EQ(b.book.accountSummary().unrealised, 100);
}

TEST(PositionBook, TheAccountIsTheSumOfItsStrategies) {
  Book b;
  b.buy("momentum", "SPY", 100, 10, 1);
  b.buy("meanrev", "SPY", 50, 13, 1);
  b.buy("", "SPY", 10, 12, 1);  // manual
  EXPECT_DOUBLE_EQ(b.account("SPY").quantity, 160);
  EXPECT_DOUBLE_EQ(b.strategy("momentum", "SPY").quantity, 100);
  EXPECT_DOUBLE_EQ(b.strategy("meanrev", "SPY").quantity, 50);
  EXPECT_DOUBLE_EQ(b.strategy(kManualStrategy, "SPY").quantity, 10);
  EXPECT_DOUBLE_EQ(b.account("SPY").average_cost, (1000 + 650 + 120) / 160.0);

  b.sell("momentum", "SPY", 100, 12, 1);
  b.book.mark("SPY", 14);
  EXPECT_DOUBLE_EQ(b.strategy("momentum", "SPY").realised, 200);
  EXPECT_DOUBLE_EQ(b.strategy("meanrev", "SPY").unrealised(), 50);

  PnlSummary account = b.book.accountSummary();
  PnlSummary sum;
  for (const auto& name : b.book.strategies()) {
    PnlSummary part = b.book.strategySummary(name);
    sum.commissions += part.commissions;
    sum.net += part.net;
    sum.gross_exposure += part.gross_exposure;
  }
  EXPECT_DOUBLE_EQ(b.account("SPY").quantity, 60);
  EXPECT_DOUBLE_EQ(account.commissions, 4);
  EXPECT_DOUBLE_EQ(sum.commissions, 4);
  EXPECT_NEAR(account.net, sum.net, 1e-9);
  EXPECT_NEAR(account.gross_exposure, sum.gross_exposure, 1e-9);
  EXPECT_EQ(b.book.strategies(), (std::vector<std::string>{"", "meanrev", "momentum"}));
}

TEST(PositionBook, StrategiesOnOppositeSidesLeaveTheAccountFlatWithTheDifferenceRealised) {
  Book b;
  b.buy("long", "SPY", 100, 10);
  b.sell("short", "SPY", 100, 12);
  EXPECT_DOUBLE_EQ(b.account("SPY").quantity, 0);
  EXPECT_DOUBLE_EQ(b.account("SPY").realised, 200);
  EXPECT_DOUBLE_EQ(b.strategy("long", "SPY").quantity, 100);
  EXPECT_DOUBLE_EQ(b.strategy("short", "SPY").quantity, -100);

  b.book.mark("SPY", 11);
  EXPECT_DOUBLE_EQ(b.book.strategySummary("long").net + b.book.strategySummary("short").net,
                   b.book.accountSummary().net);
  EXPECT_DOUBLE_EQ(b.book.accountSummary().gross_exposure, 0);
}

TEST(PositionBook, ARepeatedFillIsIgnoredAndReported) {
  PositionBook book;
  FillInput fill = makeFill({"F1", "s", "AAPL", TH_SIDE_BUY, 100, 10, 1});
  ASSERT_EQ(book.apply(fill), FillResult::Applied);
  EXPECT_TRUE(book.seenFill("F1"));
  EXPECT_EQ(book.apply(fill), FillResult::Duplicate);
  fill.strategy = "other";  // a repeat is the same fill whatever else it says
  EXPECT_EQ(book.apply(fill), FillResult::Duplicate);
  EXPECT_DOUBLE_EQ(book.accountPosition("AAPL")->quantity, 100);
  EXPECT_DOUBLE_EQ(book.accountSummary().commissions, 1);
  EXPECT_EQ(book.strategyPosition("other", "AAPL"), nullptr);
}

TEST(PositionBook, InvalidFillsAreRefusedWithAReasonAndChangeNothing) {
  struct Case {
    FillSpec spec;
    std::string reason;
  };
  const Case cases[] = {
      {{"A", "s", "AAPL", TH_SIDE_BUY, 0, 10}, "quantity"},
      {{"B", "s", "AAPL", TH_SIDE_BUY, -5, 10}, "quantity"},
      {{"C", "s", "AAPL", TH_SIDE_BUY, 5, 0}, "price"},
      {{"D", "s", "AAPL", TH_SIDE_BUY, 5, std::numeric_limits<double>::quiet_NaN()}, "price"},
      {{"E", "s", "AAPL", 7, 5, 10}, "side"},
      {{"F", "s", "AAPL", TH_SIDE_SELL, 5, 10, 0, 0}, "multiplier"},
      {{"G", "s", "AAPL", TH_SIDE_SELL, 5, 10, -1}, "commission"},
      {{"H", "s", "AAPL", TH_SIDE_SELL, 5, 10, 0, 1, 9}, "asset class"},
      {{"I", "s", "", TH_SIDE_SELL, 5, 10}, "symbol"},
      {{"", "s", "AAPL", TH_SIDE_SELL, 5, 10}, "fill id"},
  };
  PositionBook book;
  for (const auto& c : cases) {
    auto result = book.apply(makeFill(c.spec));
    ASSERT_FALSE(result) << c.reason;
    EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(result.error().message.find(c.reason), std::string::npos) << result.error().message;
  }
  EXPECT_TRUE(book.accountPositions().empty());
  EXPECT_TRUE(book.strategies().empty());

  // A refused fill's id is not remembered, so a corrected report still counts.
  ASSERT_EQ(book.apply(makeFill({"A", "s", "AAPL", TH_SIDE_BUY, 5, 10})), FillResult::Applied);
}

TEST(PositionBook, AFillWithADifferentMultiplierThanItsPositionIsRefused) {
  PositionBook book;
  ASSERT_TRUE(book.apply(makeFill({"1", "s", "OPT", TH_SIDE_BUY, 1, 2, 0, 100, TH_ASSET_OPTION})));
  auto result = book.apply(makeFill({"2", "t", "OPT", TH_SIDE_BUY, 1, 2, 0, 1, TH_ASSET_OPTION}));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("multiplier"), std::string::npos);
  EXPECT_DOUBLE_EQ(book.accountPosition("OPT")->quantity, 1);
  EXPECT_EQ(book.strategyPosition("t", "OPT"), nullptr);
}

void expectSamePositions(const std::vector<Position>& a, const std::vector<Position>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].symbol, b[i].symbol);
    EXPECT_EQ(a[i].asset_class, b[i].asset_class);
    EXPECT_EQ(a[i].multiplier, b[i].multiplier);
    EXPECT_EQ(a[i].quantity, b[i].quantity);
    EXPECT_EQ(a[i].average_cost, b[i].average_cost);
    EXPECT_EQ(a[i].realised, b[i].realised);
    EXPECT_EQ(a[i].commissions, b[i].commissions);
    EXPECT_EQ(a[i].last_price, b[i].last_price);
    EXPECT_EQ(a[i].last_fill_ts_ns, b[i].last_fill_ts_ns);
  }
}

TEST(PositionBook, EncodeAndDecodeKeepPositionsAndRepeatedFillDetection) {
  PositionBook original;
  ASSERT_TRUE(original.apply(makeFill({"1", "momentum", "SPY", TH_SIDE_BUY, 100, 590.13, 1.05})));
  ASSERT_TRUE(original.apply(makeFill({"2", "momentum", "SPY", TH_SIDE_SELL, 30, 591.07, 0.35})));
  ASSERT_TRUE(original.apply(makeFill({"3", "", "SPY", TH_SIDE_SELL, 0.1, 590.5})));
  ASSERT_TRUE(original.apply(
      makeFill({"4", "hedge", "SPY261218P00550000", TH_SIDE_SELL, 3, 4.35, 1.95, 100, TH_ASSET_OPTION})));
  original.mark("SPY", 592.4);

  auto decoded = PositionBook::decode(original.encode());
  ASSERT_TRUE(decoded) << decoded.error().message;
  expectSamePositions(decoded->accountPositions(), original.accountPositions());
  ASSERT_EQ(decoded->strategies(), original.strategies());
  for (const auto& name : original.strategies()) {
    expectSamePositions(decoded->strategyPositions(name), original.strategyPositions(name));
  }
  EXPECT_EQ(decoded->accountSummary().net, original.accountSummary().net);
  EXPECT_EQ(decoded->encode(), original.encode());

  EXPECT_EQ(decoded->apply(makeFill({"2", "momentum", "SPY", TH_SIDE_SELL, 30, 591.07, 0.35})), FillResult::Duplicate);
  EXPECT_DOUBLE_EQ(decoded->accountPosition("SPY")->quantity, 69.9);
  EXPECT_EQ(decoded->apply(makeFill({"5", "momentum", "SPY", TH_SIDE_SELL, 70, 592})), FillResult::Applied);
}

TEST(PositionBook, OnlyTheMostRecentFillIdsAreRemembered) {
  PositionBook book(2);
  for (std::string id : {"1", "2", "3"}) ASSERT_TRUE(book.apply(makeFill({id, "s", "AAPL", TH_SIDE_BUY, 1, 10})));
  EXPECT_FALSE(book.seenFill("1"));
  EXPECT_TRUE(book.seenFill("2"));
  EXPECT_TRUE(book.seenFill("3"));

  // A smaller capacity on restart keeps the newest ids.
  auto decoded = PositionBook::decode(book.encode(), 1);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->seenFill("2"));
  EXPECT_TRUE(decoded->seenFill("3"));
}

TEST(PositionBook, DecodeRefusesTextItDidNotWrite) {
  const char* inputs[] = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"version":2,"account":[],"strategies":{},"fill_ids":[]})",
      R"({"version":1,"account":{},"strategies":{},"fill_ids":[]})",
      R"({"version":1,"account":[],"strategies":{},"fill_ids":[1]})",
      R"({"version":1,"account":[{"symbol":"A","asset_class":1,"multiplier":0,"quantity":1,"average_cost":1,)"
      R"("realised":0,"commissions":0,"last_price":1,"last_fill_ts_ns":0}],"strategies":{},"fill_ids":[]})",
  };
  for (const char* input : inputs) {
    auto decoded = PositionBook::decode(input);
    ASSERT_FALSE(decoded) << input;
    EXPECT_EQ(decoded.error().code, ErrorCode::Corruption) << input;
  }
  EXPECT_TRUE(PositionBook::decode(R"({"version":1,"account":[],"strategies":{},"fill_ids":[]})"));
}

}  // namespace
}  // namespace th
