// The paper account's own state file: a new instance on the same file gets
// back everything a restarted host reconciles against, a damaged file stops
// create() with a clear message, and the config is checked strictly.
#include <fstream>
#include <sstream>

#include "paper/paper_fixture.h"

namespace th::test {
namespace {

class PaperPersistenceTest : public PaperTest {
 protected:
  std::string createError(const nlohmann::json& overrides = nlohmann::json::object()) {
    try {
      create(overrides);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    ADD_FAILURE() << "create succeeded";
    return {};
  }
  void writeStateFile(const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(state_file_).parent_path());
    std::ofstream(state_file_, std::ios::binary | std::ios::trunc) << text;
  }
  nlohmann::json readStateFile() {
    std::ifstream in(state_file_);
    return nlohmann::json::parse(in);
  }
};

TEST_F(PaperPersistenceTest, ANewInstanceOnTheSameFileRestoresOrdersPositionsFillsAndCash) {
  start({{"participation", 0.5}, {"commission_per_share", 0.01}});
  const int64_t t = kTuesday1000;
  quote("AAPL", t - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(marketOrder("filled", TH_SIDE_BUY, 10)).status, TH_OK);
  quote("AAPL", t + kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("partial", TH_SIDE_BUY, 100, 99.00)).status, TH_OK);
  trade("AAPL", t + 2 * kSecond, 98.90, 80);  // half of 80 fills
  ASSERT_EQ(submit(limitOrder("canceled", TH_SIDE_BUY, 5, 90.00)).status, TH_OK);
  ASSERT_EQ(cancel("canceled").status, TH_OK);

  const th_account before = account();
  const auto fills_before = fillsSince(0);
  ASSERT_EQ(fills_before.size(), 2u);
  destroy();
  EXPECT_TRUE(std::filesystem::exists(state_file_));
  EXPECT_FALSE(std::filesystem::exists(state_file_ + ".tmp")) << "the temporary file is renamed over the state";

  start({{"participation", 0.5}, {"commission_per_share", 0.01}, {"starting_cash", 5}});
  const th_account after = account();
  EXPECT_DOUBLE_EQ(after.cash, before.cash) << "the saved cash wins over starting_cash";
  EXPECT_DOUBLE_EQ(after.commissions, before.commissions);
  EXPECT_DOUBLE_EQ(after.buying_power, before.buying_power);

  auto open = openOrders();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].client_order_id, "partial");
  EXPECT_EQ(open[0].status, TH_STATUS_PARTIALLY_FILLED);
  EXPECT_DOUBLE_EQ(open[0].filled_quantity, 40);
  EXPECT_DOUBLE_EQ(open[0].average_fill_price, 99.00);
  EXPECT_EQ(open[0].broker_order_id, "P-2");

  auto held = positions();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_DOUBLE_EQ(held[0].quantity, 50);
  EXPECT_NEAR(held[0].average_price, (10 * 100.00 + 40 * 99.00) / 50, 1e-9);

  auto fills_after = fillsSince(0);
  ASSERT_EQ(fills_after.size(), fills_before.size());
  for (size_t i = 0; i < fills_after.size(); ++i) {
    EXPECT_EQ(fills_after[i].fill_id, fills_before[i].fill_id);
    EXPECT_EQ(fills_after[i].ts_ns, fills_before[i].ts_ns);
    EXPECT_DOUBLE_EQ(fills_after[i].price, fills_before[i].price);
    EXPECT_DOUBLE_EQ(fills_after[i].commission, fills_before[i].commission);
  }

  // The restored order keeps working, and new ids continue after the old ones.
  trade("AAPL", t + 3 * kSecond, 98.80, 1000);
  auto partial = fillsFor("partial");
  ASSERT_EQ(partial.size(), 2u);
  EXPECT_DOUBLE_EQ(partial[1].quantity, 60);
  EXPECT_NE(partial[1].fill_id, fills_before[0].fill_id);
  EXPECT_NE(partial[1].fill_id, fills_before[1].fill_id);
  EXPECT_EQ(lastReport("partial").status, TH_STATUS_FILLED);
  ASSERT_EQ(submit(limitOrder("next", TH_SIDE_BUY, 1, 90)).status, TH_OK);
  EXPECT_EQ(lastReport("next").broker_order_id, "P-4");
}

TEST_F(PaperPersistenceTest, ClientIdsStayTakenAcrossARestart) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("open", TH_SIDE_BUY, 10, 90)).status, TH_OK);
  ASSERT_EQ(submit(limitOrder("rejected", TH_SIDE_BUY, -1, 90)).status, TH_ERR_REJECTED);
  destroy();
  start();
  const size_t reports = host_.locked([&] { return host_.orders.size(); });
  EXPECT_EQ(submit(limitOrder("open", TH_SIDE_BUY, 10, 90)).status, TH_ERR_DUPLICATE);
  EXPECT_EQ(submit(limitOrder("rejected", TH_SIDE_BUY, 10, 90)).status, TH_ERR_DUPLICATE);
  EXPECT_EQ(host_.locked([&] { return host_.orders.size(); }), reports);
  EXPECT_EQ(openOrders().size(), 1u);
}

