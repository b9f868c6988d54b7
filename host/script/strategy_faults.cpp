// When a strategy's callbacks go wrong: errors counted toward a fault, the
// fault itself, and the operator taking the core thread from a callback.
#include "script/strategy_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "script/instance.h"
#include "script/lua_engine.h"

namespace th {

void StrategyService::preempt(const char* reason, std::string_view strategy) {
  if (!strategy.empty()) {
    auto current = watchdog_->current();
    if (!current || !current->label.starts_with(fmt::format("{} ", strategy))) return;
  }
  watchdog_->preempt(reason);
}

std::optional<StrategyService::RunningCallback> StrategyService::runningCallback() const {
  auto current = watchdog_->current();
  if (!current) return std::nullopt;
  return RunningCallback{std::move(current->label), current->ms};
}

// ----------------------------------------------------------------- errors --

void StrategyService::callbackFailed(StrategyEntry& entry, const Error& error) {
  ++stats_.errors;
  ++entry.errors_total;
  entry.last_error = error.message;
  spdlog::error("[strategy {} {}] {}", entry.id, entry.definition.version, error.message);
  auto first_line = error.message.substr(0, error.message.find('\n'));
  journal("error", entry, {{"error", first_line}, {"traceback", error.message}});
  int64_t now = host_.nowNs();
  entry.error_times.push_back(now);
  int64_t window = entry.definition.runtime.error_window_s * 1'000'000'000LL;
  while (!entry.error_times.empty() && entry.error_times.front() <= now - window) entry.error_times.pop_front();
  ++entry.consecutive_errors;
  if (entry.error_times.size() >= entry.definition.runtime.max_errors) {
    fault(entry, fmt::format("{} callback error(s) within {} s (runtime.max_errors); the last: {}",
                             entry.error_times.size(), entry.definition.runtime.error_window_s, first_line));
  } else if (entry.consecutive_errors >= entry.definition.runtime.max_consecutive_errors) {
    // However far apart: a strategy failing on every 1-minute bar never
    // reaches max_errors within a window, and is still not trading.
    fault(entry, fmt::format("{} callbacks failed in a row (runtime.max_consecutive_errors); the last: {}",
                             entry.consecutive_errors, first_line));
  }
}

void StrategyService::fault(StrategyEntry& entry, const std::string& reason) {
  ++stats_.faults;
  entry.status = StrategyStatus::Faulted;
  entry.reason = reason;
  entry.fault = reason;
  nlohmann::json canceled = nlohmann::json::array();
  if (auto* broker = host_.broker(); broker && entry.definition.runtime.on_fault == FaultPolicy::Cancel) {
    OrderFilter filter;
    filter.strategy = entry.id;
    filter.limit = 100'000;
    std::vector<std::string> ids;
    // Entries and single orders go; the protective legs of what already
    // filled stay, so a position is never left without its stop.
    for (const auto* order : broker->orders(filter)) {
      if (order->role == OrderRole::Single || order->role == OrderRole::Entry) ids.push_back(order->client_order_id);
    }
    for (const auto& id : ids) {
      if (broker->cancel(id, fmt::format("strategy {} faulted", entry.id))) canceled.push_back(id);
    }
  }
  spdlog::error("strategy {} {} FAULTED and stopped: {} (open orders: {}{})", entry.id, entry.definition.version,
                reason, entry.definition.runtime.on_fault == FaultPolicy::Cancel ? "canceled" : "kept",
                canceled.empty() ? "" : fmt::format(", {} cancel(s) sent", canceled.size()));
  journal("fault", entry, {{"reason", reason}, {"canceled", canceled},
                           {"policy", entry.definition.runtime.on_fault == FaultPolicy::Cancel ? "cancel" : "keep"}});
  entry.dirty = true;
  saveState(entry);
  // The faulted state closes; a later enable starts the version afresh.
  auto* doomed = entry.instance.release();
  if (!host_.postOffCore([doomed] { delete doomed; })) delete doomed;
  reindex();
}

}  // namespace th
