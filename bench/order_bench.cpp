// The order path's two budgets, measured through the real broker service, a
// real RocksDB store and the real paper broker (libpaper.so):
//
//   order_bench latency [--orders N] [--sync] [--open K] [--paper-state-file]
//     Wall time of BrokerService::submit() — validation, the risk check, the
//     client order id, the store commit, the paper broker's submit — per
//     call, with the steady clock around each call, after a warm-up. Limit
//     orders 3% through the market (they rest), alternating buy and sell,
//     over 50 symbols and 10 strategies, one every 100 ms of exchange time.
//     The oldest orders are canceled, untimed, to hold K resting (200, the
//     shipped max_open_orders, unless --open says otherwise). Without --sync
//     the host's commitNow() does not sync (store.sync_orders: false); with
//     it every order is synced, as shipped. Each submit is split at the
//     broker port into before, inside and after the plugin call; the risk
//     check alone (RiskService::check against a view that answers in O(1))
//     is timed separately. --paper-state-file gives the paper broker its
//     state file, which it rewrites and fsyncs on every order.
//
//   order_bench events [--events N] [--group G] [--no-sync]
//     Sustained order and fill events per second through what the session
//     does with each: encode it for the journal, call onOrder / onFill, and
//     commit one synced WriteBatch per G events (--no-sync: not synced, to
//     tell the disk's part of a commit from the rest). The events are the paper
//     broker's own reports: market orders are submitted (untimed), then
//     trades of one share each, round robin over the symbols, fill every
//     order of 3 shares in three parts; the reports it posts — accepted,
//     then (fill, partially filled) twice and (fill, filled) — are replayed
//     through the host, timed. Rounds alternate buying and selling what the
//     previous round bought, a little higher, so positions stay bounded and
//     closing fills realise gains, as the risk service expects to see.
//
// Both take the risk limits from the shipped config/host.yaml (all checks
// on, the market open) and print every limit they had to change.
//
// A plain program rather than a Google Benchmark: the figures are latency
// percentiles over every call and rates of one whole run.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_service.h"
#include "config/config.h"
#include "core/time.h"
#include "plugin/plugin.h"
#include "store/journal_codec.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace th {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMillis = 1'000'000;
constexpr size_t kSymbols = 50;
constexpr size_t kStrategies = 10;
// One order every 100 ms of exchange time: 60 per minute per strategy,
// under the shipped max_orders_per_minute of 120.
constexpr int64_t kOrderStep = 100 * kMillis;
// Orders from 09:31 must stay inside the regular session.
constexpr int64_t kSessionBudget = int64_t{6} * 3600 * 1'000'000'000;
constexpr double kStartingCash = 10'000'000;

long argValue(int argc, char** argv, const char* name, long fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

bool argFlag(int argc, char** argv, const char* name) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

int64_t elapsedNs(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

// Percentiles of samples in ns, printed in µs.
class Samples {
 public:
  void reserve(size_t n) { values_.reserve(n); }
  void add(int64_t ns) { values_.push_back(ns); }
  size_t size() const { return values_.size(); }
  double percentileUs(double p) {
    sort();
    if (values_.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(values_.size())));
    return static_cast<double>(values_[std::clamp<size_t>(rank, 1, values_.size()) - 1]) / 1000;
  }
  double meanUs() const {
    if (values_.empty()) return 0;
    return static_cast<double>(std::accumulate(values_.begin(), values_.end(), int64_t{0})) /
           static_cast<double>(values_.size()) / 1000;
  }
  void print(const char* label) {
    std::printf("  %-34s p50 %7.2f  p90 %7.2f  p99 %7.2f  p99.9 %8.2f  max %8.2f  mean %7.2f µs\n", label,
                percentileUs(50), percentileUs(90), percentileUs(99), percentileUs(99.9), percentileUs(100), meanUs());
  }

 private:
  void sort() {
    if (sorted_) return;
    std::sort(values_.begin(), values_.end());
    sorted_ = true;
  }
  std::vector<int64_t> values_;
  bool sorted_ = false;
};

// What one fdatasync of a 4 KiB write costs on the disk under `dir`: the
// floor of every synced commit. Median of 200.
double fsyncProbeUs(const std::string& dir) {
  const std::string path = dir + "/fsync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::vector<char> page(4096, 'x');
  Samples samples;
  for (int i = 0; i < 200; ++i) {
    auto start = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(i) * 4096) < 0 || ::fdatasync(fd) != 0) break;
    samples.add(elapsedNs(start, Clock::now()));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return samples.percentileUs(50);
}

