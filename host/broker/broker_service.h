// The broker service: the order management system of the host.
//
// Every order — from a strategy, the API or the command line — comes in as
// an intent and takes one path: validation, the risk service, a client order
// id, the store (synced), and only then the broker. Broker reports (order
// states, fills) come back as events on the core thread and go through the
// status machine of order.h; fills are booked into positions and P&L, feed
// the risk service's loss limits and drive the brackets, OCO and OTO orders
// the host emulates for brokers that lack them.
//
// What is kept, and where (one RocksDB WriteBatch per group of events):
//   orders     client order id → the order as JSON (order_json.h)
//   fills      big-endian booking number → the fill as booked (with its strategy)
//   risk_state "risk" → the risk service's state
//   meta       "order_id_epoch", "order_id_next" → how client order ids are made
//   journal    every risk decision, order request, order action, state change
//
// Positions are not stored as such: they are rebuilt on start by booking the
// stored fills again in their order, which gives exactly the same book.
// Then reconcile() compares with each broker (open orders, fills since the
// last one booked, positions) and generates what is missing; whatever cannot
// be reconciled puts trading in HALTED with the reason.
//
// Bracket emulation. A bracket's entry goes to the broker as a simple order.
// Each time its booked fills exceed what its legs already cover, a new pair
// of legs (take-profit limit and stop-loss stop, one OCO pair) is sent for
// the difference, so the legs always cover what the entry filled — after a
// restart as well, since the rule only reads stored orders. When one leg of a
// pair fills completely, its sibling is canceled. If both legs fill (a race
// the broker wins), the excess is flagged on the legs and a correction order
// takes it back. OTO is a bracket with one leg; OCO is a pair without an
// entry, held together by a group order that is never sent.
//
// Core thread only (through the BrokerServiceHost); broker calls are made
// synchronously from it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <th/plugin.h>
#include <th/symbol_map.hpp>

#include "broker/order.h"
#include "broker/positions.h"
#include "core/error.h"
#include "core/event.h"
#include "core/text.h"
#include "risk/risk_service.h"
#include "store/store.h"

namespace th {

class PluginInstance;

// One broker account as the service sees it. PluginBrokerPort adapts a
// loaded broker plugin; every call may block on the broker.
class BrokerPort {
 public:
  virtual ~BrokerPort() = default;
  virtual const std::string& id() const = 0;
  virtual uint32_t capabilities() const = 0;  // TH_BROKER_*
  virtual bool connected() const = 0;
  [[nodiscard]] virtual Result<void> submit(const th_order_request& request, th_status* status) = 0;
  [[nodiscard]] virtual Result<void> cancel(std::string_view client_order_id, th_status* status) = 0;
  [[nodiscard]] virtual Result<void> openOrders(const std::function<void(const th_order_state&)>& sink) = 0;
  [[nodiscard]] virtual Result<void> positions(const std::function<void(const th_position&)>& sink) = 0;
  [[nodiscard]] virtual Result<void> fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink) = 0;
  [[nodiscard]] virtual Result<th_account> account() = 0;
};

std::unique_ptr<BrokerPort> makePluginBrokerPort(PluginInstance& instance);

