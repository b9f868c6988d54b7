// The session's trading side: broker reports and marks into the broker
// service, start-up recovery, the BrokerServiceHost it runs in, and the
// TradingService the order, position and risk endpoints call.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>

#include "api/api_server.h"
#include "broker/order_json.h"
#include "cli/session.h"
#include "core/json.h"
#include "core/metrics.h"

namespace th {

Result<void> Session::runOnCoreAndWait(std::function<void()> work, std::string_view what, bool urgent,
                                       const std::function<void()>& after_posted) {
  std::promise<void> done;
  auto finished = done.get_future();
  Event task{0, TaskEvent{[&work, &done] {
    try {
      work();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  }}};
  bool posted = urgent ? queue_.pushUrgent(std::move(task)) : queue_.push(std::move(task));
  if (posted && after_posted) after_posted();
  if (!posted) return fail(ErrorCode::Unavailable, fmt::format("{}: the core has stopped", what));
  try {
    finished.get();
  } catch (const std::exception& e) {
    return fail(ErrorCode::Internal, fmt::format("{} failed: {}", what, e.what()));
  }
  return {};
}

Result<void> Session::recover() {
  return runOnCoreAndWait(
      [this] {
        broker_->reconcile();
        refreshTradingSnapshot();
      },
      "reconciliation with the brokers");
}

void Session::refreshTradingSnapshot() {
  auto health = broker_->healthJson();
  bool degraded = false;
  for (const auto& report : broker_->lastReconcile()) degraded = degraded || !report.ok;
  std::lock_guard lock(trading_mutex_);
  trading_health_ = std::move(health);
  trading_degraded_ = degraded;
  trading_stats_ = broker_->stats();
  trading_state_ = broker_->risk().state();
}

std::string Session::tradingMetrics() const {
  BrokerService::Stats stats;
  TradingState state;
  {
    std::lock_guard lock(trading_mutex_);
    stats = trading_stats_;
    state = trading_state_;
  }
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
    counterMetric(out, fmt::format("tradehost_orders_{}_total", name), help, value);
  };
  counter("submitted", "Orders sent to a broker.", stats.submitted);
  counter("risk_rejected", "Orders the risk service refused.", stats.risk_rejected);
  counter("broker_rejected", "Orders a broker refused or could not take.", stats.broker_rejected);
  counter("fills", "Fills booked.", stats.fills);
  counter("duplicate_fills", "Fills reported again and ignored.", stats.duplicate_fills);
  counter("illegal_reports", "Order reports refused by the status machine.", stats.illegal_reports);
  counter("overfills", "Over-fills of two bracket legs detected and taken back.", stats.overfills);
  counter("adopted", "Orders reported by a broker that this host did not place.", stats.adopted);
  metricHeader(out, "tradehost_trading_state", "gauge", "1 for the trading state the host is in.");
  for (auto s : {TradingState::Active, TradingState::Reducing, TradingState::Halted}) {
    out += fmt::format("tradehost_trading_state{{state=\"{}\"}} {}\n", toString(s), s == state ? 1 : 0);
  }
  return out;
}

bool Session::commitNow(bool sync) {
  if (sync && config_.sync_orders) batch_->requireSync();
  return commitPending();
}

void Session::notify(std::string message) {
  if (api_ && api_->clientCount() > 0) outbox_.push_back(std::move(message));
}

bool Session::regularHours(int64_t ts_ns) const { return data_->calendar().isOpen(ts_ns); }

void Session::onTradingCore(std::function<Result<std::string>()> work, JsonDone done, bool urgent) {
  auto task = [this, work = std::move(work), done]() mutable {
    auto result = work();
    // What the answer reports is on disk before the caller hears it.
    commitNow(true);
    refreshTradingSnapshot();
    done(std::move(result));
  };
  Event event{0, TaskEvent{std::move(task)}};
  if (!(urgent ? queue_.pushUrgent(std::move(event)) : queue_.push(std::move(event)))) {
    done(fail(ErrorCode::Unavailable, "the host is stopping"));
  }
}

void Session::submitOrder(OrderIntent intent, std::string broker, JsonDone done) {
  onTradingCore(
      [this, intent = std::move(intent), broker = std::move(broker)]() -> Result<std::string> {
        auto order = broker_->submit(intent, broker);
        if (!order) return std::unexpected(order.error());
        return encodeOrder(*order);
      },
      std::move(done));
}

void Session::cancelOrder(std::string client_order_id, JsonDone done) {
  onTradingCore(
      [this, id = std::move(client_order_id)]() -> Result<std::string> {
        auto order = broker_->cancel(id);
        if (!order) return std::unexpected(order.error());
        return encodeOrder(*order);
      },
      std::move(done));
}

void Session::order(std::string client_order_id, JsonDone done) {
  onTradingCore(
      [this, id = std::move(client_order_id)]() -> Result<std::string> {
        const Order* order = broker_->find(id);
        if (!order) return fail(ErrorCode::NotFound, fmt::format("no order '{}'", id));
        return encodeOrder(*order);
      },
      std::move(done));
}

void Session::listOrders(OrderQuery query, JsonDone done) {
  onTradingCore(
      [this, query = std::move(query)]() -> Result<std::string> {
        OrderFilter filter;
        filter.open_only = query.open_only;
        filter.strategy = query.strategy;
        filter.symbol = query.symbol;
        filter.limit = query.limit;
        return broker_->ordersJson(filter);
      },
      std::move(done));
}

void Session::positions(std::string strategy, JsonDone done) {
  onTradingCore([this, strategy = std::move(strategy)]() -> Result<std::string> { return broker_->positionsJson(strategy); },
                std::move(done));
}

void Session::account(JsonDone done) {
  onTradingCore([this]() -> Result<std::string> { return broker_->accountJson(); }, std::move(done));
}

void Session::risk(JsonDone done) {
  onTradingCore([this]() -> Result<std::string> { return broker_->riskJson(); }, std::move(done));
}

void Session::kill(bool flatten, std::string reason, JsonDone done) {
  onTradingCore(
      [this, flatten, reason = std::move(reason)]() -> Result<std::string> {
        spdlog::warn("kill switch{}{}{}", flatten ? " with flatten" : "", reason.empty() ? "" : ": ", reason);
        auto result = broker_->kill(flatten, reason);
        return jsonText(nlohmann::json{{"state", toString(broker_->risk().state())},
                                       {"reason", broker_->risk().stateReason()},
                                       {"canceled", result.canceled},
                                       {"flatten", result.flatten},
                                       {"errors", result.errors}});
      },
      std::move(done), /*urgent=*/true);
  // Ahead of every queued event, and a strategy callback running now is
  // stopped: the kill switch waits for no strategy.
  if (auto* strategies = strategies_any_thread_.load()) strategies->preempt("the kill switch");
}

void Session::resume(std::string state, std::string reason, JsonDone done) {
  onTradingCore(
      [this, state = std::move(state), reason = std::move(reason)]() -> Result<std::string> {
        auto to = state.empty() ? std::optional(TradingState::Active) : parseTradingState(state);
        if (!to) return fail(ErrorCode::InvalidArgument, fmt::format("state: '{}' is not active or reducing", state));
        if (auto ok = broker_->resume(*to, reason); !ok) return std::unexpected(ok.error());
        spdlog::warn("trading resumed: {}{}{}", toString(*to), reason.empty() ? "" : ": ", reason);
        return jsonText(nlohmann::json{{"state", toString(broker_->risk().state())},
                                       {"reason", broker_->risk().stateReason()}});
      },
      std::move(done));
}

bool Session::listening() const { return api_ && api_->clientCount() > 0; }

}  // namespace th