std::string symbolName(size_t i) {
  std::string name = "S";
  name += static_cast<char>('A' + i / 26);
  name += static_cast<char>('A' + i % 26);
  return name;
}
std::string strategyName(size_t symbol) {
  std::string name = "s";
  name += static_cast<char>('0' + symbol % kStrategies);
  return name;
}
// $20.00 to $195.00: notional and position limits see ordinary stocks.
double basePrice(size_t symbol) { return 20.0 + 3.5 * static_cast<double>(symbol); }
double cents(double price) { return std::round(price * 100) / 100; }

// Marks when the paper broker's submit is entered and left, so submit()
// splits into the host's work before the plugin call, the call, and after.
class TimedPort final : public BrokerPort {
 public:
  explicit TimedPort(std::unique_ptr<BrokerPort> inner) : inner_(std::move(inner)) {}
  const std::string& id() const override { return inner_->id(); }
  uint32_t capabilities() const override { return inner_->capabilities(); }
  bool connected() const override { return inner_->connected(); }
  Result<void> submit(const th_order_request& request, th_status* status) override {
    entered = Clock::now();
    auto result = inner_->submit(request, status);
    left = Clock::now();
    return result;
  }
  Result<void> cancel(std::string_view client_order_id, th_status* status) override {
    return inner_->cancel(client_order_id, status);
  }
  Result<void> openOrders(const std::function<void(const th_order_state&)>& sink) override {
    return inner_->openOrders(sink);
  }
  Result<void> positions(const std::function<void(const th_position&)>& sink) override {
    return inner_->positions(sink);
  }
  Result<void> fills(int64_t since_ns, const std::function<void(const th_fill&)>& sink) override {
    return inner_->fills(since_ns, sink);
  }
  Result<th_account> account() override { return inner_->account(); }

  Clock::time_point entered, left;

 private:
  std::unique_ptr<BrokerPort> inner_;
};

// The session's part, reduced to what the order path touches: the store
// with one pending batch, the paper broker loaded through the registry, its
// reports queued and processed as Session::process does, the exchange clock
// under the bench's control and the market always open.
class BenchHost final : public BrokerServiceHost, public PluginEventSink {
 public:
  BenchHost(RiskConfig risk, bool sync_orders, bool paper_state_file) : sync_orders_(sync_orders) {
    auto store = Store::open((dir_.path() / "store").string());
    if (!store) die("store: " + store.error().message);
    store_ = std::move(*store);
    batch_.emplace(store_->batch());
    nlohmann::json paper = {{"starting_cash", kStartingCash}, {"latency_ms", 50}, {"commission_per_share", 0}};
    if (paper_state_file) paper["state_file"] = (dir_.path() / "paper.json").string();
    registry_ = std::make_unique<PluginRegistry>(*this);
    auto instance = registry_->add("paper", std::string(TH_PLUGIN_DIR) + "/libpaper.so", paper.dump());
    if (!instance) die("paper: " + instance.error().message);
    paper_ = *instance;
    if (auto connected = paper_->connect(); !connected) die("paper: " + connected.error().message);
    service_ = std::make_unique<BrokerService>(std::move(risk), *store_, *this);
    auto port = std::make_unique<TimedPort>(makePluginBrokerPort(*paper_));
    port_ = port.get();
    service_->addBroker(std::move(port));
    if (auto loaded = service_->load(); !loaded) die("load: " + loaded.error().message);
    (void)service_->reconcile();
    processPending();
    commit();
  }
  ~BenchHost() override {
    service_.reset();
    registry_.reset();
  }

