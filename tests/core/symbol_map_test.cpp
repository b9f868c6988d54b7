// th::SymbolMap (sdk/cpp/th/symbol_map.hpp): what the paper broker, the
// broker service and the strategy service find a symbol's data by on every bar.
#include <gtest/gtest.h>

#include <th/symbol_map.hpp>

#include <map>
#include <string>

namespace th {
namespace {

TEST(SymbolMap, FindsEveryOneOfManySymbolsAndNothingElse) {
  // Tickers, near-misses and OCC symbols: past the first table size, so it grows several times.
  std::map<std::string, int> expected;
  SymbolMap<int> map;
  for (int i = 0; i < 600; ++i) {
    std::string symbol = i % 3 == 0 ? "S" : i % 3 == 1 ? "SPY" : "SPY261120C00";
    if (i % 3 == 1) symbol.append(static_cast<size_t>(i % 7), 'X');
    symbol.append(std::to_string(i % 3 == 2 ? 400000 + i : i));
    auto [it, added] = map.try_emplace(symbol, i);
    ASSERT_TRUE(added) << symbol;
    EXPECT_EQ(it->first, symbol);
    expected[symbol] = i;
  }
  ASSERT_EQ(map.size(), expected.size());
  for (const auto& [symbol, value] : expected) {
    auto it = map.find(std::string_view(symbol));
    ASSERT_NE(it, map.end()) << symbol;
    EXPECT_EQ(it->second, value) << symbol;
  }
  for (const char* absent : {"", "S", "S1", "SPY", "SPY261120C0040000", "S0 ", "s0"}) {
    EXPECT_FALSE(map.contains(absent)) << absent;
    EXPECT_EQ(map.find(absent), map.end()) << absent;
  }
}

TEST(SymbolMap, AddsOnceKeepsInsertionOrderAndEmptiesOnClear) {
  SymbolMap<double> prices;
  prices["SPY"] = 590.5;
  prices["QQQ"] = 510;
  auto [it, added] = prices.try_emplace("SPY", 1.0);
  EXPECT_FALSE(added);
  EXPECT_EQ(it->second, 590.5) << "an existing entry is not replaced";
  prices["SPY"] += 1;
  std::vector<std::string> order;
  for (const auto& [symbol, price] : prices) order.push_back(symbol);
  EXPECT_EQ(order, (std::vector<std::string>{"SPY", "QQQ"}));
  EXPECT_EQ(prices.find("SPY")->second, 591.5);
  prices.clear();
  EXPECT_TRUE(prices.empty());
  EXPECT_FALSE(prices.contains("SPY"));
  prices["IWM"] = 230;
  EXPECT_EQ(prices.find("IWM")->second, 230);
}

}  // namespace
}  // namespace th