// What the service needs from whoever runs it (the session, a backtest, a test).
class BrokerServiceHost {
 public:
  virtual ~BrokerServiceHost() = default;
  virtual int64_t nowNs() const = 0;
  // The batch the current group's effects go into.
  virtual Batch& batch() = 0;
  // Commits the pending batch now, synced when `sync`: an order reaches the
  // disk before a broker sees it. False when the store failed (the batch is
  // kept, to be committed again).
  virtual bool commitNow(bool sync) = 0;
  // True for a host whose commitNow() writes nothing and whose batch is
  // committed only at the ends of groups it chooses (a backtest: nothing
  // outlives it). Records rewritten as an order changes (the order's, the
  // risk state) are then written once per group, with their last value, by
  // writeRecords(), which such a host calls before each commit.
  virtual bool deferredCommits() const { return false; }
  // A message for WebSocket clients ({"type":"order"|"fill"|"risk",...}),
  // sent once what it reports is committed.
  virtual void notify(std::string message) = 0;
  // Whether anyone receives notify() messages now; they are not built otherwise.
  virtual bool listening() const = 0;
  virtual bool regularHours(int64_t ts_ns) const = 0;
  // A fill the service booked on its own, no broker having reported it (two
  // books' opposite positions in an expired contract closed against each
  // other, activity kFillOffset): the host journals it and hands it to the
  // strategies as it does a broker's fill, with source 0 (the host) so that
  // no broker books it again.
  virtual void serviceFill(FillEvent fill) = 0;
  // The prefix of client order ids for a store that has none yet; kept in
  // the store from then on. By default "th" and the creation time in base
  // 36, so a new store beside an old broker account never repeats an id. A
  // backtest gives a fixed one: its ids (and the log lines naming them) are
  // then the same on every run.
  virtual std::string newOrderIdEpoch() const;
};

struct OrderFilter {
  bool open_only = true;
  std::string strategy;  // empty: all (use manual_only for hand-placed)
  std::string symbol;
  size_t limit = 500;  // newest first
};

struct KillResult {
  std::vector<std::string> canceled;  // cancel requested
  std::vector<std::string> flatten;   // flatten orders sent
  std::vector<std::string> errors;    // what could not be canceled or sent, and why
};

// The outcome of reconciling with one broker.
struct ReconcileReport {
  std::string broker;
  bool ok = false;
  std::string detail;  // what failed, or a summary
  size_t open_orders = 0, fills_added = 0, orders_updated = 0, orders_closed = 0, orphans_adopted = 0;
  size_t position_mismatches = 0;
};

class BrokerService final : private RiskView {
 public:
  BrokerService(RiskConfig risk, Store& store, BrokerServiceHost& host);
  ~BrokerService() override;

  // The first broker added is the default one.
  void addBroker(std::unique_ptr<BrokerPort> port);
  BrokerPort* broker(std::string_view id) const;
  const std::string& defaultBroker() const { return default_broker_; }

  // Start-up, before any event: orders, fills (→ positions), risk state and
  // the client order id counter from the store. Corrupt records are errors.
  [[nodiscard]] Result<void> load();
  // Compares with every broker and generates what is missing (journalled,
  // as events from that broker); on any failure trading goes HALTED with the
  // reason. Then activates emulated legs that a crash left unsent.
  std::vector<ReconcileReport> reconcile();
  const std::vector<ReconcileReport>& lastReconcile() const { return reconciled_; }

  // An order from a strategy, the API or the CLI. An invalid intent or an
  // unknown broker is an Error (nothing stored); a risk refusal is an Order
  // in status rejected with reason_code and reason (stored and journalled).
  [[nodiscard]] Result<Order> submit(OrderIntent intent, std::string broker = {},
                                     OrderPurpose purpose = OrderPurpose::Normal);
  // Asks the broker to cancel an open order (a group: both legs). NotFound
  // for an unknown id, InvalidArgument for an order no longer open.
  [[nodiscard]] Result<Order> cancel(const std::string& client_order_id, const std::string& why = "canceled on request");

  // Broker reports (core thread, after the session journalled them).
  void onOrder(const std::string& broker, const OrderEvent& event);
  void onFill(const std::string& broker, const FillEvent& event);
  // An option's expiry, exercise or assignment comes from no order: it is
  // booked to the strategies that hold the contract. Who got how much of the
  // settlement fill `fill_id` (nullptr when it is not one of the last few).
  struct SettlementShare {
    std::string strategy;
    double quantity = 0;
  };
  const std::vector<SettlementShare>* settlementShares(std::string_view fill_id) const;
  // The last price of a symbol from market data: marks positions, feeds the
  // price collar and notional checks.
  void mark(std::string_view symbol, double price);
  // Periodic (the session's idle tick): loss limits on marked P&L, and
  // expired contracts held both ways across books closed against each other.
  void tick();