  [[noreturn]] static void die(const std::string& message) {
    std::fprintf(stderr, "order_bench: %s\n", message.c_str());
    std::exit(1);
  }

  // What Session::process does with each queued report: journal it (synced
  // when it is an order or fill and sync_orders is on), then the broker
  // service. Returns how many were processed.
  size_t processPending() {
    std::vector<Event> events;
    {
      std::lock_guard lock(mutex_);
      events.swap(events_);
    }
    for (const auto& event : events) process(event);
    return events.size();
  }
  void process(const Event& event) {
    if (auto encoded = encodeEvent(event, paper_->id())) {
      batch_->journal(static_cast<uint16_t>(encoded->kind), event.timestamp(), encoded->payload);
      if (event.needsSync() && sync_orders_) batch_->requireSync();
    }
    if (auto* order = std::get_if<OrderEvent>(&event.payload)) {
      service_->onOrder(paper_->id(), *order);
    } else if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
      service_->onFill(paper_->id(), *fill);
    }
  }
  std::vector<Event> takeEvents() {
    std::lock_guard lock(mutex_);
    std::vector<Event> events;
    events.swap(events_);
    return events;
  }
  void commit() {
    if (auto ok = store_->commit(*batch_); !ok) die("commit: " + ok.error().message);
  }

  // BrokerServiceHost
  int64_t nowNs() const override { return now_; }
  Batch& batch() override { return *batch_; }
  bool commitNow(bool sync) override {
    if (sync && sync_orders_) batch_->requireSync();
    auto start = Clock::now();
    bool ok = store_->commit(*batch_).has_value();
    last_commit_ns = elapsedNs(start, Clock::now());
    return ok;
  }
  // The session builds nothing when no client listens; the service already
  // formatted the message, which is the part that counts.
  void notify(std::string) override {}
  bool listening() const override { return false; }  // no WebSocket clients in a benchmark
  bool regularHours(int64_t) const override { return true; }
  void serviceFill(FillEvent) override {}  // no strategies to hand it to

  // PluginEventSink
  void post(uint16_t source, EventPayload&& payload) override {
    std::lock_guard lock(mutex_);
    events_.push_back(Event{source, std::move(payload)});
  }
  void log(const std::string&, int32_t, std::string_view) override {}

  BrokerService& oms() { return *service_; }
  PluginInstance& paper() { return *paper_; }
  TimedPort& port() { return *port_; }
  Store& store() { return *store_; }
  const test::TempDir& dir() const { return dir_; }
  void advance(int64_t ns) { now_ += ns; }

  int64_t last_commit_ns = 0;

 private:
  test::TempDir dir_;
  bool sync_orders_;
  int64_t now_ = fromExchangeTime(20261116, 9, 31);
  std::unique_ptr<Store> store_;
  std::optional<Batch> batch_;
  std::unique_ptr<PluginRegistry> registry_;
  PluginInstance* paper_ = nullptr;
  TimedPort* port_ = nullptr;
  std::unique_ptr<BrokerService> service_;
  std::mutex mutex_;
  std::vector<Event> events_;
};

RiskConfig shippedRisk() { return parseHostConfig(embeddedHostConfig(), "<embedded config/host.yaml>").risk; }

