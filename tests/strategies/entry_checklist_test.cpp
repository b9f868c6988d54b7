// The entry_checklist strategy as it ships (its Lua files, its YAML with the
// first run moved into the test's morning): it scores on its timer, publishes
// the records, stores them across a restart, and other strategies read them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "script/strategy_harness.h"
#include "strategies/day_fixture.h"

namespace th::test {
namespace {

using Json = nlohmann::json;

Json reference() {
  std::ifstream in(std::string(TH_SOURCE_DIR) + "/tests/strategies/checklist_reference.json");
  return Json::parse(in);
}

// The fixture's daily bars and option chain as the chart hub and the data
// plugin hand them to strategies.
void feed(StrategyHarness& h, const Json& input) {
  for (const auto& b : input["bars"]) {
    h.daily["SPY"].push_back(Candle{b["time"].get<int64_t>() * 1'000'000, b["open"].get<double>(),
                                    b["high"].get<double>(), b["low"].get<double>(), b["close"].get<double>(),
                                    b["volume"].get<double>(), 1000, kCandleFinal});
  }
  for (const auto& c : input["chain"]) {
    OptionQuote q;
    q.symbol = c["symbol"].get<std::string>();
    q.underlying = "SPY";
    q.call = c["right"] == "call";
    q.expiry = c["expiry"].get<int32_t>();
    q.strike = c["strike"].get<double>();
    q.bid = c["bid"].get<double>();
    q.ask = c["ask"].get<double>();
    q.open_interest = c["open_interest"].get<double>();
    h.chains["SPY"].push_back(q);
  }
}

TEST(EntryChecklist, ScoresOnItsTimerStoresTheRecordAndOtherStrategiesReadIt) {
  StrategyHarness h;
  auto yaml = readSource("strategies/entry_checklist/entry_checklist.yaml");
  auto at = yaml.find("default: \"09:40\"");
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, 16, "default: \"10:01\"");  // the harness's day starts at 10:00
  h.write("entry_checklist", yaml, readSource("strategies/entry_checklist/entry_checklist.lua"),
          {{"checklist.lua", readSource("strategies/entry_checklist/checklist.lua")}});
  h.write("gate", StrategyHarness::yaml("gate"), R"(
function on_bar(ctx, bar)
  local c = ctx:checklist("SPY", "long")
  ctx.state.grade = c and c.grade or "none"
end
)");
  auto ref = reference();
  feed(h, ref["input"]);
  h.start();
  EXPECT_FALSE(h.strategies().checklistJson("SPY", "long")) << "not before run_at";
  h.minutes("SPY", 2);  // 10:01 passes
  h.strategies().tick();
  h.flush();

  const auto& expected = ref["no_quote"];
  for (const char* direction : {"long", "short"}) {
    auto text = h.strategies().checklistJson("SPY", direction);
    ASSERT_TRUE(text) << direction << ": " << text.error().message;
    auto record = Json::parse(*text);
    EXPECT_EQ(record["strategy"], "entry_checklist");
    EXPECT_EQ(record["score"], expected[direction]["score"]) << record.dump();
    EXPECT_EQ(record["grade"], expected[direction]["grade"]);
    EXPECT_EQ(record["price"], ref["input"]["bars"][59]["close"]) << "no quote yet: the last daily close";
    for (const auto& c : record["criteria"]) EXPECT_EQ(c["pass"], expected[direction]["pass"][c["name"].get<std::string>()]) << c.dump();
  }
  auto qqq = h.strategies().checklistJson("QQQ", "long");
  ASSERT_FALSE(qqq) << "no daily bars for QQQ: nothing to score";
  EXPECT_NE(qqq.error().message.find("no checklist for QQQ long yet"), std::string::npos);

  h.minutes("SPY", 1);
  EXPECT_EQ(h.state("gate")["grade"], expected["long"]["grade"]) << "ctx:checklist gives other strategies the record";
  auto signals = nlohmann::json::parse(h.strategies().signalsJson("entry_checklist", "SPY", 10))["signals"];
  EXPECT_EQ(signals.size(), 2u) << "one record per direction, published as signals";

  // The records outlive a restart.
  h.restartHost();
  auto stored = h.strategies().checklistJson("SPY", "short");
  ASSERT_TRUE(stored);
  EXPECT_EQ(Json::parse(*stored)["grade"], expected["short"]["grade"]);
}

}  // namespace
}  // namespace th::test