  // The kill switch: HALTED, every open order canceled, optionally every
  // position closed with market orders (which pass in HALTED).
  KillResult kill(bool flatten, const std::string& reason);
  // HALTED without canceling anything (a store failure, a failed
  // reconciliation): the reason is journalled and kept.
  void halt(const std::string& reason);
  // Operator: back to ACTIVE or REDUCING. InvalidArgument for HALTED.
  [[nodiscard]] Result<void> resume(TradingState to, const std::string& reason);

  const Order* find(std::string_view client_order_id) const;
  // The option contracts an open order or a position is in, sorted, each once.
  std::vector<std::string> optionContractsInPlay() const;
  std::vector<const Order*> orders(const OrderFilter& filter) const;
  const PositionBook& book(std::string_view broker = {}) const;
  RiskService& risk() { return risk_; }
  const RiskService& risk() const { return risk_; }
  double lastPrice(std::string_view symbol) const override;

  // JSON for the API (shapes in docs/api.md).
  std::string ordersJson(const OrderFilter& filter) const;
  std::string positionsJson(std::string_view strategy) const;
  std::string accountJson();
  // The default broker's account as last reported (asked for when none was yet).
  std::optional<th_account> currentAccount();
  std::string riskJson() const;
  // {"state", "reason", "reconcile": [...]} for /api/v1/health.
  std::string healthJson() const;

  struct Stats {
    uint64_t submitted = 0, risk_rejected = 0, broker_rejected = 0, fills = 0, duplicate_fills = 0,
             illegal_reports = 0, overfills = 0, adopted = 0;
  };
  const Stats& stats() const { return stats_; }

  // For a host with deferredCommits(): the order records and the risk state
  // changed since the last call, into the batch.
  void writeRecords();

 private:
  // RiskView
  double strategyQuantity(std::string_view strategy, std::string_view symbol) const override;
  double accountQuantity(std::string_view symbol) const override;
  double accountGrossExposure() const override;
  double strategyGrossExposure(std::string_view strategy) const override;
  size_t accountOpenOrders() const override;
  size_t strategyOpenOrders(std::string_view strategy) const override;
  double pendingQuantity(std::string_view strategy, std::string_view symbol, OrderSide side) const override;
  double accountPendingQuantity(std::string_view symbol, OrderSide side) const override;
  // Remaining quantity of open orders (of one strategy, or all when null) at the checked broker.
  double pending(const std::string_view* strategy, std::string_view symbol, OrderSide side) const;
  double shortCallContracts(std::string_view underlying) const override;
  std::optional<double> buyingPower() const override;
  bool regularHours(int64_t ts_ns) const override;

  Result<Order> submitAs(OrderIntent intent, std::string broker, OrderPurpose purpose, std::string parent_id);
  // Into the map and the batch; `encoded` receives the stored text.
  Order& store(Order order, std::string* encoded = nullptr);
  // The order's record into the batch (encoded now when `encoded` wants
  // the text; else, with deferredCommits(), by writeRecords()).
  void persist(const Order& order, std::string* encoded = nullptr);
  // The risk state into the batch when it changed (likewise deferred).
  void persistRisk();
  void putRisk();
  void journalAction(std::string_view action, const Order& order, const std::string& detail);
  void journalDecision(const Order& order, OrderPurpose purpose, const RiskDecision& decision);
  void applyStateChange(const std::optional<StateChange>& change);
  std::string nextClientOrderId();
  void notifyOrder(const Order& order);
  // Sends a stored pending-new order; on failure marks it rejected.
  void send(Order& order);
  th_order_request request(const Order& order, bool native) const;
  bool emulates(const BrokerPort& port, const OrderIntent& intent) const;
  // A bracket or OTO whose legs the broker places (TH_BROKER_NATIVE_EXITS):
  // they are recorded with the entry as "<id>.sl", ".tp", ".tx", pending
  // until the broker reports them placed.
  bool placesExits(const BrokerPort& port, const Order& order) const;
  void recordNativeLegs(const Order& entry);
  // An entry that ended without a fill: its native legs will never exist.
  void closeUnplacedLegs(const Order& entry, const std::string& why);
  void refreshAccount(BrokerPort& port);
  PositionBook& bookFor(const std::string& broker);
  void checkPnl();
  void updateOpenIndex(const Order& order);