void printLimits(const RiskConfig& risk, const std::vector<std::string>& changes) {
  const RiskLimits& l = risk.limits;
  std::printf(
      "risk: config/host.yaml limits: max_order_quantity %.0f, max_order_notional %.0f, max_position_notional %.0f, "
      "max_gross_exposure %.0f, max_open_orders %u, max_orders_per_minute %u, price_collar_pct %.1f, "
      "regular_hours_only %s (market open), duplicate_window_s %.0f, check_buying_power %s\n",
      l.max_order_quantity.value_or(0), l.max_order_notional.value_or(0), l.max_position_notional.value_or(0),
      l.max_gross_exposure.value_or(0), l.max_open_orders.value_or(0), l.max_orders_per_minute.value_or(0),
      l.price_collar_pct.value_or(0), l.regular_hours_only.value_or(false) ? "true" : "false",
      l.duplicate_window_s.value_or(0), risk.check_buying_power ? "true" : "false");
  if (changes.empty()) {
    std::printf("risk: no limit changed for the bench\n");
  } else {
    for (const auto& change : changes) std::printf("risk: CHANGED for the bench: %s\n", change.c_str());
  }
}

// The exchange-time step per order: 100 ms, shorter when that many orders
// would run past the close, with max_orders_per_minute raised to match.
int64_t orderStep(size_t orders, RiskConfig& risk, std::vector<std::string>& changes) {
  int64_t step = std::min<int64_t>(kOrderStep, kSessionBudget / static_cast<int64_t>(std::max<size_t>(orders, 1)));
  const auto per_strategy =
      static_cast<uint32_t>(std::ceil(60e9 / static_cast<double>(step) / static_cast<double>(kStrategies)));
  if (per_strategy * 2 > risk.limits.max_orders_per_minute.value_or(UINT32_MAX)) {
    risk.limits.max_orders_per_minute = per_strategy * 2;
    changes.push_back("max_orders_per_minute " + std::to_string(per_strategy * 2) + " (" +
                      std::to_string(per_strategy) + " orders per minute per strategy)");
  }
  return step;
}

// ------------------------------------------------------------------ latency --

// The risk service's view with every answer ready: what the check itself
// costs, apart from how the broker service finds the answers.
class FixedView final : public RiskView {
 public:
  explicit FixedView(size_t open_orders) : open_orders_(open_orders) {}
  double lastPrice(std::string_view symbol) const override {
    return basePrice(static_cast<size_t>((symbol[1] - 'A') * 26 + (symbol[2] - 'A')));
  }
  double strategyQuantity(std::string_view, std::string_view) const override { return 0; }
  double accountQuantity(std::string_view) const override { return 0; }
  double accountGrossExposure() const override { return 0; }
  double strategyGrossExposure(std::string_view) const override { return 0; }
  size_t accountOpenOrders() const override { return open_orders_; }
  size_t strategyOpenOrders(std::string_view) const override { return open_orders_ / kStrategies; }
  double pendingQuantity(std::string_view, std::string_view, OrderSide) const override { return 0; }
  double accountPendingQuantity(std::string_view, OrderSide) const override { return 0; }
  std::optional<double> buyingPower() const override { return kStartingCash; }
  bool regularHours(int64_t) const override { return true; }
  double shortCallContracts(std::string_view) const override { return 0; }

 private:
  size_t open_orders_;
};

// Resting limit orders, 3% through the last price (inside the 5% collar),
// buy and sell in turn, 1 to 100 shares.
OrderIntent restingIntent(size_t n) {
  const size_t symbol = n % kSymbols;
  OrderIntent intent;
  intent.strategy = strategyName(symbol);
  intent.symbol = symbolName(symbol);
  intent.side = (n / kSymbols) % 2 == 0 ? OrderSide::Buy : OrderSide::Sell;
  intent.type = OrderType::Limit;
  intent.quantity = static_cast<double>(1 + n % 100);
  intent.limit_price = cents(basePrice(symbol) * (intent.side == OrderSide::Buy ? 0.97 : 1.03));
  return intent;
}

