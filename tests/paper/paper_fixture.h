// Shared fixture for the paper broker tests: loads the real libpaper.so
// through the plugin harness, gives each test its own state directory, and
// wraps the broker ABI in short helpers that keep the tests readable.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/plugin_harness.h"
#include "support/temp_dir.h"

namespace th::test {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSecond = 1'000 * kMs;
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kHour = 60 * kMinute;
// Tuesday 2024-03-12 10:00 America/New_York (EDT, UTC-4) = 14:00 UTC.
inline constexpr int64_t kTuesday1000 = 1'710'252'000 * kSecond;

struct OrderSpec {
  std::string id;
  std::string symbol = "AAPL";
  int32_t side = TH_SIDE_BUY;
  int32_t type = TH_ORDER_MARKET;
  int32_t time_in_force = TH_TIF_GTC;
  int32_t asset_class = TH_ASSET_EQUITY;
  int32_t order_class = TH_CLASS_SIMPLE;
  double quantity = 100;
  double limit = 0;
  double stop = 0;
  // Brackets and OTO (native exits)
  double take_profit = 0, take_profit_offset = 0, take_profit_r = 0;
  double stop_loss = 0, stop_loss_offset = 0, stop_loss_limit = 0;
  int64_t exit_at_ns = 0;
};

inline OrderSpec marketOrder(std::string id, int32_t side, double quantity, std::string symbol = "AAPL") {
  OrderSpec o;
  o.id = std::move(id);
  o.side = side;
  o.quantity = quantity;
  o.symbol = std::move(symbol);
  return o;
}
inline OrderSpec limitOrder(std::string id, int32_t side, double quantity, double limit, std::string symbol = "AAPL") {
  OrderSpec o = marketOrder(std::move(id), side, quantity, std::move(symbol));
  o.type = TH_ORDER_LIMIT;
  o.limit = limit;
  return o;
}
inline OrderSpec stopOrder(std::string id, int32_t side, double quantity, double stop, std::string symbol = "AAPL") {
  OrderSpec o = marketOrder(std::move(id), side, quantity, std::move(symbol));
  o.type = TH_ORDER_STOP;
  o.stop = stop;
  return o;
}

struct PositionRecord {
  std::string symbol;
  int32_t asset_class;
  double quantity, average_price, multiplier;
};

struct Result {
  th_status status;
  std::string error;
};

class PaperTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The config every test starts from, with `overrides` merged in.
  nlohmann::json config(const nlohmann::json& overrides = nlohmann::json::object()) const;
  // Create an instance and connect it.
  void start(const nlohmann::json& overrides = nlohmann::json::object());
  // Create without connecting; throws std::runtime_error with the plugin's message.
  void create(const nlohmann::json& overrides = nlohmann::json::object());
  void destroy();
  const th_broker_api& broker() const { return *plugin_->descriptor().broker; }

  Result submit(const OrderSpec& spec);
  Result cancel(const std::string& id);
  Result replace(const std::string& id, double quantity, double limit = 0, double stop = 0);
  Result connect();
  Result disconnect();

  void quote(const std::string& symbol, int64_t ts, double bid, double ask, double bid_size = 1000,
             double ask_size = 1000);
  void trade(const std::string& symbol, int64_t ts, double price, double size = 1000);
  void bar(const std::string& symbol, int64_t start, double open, double high, double low, double close,
           double volume = 100000, uint32_t flags = TH_BAR_FINAL);

  // What the host heard about one order, in order.
  std::vector<OrderRecord> reportsFor(const std::string& id);
  std::vector<int32_t> statusesOf(const std::string& id);
  OrderRecord lastReport(const std::string& id);
  std::vector<FillRecord> fillsFor(const std::string& id);

  // The reconciliation lists.
  std::vector<OrderRecord> openOrders();
  std::vector<PositionRecord> positions();
  std::vector<FillRecord> fillsSince(int64_t since_ns);
  th_account account();

  std::unique_ptr<TempDir> dir_;
  std::string state_file_;
  RecordingHost host_;
  std::unique_ptr<LoadedPlugin> plugin_;
  th_plugin* instance_ = nullptr;
};

}  // namespace th::test