  // brackets.cpp
  void ensureLegs(Order& parent);
  void onLegFill(Order& leg);
  void checkOverfill(Order& leg);
  void updateGroup(const std::string& group_id);
  Order makeLeg(const Order& parent, OrderRole role, double quantity) const;
  double coveredQuantity(const Order& parent) const;
  std::vector<Order*> children(std::string_view parent_id);
  // Emulated brackets' time exits that are due: cancel, then close the rest.
  void emulateTimeExits();

  // reconcile.cpp
  ReconcileReport reconcileWith(BrokerPort& port);
  void journalEvent(const std::string& broker, EventPayload payload);

  Store& store_;
  BrokerServiceHost& host_;
  RiskService risk_;
  std::vector<std::unique_ptr<BrokerPort>> ports_;
  std::string default_broker_;
  std::map<std::string, Order, std::less<>> orders_;
  std::map<std::string, std::vector<std::string>, std::less<>> children_;  // parent → child ids, in creation order
  // Open orders (incl. pending-new), by id; the risk view walks them per
  // order, so they are held by pointer (orders_ is a map: stable addresses).
  std::map<std::string, const Order*, std::less<>> open_;
  std::map<std::string, PositionBook, std::less<>> books_;                  // by broker
  // The last price by symbol, and the positions a mark of it sets: looked up
  // on every bar, so found once per shape of the books.
  struct LastPrice {
    double price = 0;
    uint64_t shape = 0;  // booksShape() when `positions` was found
    std::vector<Position*> positions;
  };
  SymbolMap<LastPrice> prices_;
  uint64_t booksShape() const;
  std::map<std::string, th_account, std::less<>> accounts_;                 // last account snapshot by broker
  std::string checking_broker_;  // whose account the risk check reads
  // Symbols marked since the start; loss limits wait for every open position.
  SymbolMap<bool> marked_;
  bool all_marked_ = false;
  std::string stored_risk_;  // the risk state as last put in the store
  std::vector<const Order*> unwritten_;  // deferred order records (orders_ never drops one)
  bool risk_unwritten_ = false;
  std::string id_epoch_;
  uint64_t next_order_number_ = 1;
  uint64_t next_fill_key_ = 1;
  std::vector<ReconcileReport> reconciled_;
  // Emulated entries with a time exit not yet carried out, and the cancels it asked for.
  std::set<std::string, std::less<>> timed_entries_;
  std::set<std::string, std::less<>> exit_cancels_;
  std::set<std::string, std::less<>> killed_entries_;  // native entries the kill switch canceled
  Stats stats_;
  // onFill's parts: books one fill on its strategy (false when refused or a
  // duplicate); splits a settlement among the contract's holders.
  bool bookFill(const std::string& broker_id, const FillInput& fill, const Order* order, std::string_view client_order_id);
  // What a reported fill books on `strategy`'s book.
  static FillInput fillInput(const FillEvent& event, std::string strategy);
  void bookSettlement(const std::string& broker_id, const FillEvent& event, const FillInput& fill);
  static std::vector<SettlementShare> deliveredFrom(const PositionBook& positions, const FillInput& fill,
                                                    const std::vector<SettlementShare>& holders);
  void rememberSettlement(const std::string& fill_id, std::vector<SettlementShare> shares);
  std::map<std::string, std::vector<SettlementShare>, std::less<>> settlements_;
  std::deque<std::string> settlement_order_;  // settlements_' keys, oldest first
  // Expired contracts that two books hold both ways (settlement.cpp).
  void offsetExpiredContracts();
  void offsetContract(const std::string& broker_id, const std::string& contract, int64_t now_ns);
  int64_t next_offset_check_ns_ = 0;
};

}  // namespace th