int runLatency(int argc, char** argv) {
  const auto orders = static_cast<size_t>(argValue(argc, argv, "--orders", 100000));
  const bool sync = argFlag(argc, argv, "--sync");
  const bool paper_state_file = argFlag(argc, argv, "--paper-state-file");
  const auto resting = static_cast<size_t>(std::max(1L, argValue(argc, argv, "--open", 200)));
  const size_t warmup = std::min<size_t>(10000, std::max<size_t>(orders / 10, 100));

  RiskConfig risk = shippedRisk();
  std::vector<std::string> changes;
  if (resting > risk.limits.max_open_orders.value_or(UINT32_MAX)) {
    risk.limits.max_open_orders = static_cast<uint32_t>(resting);
    changes.push_back("max_open_orders " + std::to_string(resting) + " (--open)");
  }
  const int64_t step = orderStep(warmup + orders, risk, changes);

  BenchHost host(risk, sync, paper_state_file);
  std::printf(
      "order_bench latency: %zu orders after %zu warm-up, %zu symbols, %zu strategies, %zu resting, "
      "commit %s, paper state file %s, paper starting_cash %.0f\n",
      orders, warmup, kSymbols, kStrategies, resting,
      sync ? "synced (sync_orders: true)" : "not synced (sync_orders: false)",
      paper_state_file ? "on (rewritten and fsynced per order)" : "off", kStartingCash);
  printLimits(risk, changes);
  std::printf("disk: one 4 KiB write + fdatasync, median of 200: %.0f µs\n", fsyncProbeUs(host.dir().str()));

  BrokerService& oms = host.oms();
  for (size_t s = 0; s < kSymbols; ++s) oms.mark(symbolName(s), basePrice(s));

  Samples total, before_plugin, plugin, after_plugin, commit, cancels;
  for (auto* s : {&total, &before_plugin, &plugin, &after_plugin, &commit, &cancels}) s->reserve(orders);
  std::deque<std::string> open;
  size_t refused = 0;
  int64_t timed_ns = 0;
  for (size_t n = 0; n < warmup + orders; ++n) {
    const bool timed = n >= warmup;
    // Untimed: hold the resting set, and let the host take in the broker's
    // reports (the last order's acceptance, the cancels) in one group.
    while (open.size() >= resting) {
      auto start = Clock::now();
      auto canceled = oms.cancel(open.front(), "bench: bounded resting set");
      if (timed) cancels.add(elapsedNs(start, Clock::now()));
      if (!canceled) BenchHost::die("cancel " + open.front() + ": " + canceled.error().message);
      open.pop_front();
    }
    host.processPending();
    host.commit();
    host.advance(step);
    OrderIntent intent = restingIntent(n);

    auto start = Clock::now();
    auto order = oms.submit(std::move(intent));
    auto end = Clock::now();

    if (!order) BenchHost::die("submit: " + order.error().message);
    if (order->status == OrderStatus::Rejected) {
      if (++refused == 1) std::fprintf(stderr, "refused: %s %s\n", order->reason_code.c_str(), order->reason.c_str());
      continue;
    }
    open.push_back(order->client_order_id);
    if (!timed) continue;
    const int64_t ns = elapsedNs(start, end);
    timed_ns += ns;
    total.add(ns);
    before_plugin.add(elapsedNs(start, host.port().entered));
    plugin.add(elapsedNs(host.port().entered, host.port().left));
    after_plugin.add(elapsedNs(host.port().left, end));
    commit.add(host.last_commit_ns);
  }
  if (refused) BenchHost::die(std::to_string(refused) + " order(s) refused: the bench's orders must all pass");

  std::printf("submit(), %zu calls: %.0f orders/s (sum of the timed calls only)\n", total.size(),
              static_cast<double>(total.size()) / (static_cast<double>(timed_ns) / 1e9));
  total.print("submit() total");
  before_plugin.print("  before the plugin call");
  commit.print("    of which the store commit");
  plugin.print("  the paper broker's submit");
  after_plugin.print("  after the plugin call");
  cancels.print("cancel() (untimed in the above)");

  // The risk check alone, on the same intents, against answers ready in
  // O(1): what RiskService::check costs apart from the broker service's view.
  RiskService alone(risk);
  FixedView view(resting - 1);
  Samples check;
  check.reserve(orders);
  int64_t now = fromExchangeTime(20261116, 9, 31);
  for (size_t n = 0; n < warmup + orders; ++n) {
    now += step;
    OrderIntent intent = restingIntent(n);
    auto start = Clock::now();
    RiskDecision decision = alone.check(intent, OrderPurpose::Normal, view, now);
    auto end = Clock::now();
    if (!decision.accepted) BenchHost::die("risk check alone refused: " + decision.detail);
    alone.recordAccepted(intent, now);
    if (n >= warmup) check.add(elapsedNs(start, end));
  }
  check.print("RiskService::check alone");
  return 0;
}

