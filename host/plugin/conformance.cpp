#include "plugin/conformance.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace th {
namespace {

using namespace std::chrono_literals;

// Records what the plugin reports; the kit waits on it with timeouts.
class RecordingSink final : public PluginEventSink {
 public:
  explicit RecordingSink(int64_t start_ns) : clock_(start_ns, 60) {}

  void post(uint16_t, EventPayload&& payload) override {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(payload));
    }
    changed_.notify_all();
  }
  int64_t nowNs() const override { return clock_.nowNs(); }
  void log(const std::string&, int32_t, std::string_view) override {}

  bool waitFor(const std::function<bool(const std::vector<EventPayload>&)>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(events_); });
  }
  template <typename Fn>
  auto read(Fn&& fn) {
    std::lock_guard lock(mutex_);
    return fn(events_);
  }

 private:
  SimulatedClock clock_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<EventPayload> events_;
};

std::vector<OrderEvent> ordersFor(const std::vector<EventPayload>& events, const std::string& id) {
  std::vector<OrderEvent> out;
  for (const auto& e : events) {
    if (auto* o = std::get_if<OrderEvent>(&e); o && o->client_order_id == id) out.push_back(*o);
  }
  return out;
}

double filledFor(const std::vector<EventPayload>& events, const std::string& id) {
  double total = 0;
  for (const auto& e : events) {
    if (auto* f = std::get_if<FillEvent>(&e); f && f->client_order_id == id) total += f->quantity;
  }
  return total;
}

bool hasStatus(const std::vector<EventPayload>& events, const std::string& id, int32_t status) {
  auto orders = ordersFor(events, id);
  return std::any_of(orders.begin(), orders.end(), [&](const OrderEvent& o) { return o.status == status; });
}

size_t marketEventsFor(const std::vector<EventPayload>& events, std::string_view symbol) {
  size_t n = 0;
  for (const auto& e : events) {
    if (auto* t = std::get_if<TradeEvent>(&e); t && t->symbol.view() == symbol) ++n;
    if (auto* q = std::get_if<QuoteEvent>(&e); q && q->symbol.view() == symbol) ++n;
    if (auto* b = std::get_if<BarEvent>(&e); b && b->symbol.view() == symbol) ++n;
  }
  return n;
}

class Checker {
 public:
  Checker(CheckReport& report, RecordingSink& sink, PluginInstance& plugin, std::string symbol)
      : report_(report), sink_(sink), plugin_(plugin), symbol_(std::move(symbol)) {}

  // Runs one step; `body` returns a detail for a pass, or throws Failure /
  // Skipped. True when the step passed.
  bool step(const std::string& name, const std::function<std::string()>& body) {
    CheckStep s{name, CheckStep::Outcome::Pass, ""};
    try {
      s.detail = body();
    } catch (const Failure& f) {
      s.outcome = CheckStep::Outcome::Fail;
      s.detail = f.what();
    } catch (const Skipped& k) {
      s.outcome = CheckStep::Outcome::Skip;
      s.detail = k.what();
    }
    bool passed = s.outcome == CheckStep::Outcome::Pass;
    report_.steps.push_back(std::move(s));
    return passed;
  }

  struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  struct Skipped : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  static void require(bool ok, const std::string& why) {
    if (!ok) throw Failure(why);
  }
  template <typename T>
  static T expect(Result<T> r, std::string_view what) {
    if (!r) throw Failure(fmt::format("{}: {}", what, r.error().message));
    if constexpr (!std::is_void_v<T>) return std::move(*r);
  }

  th_order_request order(const std::string& id, int32_t side, int32_t type, double qty, double limit) {
    ids_.push_back(id);
    th_order_request o{};
    o.struct_size = sizeof o;
    o.client_order_id = ids_.back().c_str();
    o.client_order_id_len = static_cast<uint32_t>(ids_.back().size());
    o.symbol = symbol_.c_str();
    o.symbol_len = static_cast<uint32_t>(symbol_.size());
    o.asset_class = TH_ASSET_EQUITY;
    o.side = side;
    o.type = type;
    o.time_in_force = TH_TIF_GTC;
    o.order_class = TH_CLASS_SIMPLE;
    o.quantity = qty;
    o.limit_price = limit;
    return o;
  }

  void quote(double bid, double ask, double size) {
    th_quote q{sizeof(th_quote),
               symbol_.c_str(),
               static_cast<uint32_t>(symbol_.size()),
               sink_.nowNs() + 1'000'000'000,
               bid,
               ask,
               size,
               size};
    plugin_.feedQuote(q);
  }