// The state file is read at the moment each report reaches the host (inside
// the plugin's callback), not after the call returns: a plugin that wrote
// its file after reporting would fail here.
TEST_F(PaperPersistenceTest, EveryChangeIsOnDiskBeforeItIsReported) {
  std::vector<nlohmann::json> at_report;
  host_.on_report = [&] { at_report.push_back(readStateFile()); };
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("order", TH_SIDE_BUY, 10, 99.50)).status, TH_OK);
  ASSERT_FALSE(at_report.empty()) << "the order was reported";
  const nlohmann::json& accepted = at_report.back();
  ASSERT_EQ(accepted["orders"].size(), 1u);
  EXPECT_EQ(accepted["orders"][0]["client_order_id"], "order");
  EXPECT_EQ(accepted["orders"][0]["status"], "ACCEPTED");
  const size_t before_fill = at_report.size();
  trade("AAPL", kTuesday1000 + kSecond, 99.00);
  ASSERT_GT(at_report.size(), before_fill) << "the fill was reported";
  // Every report of the fill saw it on disk: the order filled, the fill, the cash.
  for (size_t i = before_fill; i < at_report.size(); ++i) {
    const auto& saved = at_report[i];
    EXPECT_EQ(saved["orders"][0]["status"], "FILLED") << i;
    ASSERT_EQ(saved["fills"].size(), 1u) << i;
    EXPECT_EQ(saved["fills"][0]["ts_ns"], kTuesday1000 + kSecond);
    EXPECT_DOUBLE_EQ(saved["cash"].get<double>(), 100000 - 995);
  }
}

TEST_F(PaperPersistenceTest, ACorruptStateFileStopsCreateWithTheFileAndTheProblem) {
  writeStateFile("{\"format\": \"tradehost-paper-state\", \"cash\": ");
  std::string error = createError();
  EXPECT_NE(error.find(state_file_), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;

  writeStateFile("");
  error = createError();
  EXPECT_NE(error.find(state_file_), std::string::npos) << error;
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST_F(PaperPersistenceTest, AStateFileWithABadFieldNamesTheField) {
  start();
  quote("AAPL", kTuesday1000 - kSecond, 99.90, 100.00);
  ASSERT_EQ(submit(limitOrder("order", TH_SIDE_BUY, 10, 90)).status, TH_OK);
  destroy();
  nlohmann::json saved = readStateFile();

  nlohmann::json bad_status = saved;
  bad_status["orders"][0]["status"] = "HALF_DONE";
  writeStateFile(bad_status.dump());
  std::string error = createError();
  EXPECT_NE(error.find(state_file_), std::string::npos) << error;
  EXPECT_NE(error.find("orders[0].status"), std::string::npos) << error;

  nlohmann::json no_cash = saved;
  no_cash.erase("cash");
  writeStateFile(no_cash.dump());
  error = createError();
  EXPECT_NE(error.find("cash: missing"), std::string::npos) << error;

  nlohmann::json other_account = saved;
  other_account["account_id"] = "live-1";
  writeStateFile(other_account.dump());
  error = createError();
  EXPECT_NE(error.find("live-1"), std::string::npos) << error;

  writeStateFile(saved.dump());
  EXPECT_NO_THROW(create()) << "the untouched file still loads";
}

TEST_F(PaperPersistenceTest, ASecondInstanceOnTheSameFileIsRefused) {
  start();
  th_plugin* second = nullptr;
  char err[512] = {0};
  const std::string text = config().dump();
  th_status s = plugin_->descriptor().create(text.data(), static_cast<uint32_t>(text.size()), host_.api(), host_.ctx(),
                                             &second, err, sizeof err);
  EXPECT_EQ(s, TH_ERR_IO);
  EXPECT_NE(std::string(err).find("in use"), std::string::npos) << err;
  if (s == TH_OK) plugin_->descriptor().destroy(second);
}

TEST_F(PaperPersistenceTest, ConfigIsCheckedStrictly) {
  struct Case {
    nlohmann::json config;
    const char* expected;
  };
  const Case cases[] = {
      {{{"state_file", state_file_}, {"slipage_ticks", 1}}, "config key 'slipage_ticks': unknown key"},
      {{{"state_file", state_file_}, {"participation", 0}}, "config key 'participation'"},
      {{{"state_file", state_file_}, {"participation", 1.5}}, "config key 'participation'"},
      {{{"state_file", state_file_}, {"latency_ms", -1}}, "config key 'latency_ms'"},
      {{{"state_file", state_file_}, {"tick_size", "0.01"}}, "config key 'tick_size': must be a number"},
      {{{"state_file", state_file_}, {"allow_short", 1}}, "config key 'allow_short'"},
      {{{"state_file", state_file_}, {"reject_symbols", "AAPL"}}, "config key 'reject_symbols'"},
  };
  for (const auto& c : cases) {
    th_plugin* instance = nullptr;
    char err[512] = {0};
    const std::string text = c.config.dump();
    th_status s = plugin_->descriptor().create(text.data(), static_cast<uint32_t>(text.size()), host_.api(),
                                               host_.ctx(), &instance, err, sizeof err);
    EXPECT_EQ(s, TH_ERR_INVALID_ARGUMENT) << text;
    EXPECT_NE(std::string(err).find(c.expected), std::string::npos) << text << " -> " << err;
    if (s == TH_OK) plugin_->descriptor().destroy(instance);
  }
}

// Without a state_file the account lives in memory: it works, and leaves no
// file behind (what a conformance check or a throwaway backtest wants).
TEST_F(PaperPersistenceTest, NoStateFileMeansAnInMemoryAccount) {
  RecordingHost host;
  th_plugin* instance = plugin_->create(R"({"starting_cash": 5000})", host);
  char err[256];
  th_account account{};
  account.struct_size = sizeof account;
  ASSERT_EQ(plugin_->descriptor().broker->account(instance, &account, err, sizeof err), TH_OK) << err;
  EXPECT_EQ(account.cash, 5000);
  bool warned = host.locked([&] {
    for (const auto& l : host.logs) {
      if (l.level == TH_LOG_WARN && l.message.find("in memory only") != std::string::npos) return true;
    }
    return false;
  });
  EXPECT_TRUE(warned);
  plugin_->descriptor().destroy(instance);
  EXPECT_FALSE(std::filesystem::exists(state_file_));
}

}  // namespace
}  // namespace th::test
