// A host for the strategy service in tests: the broker service's harness
// (real RocksDB, real paper broker from libpaper.so) plus strategy folders
// written into a temp dir, a worker thread for warm-ups, and a queue of
// core-thread tasks the test runs (runTasks) as the core thread would. Bars
// take the host's one path, the router of sessions and backtests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/oms_harness.h"
#include "core/worker.h"
#include "data/calendar.h"
#include "runtime/router.h"
#include "script/strategy_service.h"

namespace th::test {

class StrategyHarness : public OmsHarness, public StrategyHost, public RouterHost {
 public:
  // `hidden`: the paper broker's capabilities the host is not told about
  // (by default its native exits, so brackets are emulated; 0 for none).
  explicit StrategyHarness(uint32_t hidden = TH_BROKER_NATIVE_EXITS)
      : OmsHarness(OmsHarness::permissiveRisk(), {}, hidden) {
    std::filesystem::create_directories(strategies_.path());
    on_report = [this](const Event& event) {
      if (service_) service_->onEvent(event, ++sequence_);
    };
  }
  ~StrategyHarness() override {
    on_report = nullptr;
    worker_.stop();
    runTasks();
    if (service_) {
      service_->stop();
      service_->endGroup();
    }
    service_.reset();
  }

  // strategies/<id>/<id>.yaml and <id>.lua (and more files: name → text).
  void write(const std::string& id, const std::string& yaml, const std::string& lua,
             const std::map<std::string, std::string>& more = {}) {
    auto folder = strategies_.path() / id;
    std::filesystem::create_directories(folder);
    std::ofstream(folder / (id + ".yaml")) << yaml;
    std::ofstream(folder / (id + ".lua")) << lua;
    for (const auto& [name, text] : more) {
      std::filesystem::create_directories((folder / name).parent_path());
      std::ofstream(folder / name) << text;
    }
  }
  std::filesystem::path strategiesDir() const { return strategies_.path(); }
  // A definition with the usual keys; `extra` is appended as YAML.
  static std::string yaml(const std::string& id, const std::string& version = "1.0.0",
                          const std::string& extra = "", const std::string& symbols = "[SPY]") {
    return "schema: 1\nid: " + id + "\nversion: " + version + "\nsymbols: " + symbols + "\ntimeframe: 1m\n" + extra;
  }
  std::string folder(const std::string& id) const { return (strategies_.path() / id).string(); }

  void start(StrategyOptions options = {}) {
    options.dir = strategies_.path().string();
    options.sdk_dir = std::string(TH_SOURCE_DIR) + "/sdk/lua";
    service_ = std::make_unique<StrategyService>(std::move(options), store(), *this);
    auto& parts = router_.parts();
    parts.broker = &oms();
    parts.strategies = service_.get();
    parts.registry = &registry();
    parts.market = &paper();  // bars come from source 1, the paper broker's index
    service_->start();
    flush();
  }
  // on_stop, state saved and committed, the service gone; the store stays.
  void stopService() {
    runTasks();
    service_->stop();
    flush();
    service_.reset();
  }
  // A whole host restart: strategies stop, the store and broker reopen,
  // the strategies start again.
  void restartHost() {
    stopService();
    restart();
    on_report = [this](const Event& event) {
      if (service_) service_->onEvent(event, ++sequence_);
    };
    start();
  }

