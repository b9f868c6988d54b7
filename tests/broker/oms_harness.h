// A host for the broker service in tests: a real RocksDB store in a temp dir,
// the real paper broker loaded from libpaper.so through the plugin registry,
// and a market feed the test drives by hand. Broker reports are queued as the
// session queues them and delivered by pump(), so a test decides when the
// host "hears" of a fill — or crashes before it does (crash()).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_service.h"
#include "broker/order_json.h"
#include "core/time.h"
#include "plugin/plugin.h"
#include "store/journal_codec.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace th::test {

inline constexpr int64_t kMillis = 1'000'000;

// A broker port that hides some of the broker's capabilities from the host.
class MaskedPort final : public BrokerPort {
 public:
  MaskedPort(std::unique_ptr<BrokerPort> port, uint32_t hidden) : port_(std::move(port)), hidden_(hidden) {}
  const std::string& id() const override { return port_->id(); }
  uint32_t capabilities() const override { return port_->capabilities() & ~hidden_; }
  bool connected() const override { return port_->connected(); }
  Result<void> submit(const th_order_request& request, th_status* status) override {
    return port_->submit(request, status);
  }
  Result<void> cancel(std::string_view id, th_status* status) override { return port_->cancel(id, status); }
  Result<void> openOrders(const std::function<void(const th_order_state&)>& sink) override {
    return port_->openOrders(sink);
  }
  Result<void> positions(const std::function<void(const th_position&)>& sink) override {
    return port_->positions(sink);
  }
  Result<void> fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink) override {
    return port_->fills(since_ns, sink);
  }
  Result<th_account> account() override { return port_->account(); }

 private:
  std::unique_ptr<BrokerPort> port_;
  uint32_t hidden_;
};

class OmsHarness : public BrokerServiceHost, public PluginEventSink {
 public:
  // `hidden`: capabilities of the paper broker the host is not told about.
  // By default its native exits are hidden, so that brackets take the host's
  // emulation (as at a broker without them); 0 shows the broker as it is.
  explicit OmsHarness(RiskConfig risk = permissiveRisk(), nlohmann::json paper_config = {},
                      uint32_t hidden = TH_BROKER_NATIVE_EXITS)
      : risk_(std::move(risk)), paper_config_(std::move(paper_config)), hidden_(hidden) {
    if (paper_config_.is_null()) paper_config_ = nlohmann::json::object();
    paper_config_["state_file"] = (dir_.path() / "paper.json").string();
    if (!paper_config_.contains("latency_ms")) paper_config_["latency_ms"] = 0;
    if (!paper_config_.contains("commission_per_share")) paper_config_["commission_per_share"] = 0;
    open();
  }
  ~OmsHarness() override { close(); }

  // Limits that let every test order through unless a test sets its own.
  static RiskConfig permissiveRisk() {
    RiskConfig risk;
    risk.limits = {};
    risk.check_buying_power = false;
    risk.require_covered_calls = true;
    return risk;
  }

  // Opens the store, loads the paper broker, restores and reconciles.
  void open() {
    auto store = Store::open((dir_.path() / "store").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    batch_.emplace(store_->batch());
    registry_ = std::make_unique<PluginRegistry>(*this);
    auto paper = registry_->add("paper", std::string(TH_PLUGIN_DIR) + "/libpaper.so", paper_config_.dump());
    ASSERT_TRUE(paper) << paper.error().message;
    paper_ = *paper;
    ASSERT_TRUE(paper_->connect());
    service_ = std::make_unique<BrokerService>(risk_, *store_, *this);
    service_->addBroker(std::make_unique<MaskedPort>(makePluginBrokerPort(*paper_), hidden_));
    auto loaded = service_->load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    reports_ = service_->reconcile();
    commit();
  }

  // Everything the host has not committed is lost, as with kill -9; the
  // broker keeps what it did (its state file is saved on every change).
  void crash() {
    service_.reset();
    {
      std::lock_guard lock(mutex_);
      events_.clear();
    }
    registry_.reset();
    batch_.reset();
    store_.reset();
  }
  void close() {
    if (!store_) return;
    pump();
    commit();
    crash();
  }
  void restart() {
    crash();
    open();
  }

  // Delivers queued broker reports until none are left (the service's own
  // reactions, such as a cancel, may queue more), committing each group.
  void pump() {
    for (int rounds = 0; rounds < 100; ++rounds) {
      std::vector<Event> events;
      {
        std::lock_guard lock(mutex_);
        events.swap(events_);
      }
      if (events.empty()) return;
      for (auto& event : events) {
        if (auto* order = std::get_if<OrderEvent>(&event.payload)) {
          service_->onOrder("paper", *order);
        } else if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
          if (event.source != 0) service_->onFill("paper", *fill);
        }
        if (on_report) on_report(event);
      }
      commit();
    }
    FAIL() << "broker reports did not settle";
  }
  void commit() {
    if (deferred_commits) service_->writeRecords();
    auto ok = store_->commit(*batch_);
    ASSERT_TRUE(ok) << ok.error().message;
  }