  bool openOrderListed(const std::string& id) {
    bool found = false;
    expect(plugin_.openOrders([&](const th_order_state& o) {
      if (std::string_view(o.client_order_id, o.client_order_id_len) == id) found = true;
    }),
           "open_orders");
    return found;
  }

  void runBroker();
  void runData(int64_t at_ns);

 private:
  CheckReport& report_;
  RecordingSink& sink_;
  PluginInstance& plugin_;
  std::string symbol_;
  std::deque<std::string> ids_;  // keeps order id strings alive and stable
};

void Checker::runBroker() {
  const std::string run =
      fmt::format("chk{}", std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
  const auto resting = run + "-rest", market = run + "-mkt", flat = run + "-flat", bad = run + "-bad",
             kept = run + "-keep";
  if (!step("connect", [&] { return expect(plugin_.connect(), "connect"), std::string(); })) return;
  step("account", [&] {
    auto a = expect(plugin_.account(), "account");
    return fmt::format("account '{}' equity {:.2f} {} buying power {:.2f}", a.account_id, a.equity, a.currency,
                       a.buying_power);
  });
  step("submit (resting limit order)", [&] {
    auto o = order(resting, TH_SIDE_BUY, TH_ORDER_LIMIT, 1, 1.00);
    expect(plugin_.submit(o), "submit");
    require(sink_.waitFor([&](auto& ev) { return hasStatus(ev, resting, TH_STATUS_ACCEPTED); }, 5s),
            "no ACCEPTED report for the order within 5 s");
    return std::string("accepted");
  });
  step("duplicate client order id", [&] {
    size_t before = sink_.read([&](auto& ev) { return ordersFor(ev, resting).size(); });
    th_status status = TH_OK;
    auto result = plugin_.submit(order(resting, TH_SIDE_BUY, TH_ORDER_LIMIT, 1, 1.00), &status);
    require(!result && status == TH_ERR_DUPLICATE,
            fmt::format("second submit with the same id returned status {}, expected TH_ERR_DUPLICATE ({})", status,
                        static_cast<int>(TH_ERR_DUPLICATE)));
    std::this_thread::sleep_for(300ms);
    size_t after = sink_.read([&](auto& ev) { return ordersFor(ev, resting).size(); });
    require(after == before, "the duplicate produced order reports");
    return std::string("refused, no new report");
  });
  step("open orders", [&] {
    require(openOrderListed(resting), "the resting order is not listed by open_orders");
    return std::string();
  });
  step("cancel", [&] {
    expect(plugin_.cancel(resting), "cancel");
    require(sink_.waitFor([&](auto& ev) { return hasStatus(ev, resting, TH_STATUS_CANCELED); }, 5s),
            "no CANCELED report within 5 s");
    require(!openOrderListed(resting), "the canceled order is still listed by open_orders");
    th_status status = TH_OK;
    auto again = plugin_.cancel(resting, &status);
    require(!again && status == TH_ERR_NOT_FOUND,
            fmt::format("cancel of a closed order returned status {}, expected TH_ERR_NOT_FOUND", status));
    return std::string("canceled; second cancel refused");
  });
  step("reject", [&] {
    th_status status = TH_OK;
    auto result = plugin_.submit(order(bad, TH_SIDE_BUY, TH_ORDER_MARKET, 0, 0), &status);
    require(!result && (status == TH_ERR_REJECTED || status == TH_ERR_INVALID_ARGUMENT),
            fmt::format("an order for quantity 0 returned status {}, expected TH_ERR_REJECTED", status));
    std::this_thread::sleep_for(200ms);
    auto reports = sink_.read([&](auto& ev) { return ordersFor(ev, bad); });
    for (const auto& r : reports) {
      require(r.status == TH_STATUS_REJECTED || r.status == TH_STATUS_PENDING_NEW,
              fmt::format("the refused order was reported with status {}", r.status));
    }
    require(!openOrderListed(bad), "the refused order is listed as open");
    return fmt::format("refused: {}", result ? "" : result.error().message);
  });
  bool feed = plugin_.wantsMarketFeed();
  step("partial fill", [&]() -> std::string {
    if (!feed) throw Skipped("the broker takes no market feed; partial fills need a live venue");
    quote(99.99, 100.00, 0);  // a market to price the order against, nothing offered yet
    expect(plugin_.submit(order(market, TH_SIDE_BUY, TH_ORDER_MARKET, 300, 0)), "submit market buy 300");
    quote(99.99, 100.00, 100);
    require(sink_.waitFor([&](auto& ev) { return hasStatus(ev, market, TH_STATUS_PARTIALLY_FILLED); }, 5s),
            "no PARTIALLY_FILLED report after a quote for 100 of 300");
    double first = sink_.read([&](auto& ev) { return filledFor(ev, market); });
    require(first > 0 && first < 300, fmt::format("filled {} after the first quote, expected a part of 300", first));
    quote(99.99, 100.00, 1000);
    require(sink_.waitFor([&](auto& ev) { return hasStatus(ev, market, TH_STATUS_FILLED); }, 5s),
            "no FILLED report after a quote for 1000");
    double total = sink_.read([&](auto& ev) { return filledFor(ev, market); });
    require(total == 300, fmt::format("fills add up to {}, expected 300", total));
    double position = 0;
    expect(plugin_.positions([&](const th_position& p) {
      if (std::string_view(p.symbol, p.symbol_len) == symbol_) position = p.quantity;
    }),
           "positions");
    require(position >= 300, fmt::format("position in {} is {}, expected at least 300", symbol_, position));
    expect(plugin_.submit(order(flat, TH_SIDE_SELL, TH_ORDER_MARKET, 300, 0)), "submit market sell 300");
    quote(99.99, 100.00, 1000);
    require(sink_.waitFor([&](auto& ev) { return hasStatus(ev, flat, TH_STATUS_FILLED); }, 5s),
            "the closing sell did not fill");
    return fmt::format("{} then 300 of 300 filled; position closed", first);
  });
  step("fills since", [&]() -> std::string {
    if (!feed) throw Skipped("no fills were made");
    size_t n = 0;
    expect(plugin_.fills(0,
                         [&](const th_fill& f) {
                           auto id = std::string_view(f.client_order_id, f.client_order_id_len);
                           if (id == market || id == flat) ++n;
                         }),
           "fills");
    require(n >= 2, fmt::format("fills() listed {} fills of the check's orders, expected at least 2", n));
    return fmt::format("{} fills listed", n);
  });
  step("disconnect", [&] {
    expect(plugin_.submit(order(kept, TH_SIDE_BUY, TH_ORDER_LIMIT, 1, 1.00)), "submit resting order");
    expect(plugin_.disconnect(), "disconnect");
    th_status status = TH_OK;
    auto result = plugin_.submit(order(run + "-offline", TH_SIDE_BUY, TH_ORDER_LIMIT, 1, 1.00), &status);
    require(!result && status == TH_ERR_NOT_CONNECTED,
            fmt::format("submit while disconnected returned status {}, expected TH_ERR_NOT_CONNECTED", status));
    return std::string("submit refused while disconnected");
  });
  step("reconnect", [&] {
    expect(plugin_.connect(), "connect");
    require(openOrderListed(kept), "an order resting before the disconnect is gone after reconnecting");
    expect(plugin_.cancel(kept), "cancel");
    return std::string("resting order survived the reconnect");
  });
  (void)plugin_.disconnect();
}

void Checker::runData(int64_t at_ns) {
  if (!step("connect", [&] { return expect(plugin_.connect(), "connect"), std::string(); })) return;
  step("lookup", [&]() -> std::string {
    if (std::find(plugin_.info().functions.begin(), plugin_.info().functions.end(), "lookup") ==
        plugin_.info().functions.end()) {
      throw Skipped("no lookup function");
    }
    auto instrument = expect(plugin_.lookup(symbol_), "lookup");
    return fmt::format("{} on {} tick {}", instrument.symbol, instrument.exchange, instrument.tick_size);
  });
  step("symbols", [&]() -> std::string {
    if (std::find(plugin_.info().functions.begin(), plugin_.info().functions.end(), "symbols") ==
        plugin_.info().functions.end()) {
      throw Skipped("no symbols function");
    }
    auto symbols = expect(plugin_.symbols(), "symbols");
    require(std::binary_search(symbols.begin(), symbols.end(), symbol_),
            fmt::format("{} is not among the {} symbol(s) listed", symbol_, symbols.size()));
    return fmt::format("{} symbol(s), {} among them", symbols.size(), symbol_);
  });
  step("history", [&] {
    th_history_request request{
        sizeof(th_history_request),        symbol_.c_str(), static_cast<uint32_t>(symbol_.size()),
        at_ns - 30LL * 60 * 1'000'000'000, at_ns,           60'000'000'000};
    std::vector<th_bar> bars;
    expect(plugin_.history(request, [&](const th_bar& b) { bars.push_back(b); }), "history");
    require(!bars.empty(), "no bars for the 30 minutes before --at");
    for (size_t i = 0; i < bars.size(); ++i) {
      const auto& b = bars[i];
      require(b.start_ns >= request.from_ns && b.start_ns < request.to_ns, "a bar lies outside the requested range");
      require(i == 0 || b.start_ns > bars[i - 1].start_ns, "bars are not in ascending time order");
      require(b.low <= std::min(b.open, b.close) && b.high >= std::max(b.open, b.close),
              "a bar's high/low do not contain open/close");
      require(b.flags & TH_BAR_HISTORY, "a history bar lacks the TH_BAR_HISTORY flag");
    }
    return fmt::format("{} bars", bars.size());
  });
  step("subscribe", [&] {
    expect(plugin_.subscribe(symbol_, TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M), "subscribe");
    require(sink_.waitFor([&](auto& ev) { return marketEventsFor(ev, symbol_) > 0; }, 10s),
            "no trade, quote or bar arrived within 10 s of subscribing");
    return fmt::format("{} events", sink_.read([&](auto& ev) { return marketEventsFor(ev, symbol_); }));
  });
  step("option chain", [&]() -> std::string {
    if (std::find(plugin_.info().functions.begin(), plugin_.info().functions.end(), "option_chain") ==
        plugin_.info().functions.end()) {
      throw Skipped("no option_chain function");
    }
    size_t calls = 0, puts = 0, crossed = 0;
    expect(plugin_.optionChain(symbol_, 0,
                               [&](const th_option_quote& q) {
                                 (q.right == TH_OPTION_CALL ? calls : puts)++;
                                 if (q.bid > q.ask) ++crossed;
                               }),
           "option_chain");
    require(calls > 0 && puts > 0, fmt::format("{} calls and {} puts, expected both", calls, puts));
    require(crossed == 0, fmt::format("{} contracts have bid > ask", crossed));
    return fmt::format("{} calls, {} puts", calls, puts);
  });
  step("unsubscribe", [&] {
    expect(plugin_.unsubscribe(symbol_, TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M), "unsubscribe");
    std::this_thread::sleep_for(300ms);
    size_t before = sink_.read([&](auto& ev) { return marketEventsFor(ev, symbol_); });
    std::this_thread::sleep_for(1500ms);
    size_t after = sink_.read([&](auto& ev) { return marketEventsFor(ev, symbol_); });
    require(after == before, fmt::format("{} events arrived after unsubscribing", after - before));
    return std::string("stream stopped");
  });
  step("reconnect keeps subscriptions", [&] {
    expect(plugin_.subscribe(symbol_, TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M), "subscribe");
    expect(plugin_.disconnect(), "disconnect");
    size_t before = sink_.read([&](auto& ev) { return marketEventsFor(ev, symbol_); });
    expect(plugin_.connect(), "connect");
    require(sink_.waitFor([&](auto& ev) { return marketEventsFor(ev, symbol_) > before; }, 10s),
            "no event within 10 s of reconnecting: the subscription did not survive disconnect/connect");
    expect(plugin_.unsubscribe(symbol_, TH_STREAM_TRADES | TH_STREAM_QUOTES | TH_STREAM_BARS_1M), "unsubscribe");
    return std::string("streams resumed without a new subscribe");
  });
  step("disconnect", [&] {
    expect(plugin_.disconnect(), "disconnect");
    return std::string();
  });
}

}  // namespace