// ------------------------------------------------------------------- events --

int runEvents(int argc, char** argv) {
  const auto target = static_cast<size_t>(argValue(argc, argv, "--events", 200000));
  const auto group = static_cast<size_t>(std::max(1L, argValue(argc, argv, "--group", 256)));
  const bool sync = !argFlag(argc, argv, "--no-sync");
  constexpr size_t kFillsPerOrder = 3;
  constexpr size_t kEventsPerOrder = 1 + 2 * kFillsPerOrder;  // accepted, then (fill, order state) per fill
  // Orders per round: a multiple of the group size in events, so that every
  // commit holds exactly `group` events, and at least 200.
  const size_t unit = group / std::gcd(group, kEventsPerOrder);
  const size_t round_orders = unit * ((200 + unit - 1) / unit);
  const size_t rounds = 1 + (target + round_orders * kEventsPerOrder - 1) / (round_orders * kEventsPerOrder);

  RiskConfig risk = shippedRisk();
  std::vector<std::string> changes;
  if (round_orders > risk.limits.max_open_orders.value_or(UINT32_MAX)) {
    risk.limits.max_open_orders = static_cast<uint32_t>(round_orders);
    changes.push_back("max_open_orders " + std::to_string(round_orders) +
                      " (a round's orders are all submitted before the first fills)");
  }
  const int64_t step = orderStep(rounds * round_orders, risk, changes);

  BenchHost host(risk, sync, false);
  std::printf(
      "order_bench events: %zu rounds (1 warm-up) of %zu market orders x %zu events = %zu events per round, "
      "%s commit every %zu events, %zu symbols, %zu strategies, paper starting_cash %.0f\n",
      rounds, round_orders, kEventsPerOrder, round_orders * kEventsPerOrder, sync ? "synced" : "NOT synced", group,
      kSymbols, kStrategies, kStartingCash);
  printLimits(risk, changes);
  std::printf("disk: one 4 KiB write + fdatasync, median of 200: %.0f µs\n", fsyncProbeUs(host.dir().str()));

  BrokerService& oms = host.oms();
  Samples commits;
  size_t events_timed = 0;
  int64_t timed_ns = 0;
  uint64_t synced_timed = 0;
  for (size_t round = 0; round < rounds; ++round) {
    const bool timed = round > 0;
    const OrderSide side = round % 2 == 0 ? OrderSide::Buy : OrderSide::Sell;
    // Untimed: prices a little higher each round, the orders, then the
    // trades that fill them.
    std::vector<double> price(kSymbols);
    auto trade = [&](size_t s) {
      const std::string symbol = symbolName(s);
      th_trade print{
          sizeof(th_trade), symbol.data(), static_cast<uint32_t>(symbol.size()), host.nowNs(), price[s], 1, 0};
      host.paper().feedTrade(print);
      host.advance(kMillis);
    };
    for (size_t s = 0; s < kSymbols; ++s) {
      price[s] = cents(basePrice(s) * (1 + 0.001 * static_cast<double>(round)));
      // The paper broker prices a market buy's reservation from the last
      // trade; no order is open yet, so this one fills nothing.
      trade(s);
      oms.mark(symbolName(s), price[s]);
    }
    std::vector<size_t> units_left(kSymbols, 0);
    for (size_t n = 0; n < round_orders; ++n) {
      const size_t s = n % kSymbols;
      OrderIntent intent;
      intent.strategy = strategyName(s);
      intent.symbol = symbolName(s);
      intent.side = side;
      intent.type = OrderType::Market;
      intent.quantity = kFillsPerOrder;
      host.advance(step);
      auto order = oms.submit(std::move(intent));
      if (!order) BenchHost::die("submit: " + order.error().message);
      if (order->status == OrderStatus::Rejected) {
        BenchHost::die("submit refused: " + order->reason_code + " " + order->reason);
      }
      units_left[s] += kFillsPerOrder;
    }
    host.advance(kOrderStep);  // past the paper broker's 50 ms latency
    for (bool more = true; more;) {
      more = false;
      for (size_t s = 0; s < kSymbols; ++s) {
        if (units_left[s] == 0) continue;
        trade(s);
        more = more || --units_left[s] > 0;
      }
    }
    std::vector<Event> events = host.takeEvents();
    if (events.size() != round_orders * kEventsPerOrder) {
      BenchHost::die("the paper broker reported " + std::to_string(events.size()) + " events for " +
                     std::to_string(round_orders) + " orders, expected " +
                     std::to_string(round_orders * kEventsPerOrder));
    }

    // Timed: what the session does with each report, one synced group
    // commit per `group` events.
    const uint64_t synced_at_start = host.store().syncedCommits();
    auto start = Clock::now();
    size_t in_group = 0;
    for (const auto& event : events) {
      host.process(event);
      if (++in_group == group) {
        auto commit_start = Clock::now();
        host.commit();
        if (timed) commits.add(elapsedNs(commit_start, Clock::now()));
        in_group = 0;
      }
    }
    auto end = Clock::now();
    if (timed) {
      timed_ns += elapsedNs(start, end);
      events_timed += events.size();
      synced_timed += host.store().syncedCommits() - synced_at_start;
    }
  }

  const auto& stats = oms.stats();
  const double seconds = static_cast<double>(timed_ns) / 1e9;
  std::printf("processed %zu events in %.3f s: %.0f events/s, %.0f commits/s (%zu commits, %llu of them synced)\n",
              events_timed, seconds, static_cast<double>(events_timed) / seconds,
              static_cast<double>(commits.size()) / seconds, commits.size(),
              static_cast<unsigned long long>(synced_timed));
  std::printf("per event, commits included: %.2f µs; commits take %.0f%% of the time\n",
              seconds * 1e6 / static_cast<double>(events_timed),
              100 * commits.meanUs() * static_cast<double>(commits.size()) / (seconds * 1e6));
  commits.print(sync ? "synced commit" : "commit (not synced)");
  std::printf(
      "broker service: %llu submitted, %llu fills booked, %llu duplicate fills, %llu illegal reports, "
      "%llu risk refusals; trading %s; %zu open orders\n",
      static_cast<unsigned long long>(stats.submitted), static_cast<unsigned long long>(stats.fills),
      static_cast<unsigned long long>(stats.duplicate_fills), static_cast<unsigned long long>(stats.illegal_reports),
      static_cast<unsigned long long>(stats.risk_rejected), std::string(toString(oms.risk().state())).c_str(),
      oms.orders({}).size());
  return 0;
}

}  // namespace
}  // namespace th

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "latency") return th::runLatency(argc, argv);
  if (mode == "events") return th::runEvents(argc, argv);
  std::fprintf(stderr,
               "usage: order_bench latency [--orders N] [--sync] [--open K] [--paper-state-file]\n"
               "       order_bench events [--events N] [--group G] [--no-sync]\n");
  return 2;
}