  // Market feed: to the paper broker (which may fill), and as the last price.
  void quote(const std::string& symbol, double bid, double ask, double size = 1000) {
    th_quote q{sizeof(th_quote), symbol.data(), static_cast<uint32_t>(symbol.size()), now_, bid, ask, size, size};
    service_->mark(symbol, (bid + ask) / 2);
    paper_->feedQuote(q);
    now_ += kMillis;
    pump();
  }
  void bar(const std::string& symbol, double open, double high, double low, double close, double volume = 100000) {
    th_bar b{sizeof(th_bar), symbol.data(), static_cast<uint32_t>(symbol.size()), TH_BAR_FINAL, now_,
             60'000 * kMillis, open, high, low, close, volume, (high + low) / 2, 100};
    paper_->feedBar(b);
    service_->mark(symbol, close);
    now_ += 60'000 * kMillis;
    pump();
  }

  // BrokerServiceHost
  int64_t nowNs() const override { return now_; }
  Batch& batch() override { return *batch_; }
  bool deferredCommits() const override { return deferred_commits; }
  bool commitNow(bool sync) override {
    if (deferred_commits) return true;
    if (sync) batch_->requireSync();
    if (fail_commits) return false;
    if (commit_delay.count() > 0) std::this_thread::sleep_for(commit_delay);  // a slow disk's sync
    return store_->commit(*batch_).has_value();
  }
  void notify(std::string message) override { messages.push_back(std::move(message)); }
  bool listening() const override { return true; }
  bool regularHours(int64_t) const override { return market_open; }
  // Queued as the session queues it: the host's own event (source 0), which
  // pump() hands on without booking it again.
  void serviceFill(FillEvent fill) override {
    service_fills.push_back(fill);
    post(0, std::move(fill));
  }

  // PluginEventSink
  void post(uint16_t source, EventPayload&& payload) override {
    std::lock_guard lock(mutex_);
    events_.push_back(Event{source, std::move(payload)});
  }
  void log(const std::string&, int32_t, std::string_view) override {}

  BrokerService& oms() { return *service_; }
  PluginInstance& paper() { return *paper_; }
  const PluginRegistry& registry() const { return *registry_; }
  // Moves the broker reports queued so far into `out`.
  void takeEvents(std::vector<Event>& out) {
    std::lock_guard lock(mutex_);
    out.swap(events_);
    events_.clear();
  }
  Store& store() { return *store_; }
  const std::vector<ReconcileReport>& reports() const { return reports_; }
  void advance(int64_t ns) { now_ += ns; }
  size_t pending() {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

  // The journal records of one kind, decoded to JSON.
  std::vector<nlohmann::json> journal(JournalKind kind) {
    commit();
    std::vector<nlohmann::json> out;
    // Paged: a full-speed replay journals more than a million records.
    for (uint64_t from = 1;;) {
      auto records = store_->readJournal(from, 100'000);
      EXPECT_TRUE(records);
      if (!records || records->empty()) return out;
      for (const auto& record : *records) {
        if (record.kind == static_cast<uint16_t>(kind)) out.push_back(nlohmann::json::parse(journalRecordJson(record)));
      }
      from = records->back().sequence + 1;
    }
  }

  // The paper broker's own view, read from its state file.
  nlohmann::json paperState() const {
    std::ifstream in(dir_.path() / "paper.json");
    return nlohmann::json::parse(in);
  }

  bool market_open = true;
  bool fail_commits = false;
  std::chrono::milliseconds commit_delay{0};
  // As a backtest's host: commitNow() writes nothing, and each commit of a
  // group first has the service write the records it deferred.
  bool deferred_commits = false;
  // Called after the service processed each broker report (strategies hear of them here).
  std::function<void(const Event&)> on_report;
  std::vector<std::string> messages;
  std::vector<FillEvent> service_fills;  // what the service booked on its own (serviceFill)

 private:
  TempDir dir_;
  RiskConfig risk_;
  nlohmann::json paper_config_;
  uint32_t hidden_ = 0;
  int64_t now_ = fromExchangeTime(20261116, 10, 0);
  std::unique_ptr<Store> store_;
  std::optional<Batch> batch_;
  std::unique_ptr<PluginRegistry> registry_;
  PluginInstance* paper_ = nullptr;
  std::unique_ptr<BrokerService> service_;
  std::vector<ReconcileReport> reports_;
  std::mutex mutex_;
  std::vector<Event> events_;
};

inline OrderIntent intent(std::string symbol, OrderSide side, double quantity, std::string strategy = "s1") {
  OrderIntent in;
  in.strategy = std::move(strategy);
  in.symbol = std::move(symbol);
  in.side = side;
  in.quantity = quantity;
  return in;
}

}  // namespace th::test
