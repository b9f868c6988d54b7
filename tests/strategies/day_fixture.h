// A trading day for the shipped strategies' tests: the strategy's own files
// with some parameters changed, the real strategy service and paper broker
// (native brackets), 1-minute bars built by hand from Tuesday 2026-11-17
// 09:30, and the trades read back from the broker service.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.h"
#include "script/strategy_harness.h"

namespace th::test {

inline constexpr int64_t kMinuteNs = 60'000 * kMillis;

inline std::string readSource(const std::string& relative) {
  std::ifstream in(std::string(TH_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// strategies/<id>/<id>.yaml for `symbol` alone, with the defaults of some
// params replaced ("name" → "value" as YAML).
inline std::string strategyYaml(const std::string& id, const std::string& symbol,
                                const std::map<std::string, std::string>& changes) {
  std::string yaml = readSource("strategies/" + id + "/" + id + ".yaml");
  auto symbols = yaml.find("symbols: [");
  yaml.replace(symbols, yaml.find(']', symbols) - symbols + 1, "symbols: [" + symbol + "]");
  for (const auto& [key, value] : changes) {
    auto at = yaml.find("  " + key + ":");
    EXPECT_NE(at, std::string::npos) << key;
    auto def = yaml.find("default: ", at);
    auto end = yaml.find(", description", def);
    yaml.replace(def + 9, end - def - 9, value);
  }
  return yaml;
}

// One round trip: an entry and the leg that closed it (if any yet).
struct Trade {
  std::string side;
  double qty = 0, entry = 0, exit = 0;
  std::string exit_role;  // stop_loss, take_profit, time_exit
};

class StrategyDayTest : public ::testing::Test {
 protected:
  StrategyDayTest() : h(0) {}

  // Monday's last bar closes at `prev_close`; the clock then reads Tuesday
  // 09:30, with strategy `id` running on SPY.
  void startDay(const std::string& id, double prev_close, const std::map<std::string, std::string>& changes = {}) {
    h.write(id, strategyYaml(id, "SPY", changes), readSource("strategies/" + id + "/" + id + ".lua"));
    h.advance(5 * 60 * kMinuteNs + 59 * kMinuteNs);  // 10:00 → 15:59
    h.start();
    h.minute("SPY", prev_close, prev_close + 0.1, prev_close - 0.1, prev_close);
    h.advance(17 * 60 * kMinuteNs + 30 * kMinuteNs);  // 16:00 → 09:30
  }
  void bar(double o, double hi, double lo, double c, double volume = 100000) { h.minute("SPY", o, hi, lo, c, volume); }
  // Quiet bars at `price` (high +0.2, low -0.2) until the clock reads hh:mm.
  void quietUntil(int hh, int mm, double price) {
    const int64_t until = fromExchangeTime(20261117, hh, mm);
    while (h.nowNs() < until) bar(price, price + 0.2, price - 0.2, price);
  }
  std::vector<Trade> trades() {
    OrderFilter all;
    all.open_only = false;
    all.limit = 1000;
    auto orders = h.oms().orders(all);
    std::reverse(orders.begin(), orders.end());  // oldest first
    std::vector<Trade> out;
    for (const Order* o : orders) {
      if (!o->parent_id.empty() || o->status != OrderStatus::Filled) continue;
      Trade t;
      t.side = std::string(toString(o->intent.side));
      t.qty = o->filled_quantity;
      t.entry = o->average_fill_price;
      for (const Order* leg : orders) {
        if (leg->parent_id == o->client_order_id && leg->filled_quantity > 0) {
          t.exit = leg->average_fill_price;
          t.exit_role = std::string(toString(leg->role));
        }
      }
      out.push_back(t);
    }
    return out;
  }
  // The open leg of a role, or null.
  const Order* openLeg(OrderRole role) {
    for (const Order* o : h.oms().orders(OrderFilter{})) {
      if (o->role == role) return o;
    }
    return nullptr;
  }
  std::vector<std::string> markerTexts() const {
    std::vector<std::string> texts;
    for (const auto& [symbol, marker] : h.markers) texts.push_back(marker.text);
    return texts;
  }

  StrategyHarness h;
};

}  // namespace th::test