  // One final 1-minute bar at the current time, delivered when it ends, as
  // the session delivers it: through the router (journalled, to the paper
  // broker — whose fills inside it come first — marked, to the strategies);
  // then the group commits and broker reports are heard.
  BarEvent minute(const std::string& symbol, double open, double high, double low, double close,
                  double volume = 100000) {
    BarEvent bar;
    bar.symbol = Symbol(symbol);
    bar.flags = TH_BAR_FINAL;
    bar.start_ns = OmsHarness::nowNs();
    bar.duration_ns = 60'000 * kMillis;
    bar.open = open;
    bar.high = high;
    bar.low = low;
    bar.close = close;
    bar.volume = volume;
    bar.vwap = (high + low + close) / 3;
    bar.trade_count = 100;
    advance(60'000 * kMillis);
    bars_[symbol].push_back(Candle{bar.start_ns, open, high, low, close, volume, 100, kCandleFinal});
    router_.route(Event{paper().index(), bar});
    flush();
    pump();
    flush();
    return bar;
  }
  // The 1-minute bars ctx:history serves for `symbol` are forgotten, as a
  // chart that holds none of them (a host started on a fresh store).
  void forgetBars(const std::string& symbol) { bars_.erase(symbol); }
  void minutes(const std::string& symbol, int count, double price = 100) {
    for (int i = 0; i < count; ++i) minute(symbol, price, price + 0.5, price - 0.5, price);
  }

  void flush() {
    runTasks();
    if (service_) service_->endGroup();
    commit();
  }
  // Runs the queued core-thread tasks (reload swaps, API calls).
  void runTasks() {
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(tasks_mutex_);
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  // Waits (running core tasks) until a reload/rollback answers.
  Result<std::string> await(const std::function<void(StrategyService::Done)>& request) {
    auto answer = std::make_shared<std::optional<Result<std::string>>>();
    auto answered = std::make_shared<std::mutex>();
    request([answer, answered](Result<std::string> result) {
      std::lock_guard lock(*answered);
      *answer = std::move(result);
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      runTasks();
      {
        std::lock_guard lock(*answered);
        if (answer->has_value()) {
          auto result = std::move(**answer);
          flush();
          return result;
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ADD_FAILURE() << "no answer within 20 s";
    return fail(ErrorCode::Unavailable, "timeout");
  }
  Result<std::string> reload(const std::string& id) {
    return await([&](StrategyService::Done done) { service_->reload(id, std::move(done)); });
  }
  Result<std::string> rollback(const std::string& id, const std::string& version = "") {
    return await([&](StrategyService::Done done) { service_->rollback(id, version, std::move(done)); });
  }

  StrategyService& strategies() { return *service_; }
  nlohmann::json info(const std::string& id) {
    auto text = service_->strategyJson(id);
    EXPECT_TRUE(text) << (text ? "" : text.error().message);
    return text ? nlohmann::json::parse(*text) : nlohmann::json();
  }
  nlohmann::json state(const std::string& id) { return info(id)["state"]; }
  std::string status(const std::string& id) { return info(id)["status"]; }

  // RouterHost
  uint64_t record(const Event& event) override {
    if (!std::holds_alternative<BarEvent>(event.payload)) return ++sequence_;
    sequence_ = std::max(sequence_, batch().journal(static_cast<uint16_t>(JournalKind::Bar), event.timestamp(), "bar"));
    return sequence_;
  }
  void holdReports() override {}
  void takeReports(std::vector<Event>& out) override { takeEvents(out); }

  // StrategyHost
  int64_t nowNs() const override { return OmsHarness::nowNs(); }
  Batch& batch() override { return OmsHarness::batch(); }
  void notify(std::string message) override { OmsHarness::notify(std::move(message)); }
  BrokerService* broker() override { return &oms(); }
  const SessionCalendar& calendar() const override { return SessionCalendar::builtin(); }
  std::vector<Candle> history(const std::string& symbol, Timeframe timeframe, size_t count) override {
    std::vector<Candle> out;
    if (timeframe == Timeframe::D1) {
      const auto& days = daily[symbol];
      size_t from = days.size() > count ? days.size() - count : 0;
      out.assign(days.begin() + static_cast<std::ptrdiff_t>(from), days.end());
      return out;
    }
    if (timeframe != Timeframe::M1) return out;
    const auto& bars = bars_[symbol];
    size_t from = bars.size() > count ? bars.size() - count : 0;
    out.assign(bars.begin() + static_cast<std::ptrdiff_t>(from), bars.end());
    return out;
  }
  void subscribe(const std::string& symbol, uint32_t streams, const std::string&) override {
    subscribed.push_back(symbol);
    subscribed_streams[symbol] |= streams;
  }
  Result<std::vector<OptionQuote>> optionChain(const std::string& underlying) override {
    auto it = chains.find(underlying);
    if (it == chains.end()) return fail(ErrorCode::Unavailable, "no option chains in this test for " + underlying);
    return it->second;
  }
  void addMarker(const std::string& symbol, Marker marker) override { markers.emplace_back(symbol, std::move(marker)); }
  bool postToCore(std::function<void()> task) override {
    if (core_poster) return core_poster(std::move(task));
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
    return true;
  }
  bool postOffCore(std::function<void()> task) override { return worker_.post(std::move(task)); }

  std::vector<std::string> subscribed;
  std::map<std::string, uint32_t> subscribed_streams;  // every stream asked for, per symbol
  std::vector<std::pair<std::string, Marker>> markers;
  std::map<std::string, std::vector<Candle>> daily;         // ctx:history(symbol, "1d")
  std::map<std::string, std::vector<OptionQuote>> chains;  // ctx:option_chain(underlying)
  // Set when a real core loop runs the service (the load test).
  std::function<bool(std::function<void()>)> core_poster;

 private:
  TempDir strategies_;
  std::unique_ptr<StrategyService> service_;
  std::map<std::string, std::vector<Candle>> bars_;
  uint64_t sequence_ = 0;
  EventRouter router_{*this};
  std::mutex tasks_mutex_;
  std::deque<std::function<void()>> tasks_;
  Worker worker_;
};

}  // namespace th::test
