// The paper broker: a simulated venue behind the broker ABI. It accepts
// orders, fills them from the market feed the host gives it (quotes, trades,
// bars, in event order) with the fill model of fill_model.h, keeps its own
// account, and saves everything to its state file after each change so a
// restarted host can reconcile against it. No timers or threads: the same
// events in the same order always give the same fills.
//
// The host may call the market feed from its core thread and submit or cancel
// from another, so one mutex guards all state; host callbacks are made under
// it, which keeps every order's reports in the order they happened (the ABI
// promises callbacks never call back into the plugin).
//
// The implementation is split by concern: paper_broker.cpp holds the order
// entry API, validation and the reconciliation lists; order_matching.cpp
// holds the market feed, fills and expiry.
#pragma once

#include <th/plugin.hpp>
#include <th/symbol_map.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "fill_model.h"
#include "paper_config.h"
#include "session_calendar.h"
#include "state_file.h"

namespace th::paper {

// Indices of the open orders, ascending (submit order), each with a hash of
// its symbol. A sorted array: it is walked on every market event and holds a
// few hundred at most; the hashes let that walk skip other symbols' orders
// without comparing their names.
class OpenOrders {
 public:
  static uint64_t key(std::string_view symbol) { return SymbolHash{}(symbol); }

  void insert(size_t index, std::string_view symbol) {
    auto at = std::lower_bound(indices_.begin(), indices_.end(), index);
    if (at != indices_.end() && *at == index) return;
    keys_.insert(keys_.begin() + (at - indices_.begin()), key(symbol));
    indices_.insert(at, index);
  }
  void erase(size_t index) {
    auto at = std::lower_bound(indices_.begin(), indices_.end(), index);
    if (at == indices_.end() || *at != index) return;
    keys_.erase(keys_.begin() + (at - indices_.begin()));
    indices_.erase(at);
  }
  bool contains(size_t index) const { return std::binary_search(indices_.begin(), indices_.end(), index); }
  size_t size() const { return indices_.size(); }
  std::vector<size_t>::const_iterator begin() const { return indices_.begin(); }
  std::vector<size_t>::const_iterator end() const { return indices_.end(); }
  // The open orders whose symbol hashes to `symbol_key` (a superset of the
  // symbol's: compare the names), ascending, into `out`.
  void withKey(uint64_t symbol_key, std::vector<size_t>& out) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] == symbol_key) out.push_back(indices_[i]);
    }
  }

 private:
  std::vector<size_t> indices_;
  std::vector<uint64_t> keys_;  // key(symbol) of each, in the same order
};

class PaperBroker final : public Broker {
 public:
  PaperBroker(Host host, std::string_view config_json);
  ~PaperBroker() override;

  void connect() override;
  void disconnect() override;
  void submit(const th_order_request& request) override;
  void cancel(std::string_view client_order_id) override;
  void replace(std::string_view client_order_id, const th_order_request& changes) override;
  void openOrders(th_order_sink sink, void* sink_ctx) override;
  void positions(th_position_sink sink, void* sink_ctx) override;
  void fills(int64_t since_ns, th_fill_sink sink, void* sink_ctx) override;
  void account(th_account& out) override;
  void onTrade(const th_trade& trade) override;
  void onQuote(const th_quote& quote) override;
  void onBar(const th_bar& bar) override;

 private:
  // What the host hears about a change, in order: an order's new state or a fill.
  using Report = std::variant<Order, Fill>;

  // paper_broker.cpp
  void requireConnected(const char* operation) const;
  size_t openOrderIndex(std::string_view client_order_id, const char* operation) const;
  std::string rejectReason(const th_order_request& request, const Order& order) const;
  std::string shortSaleReason(const Order& order, double quantity, const Order* excluding) const;
  std::string buyingPowerReason(const Order& order, double quantity, const Order* excluding) const;
  std::optional<double> reservePrice(const Order& order) const;
  double commission(int32_t asset_class, double quantity) const;
  double estimatedCost(const Order& order, double quantity) const;
  double reservation(const Order& order) const;
  double buyingPower() const;
  void indexOrder(size_t index);
  // Saves; on failure restores the order at `index` (or removes a new one) and rethrows.
  void saveOrRestore(size_t index, const std::optional<Order>& before);
  void publish(const std::vector<Report>& reports) const;

  // exits.cpp: brackets and OTO orders (TH_BROKER_NATIVE_EXITS)
  static Exits exitsOf(const th_order_request& request);
  std::string exitsRejectReason(const th_order_request& request, const Order& order) const;
  // Places an entry's legs once it has filled, or ended with a part filled.
  void placeExits(size_t entry, int64_t ts_ns, std::vector<Report>& reports);
  // One event for the open legs of one entry: stop first, then target, then time.
  bool matchExits(const std::string& entry_id, const MarketEvent& event, const SymbolFeed& feed,
                  double& buy_units, double& sell_units, std::vector<Report>& reports);
  // The open legs of the entry `entry_id`, in placement order, into `out`.
  void openLegs(const std::string& entry_id, std::vector<size_t>& out) const;

  // order_matching.cpp
  void onMarketEvent(const MarketEvent& event, bool may_fill);
  bool expireDayOrders(int64_t ts_ns, std::vector<Report>& reports);
  bool settleExpiredOptions(int64_t ts_ns, std::vector<Report>& reports);
  void settleOption(const std::string& symbol, std::vector<Report>& reports);
  std::string nextFillId();
  // `symbol_key` is OpenOrders::key(event.symbol).
  bool matchOrders(const MarketEvent& event, uint64_t symbol_key, const SymbolFeed& feed, std::vector<Report>& reports);
  bool matchOne(size_t index, const MarketEvent& event, const SymbolFeed& feed, double& units,
                std::vector<Report>& reports);
  void fillOrder(size_t index, double quantity, double price, int64_t ts_ns, std::vector<Report>& reports);
  void closeOrder(size_t index, int32_t status, std::string reason, int64_t ts_ns, std::vector<Report>& reports);

  const PaperConfig config_;
  const SessionCalendar calendar_;
  const FillModel model_;
  StateFile file_;

  mutable std::mutex mutex_;
  bool connected_ = false;
  PaperState state_;
  // Each symbol's feed in state_.symbols (a map: its nodes stay put) and the
  // OpenOrders key of the symbol, found by hash on every market event.
  struct FeedSlot {
    SymbolFeed* feed;
    uint64_t key;
  };
  SymbolMap<FeedSlot> feeds_;
  std::map<std::string, size_t, std::less<>> by_client_id_;  // every order ever seen → index in state_.orders
  OpenOrders open_;
  // No open DAY order expires before this: market events earlier skip the
  // expiry check. Reset whenever an order opens or changes.
  int64_t next_expiry_ns_ = INT64_MIN;
  // No option position expires before this; reset whenever an option fills.
  int64_t next_settlement_ns_ = INT64_MIN;
  std::vector<size_t> match_queue_, exits_done_, open_legs_;  // matchOrders' and matchExits' working lists
  // Entry client id → its legs' indices; looked up on every market event
  // of a symbol with open legs, so hashed.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_map<std::string, std::vector<size_t>, IdHash, std::equal_to<>> legs_;
};

}  // namespace th::paper