bool CheckReport::passed() const {
  return !steps.empty() && std::none_of(steps.begin(), steps.end(),
                                        [](const CheckStep& s) { return s.outcome == CheckStep::Outcome::Fail; });
}

std::string_view toString(CheckStep::Outcome outcome) {
  switch (outcome) {
    case CheckStep::Outcome::Pass:
      return "PASS";
    case CheckStep::Outcome::Fail:
      return "FAIL";
    case CheckStep::Outcome::Skip:
      return "SKIP";
  }
  return "FAIL";
}

Result<CheckReport> checkPlugin(const std::string& path, const std::string& config_json, const std::string& symbol,
                                int64_t at_ns) {
  auto library = PluginLibrary::load(path);
  if (!library) return std::unexpected(library.error());
  CheckReport report;
  report.info = (*library)->info();
  RecordingSink sink(at_ns);
  PluginInstance instance(std::shared_ptr<PluginLibrary>(std::move(*library)), report.info.id, 1, sink);
  Checker checker(report, sink, instance, symbol);
  if (!checker.step("create", [&] { return Checker::expect(instance.create(config_json), "create"), std::string(); })) {
    return report;
  }
  if (instance.isBroker())
    checker.runBroker();
  else
    checker.runData(at_ns);
  instance.destroy();
  return report;
}

}  // namespace th
