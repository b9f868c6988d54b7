#include "runtime/router.h"
#include "broker/instrument.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/broker_service.h"
#include "chart/chart_hub.h"
#include "plugin/plugin.h"
#include "script/strategy_service.h"

namespace th {

QualityVerdict EventRouter::route(const Event& event) {
  if (auto* task = std::get_if<TaskEvent>(&event.payload)) {
    task->run();
    return {};
  }
  const uint64_t sequence = host_.record(event);
  if (auto* connection = std::get_if<ConnectionEvent>(&event.payload)) {
    static constexpr std::string_view kStates[] = {"disconnected", "connecting", "connected", "failed"};
    auto state = connection->state >= 0 && connection->state <= 3 ? kStates[connection->state] : "unknown";
    const auto* instance = parts_.registry ? parts_.registry->at(event.source) : nullptr;
    spdlog::info("plugin '{}' {}{}{}", instance ? instance->id() : std::string_view("host"), state,
                 connection->reason.empty() ? "" : ": ", connection->reason);
  }
  // The record keeps what arrived; what the quality checks drop goes no
  // further: not to the charts, not to a simulated broker's fills.
  const QualityVerdict verdict = judge(event);
  if (verdict.drop) return verdict;
  chart(event);
  feedBrokers(event);
  trade(event);
  if (parts_.strategies && (!event.isMarketData() || fromMarket(event))) parts_.strategies->onEvent(event, sequence);
  host_.routed(event);
  return verdict;
}

bool EventRouter::fromMarket(const Event& event) const {
  return parts_.market && event.source == parts_.market->index();
}

QualityVerdict EventRouter::judge(const Event& event) {
  if (!parts_.quality) return {};
  if (auto* trade = std::get_if<TradeEvent>(&event.payload)) return parts_.quality->checkTrade(*trade);
  if (auto* quote = std::get_if<QuoteEvent>(&event.payload)) return parts_.quality->checkQuote(*quote, host_.nowNs());
  if (auto* bar = std::get_if<BarEvent>(&event.payload)) return parts_.quality->checkBar(*bar);
  return {};
}

void EventRouter::chart(const Event& event) {
  ChartHub* chart = parts_.chart;
  if (!chart) return;
  if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
    Marker marker;
    marker.ts_ns = fill->ts_ns;
    marker.kind = MarkerKind::Fill;
    marker.price = fill->price;
    marker.side = fill->side == TH_SIDE_SELL ? "sell" : "buy";
    marker.text = fmt::format("{} {} @ {}", fill->side == TH_SIDE_SELL ? "SELL" : "BUY", fill->quantity, fill->price);
    if (fill->activity != TH_FILL_TRADE) marker.text += fmt::format(" ({})", fillActivityName(fill->activity));
    const auto* instance = parts_.registry ? parts_.registry->at(event.source) : nullptr;
    marker.origin = instance ? instance->id() : "host";
    chart->addMarker(fill->symbol, std::move(marker));
    return;
  }
  if (!fromMarket(event)) return;
  if (auto* trade = std::get_if<TradeEvent>(&event.payload)) {
    chart->onTrade(*trade);
  } else if (auto* bar = std::get_if<BarEvent>(&event.payload)) {
    chart->onBar(*bar);
  } else if (auto* connection = std::get_if<ConnectionEvent>(&event.payload)) {
    if (connection->state == TH_CONN_CONNECTED) {
      chart->providerConnection(true, connection->reason);
    } else if (connection->state == TH_CONN_DISCONNECTED || connection->state == TH_CONN_FAILED) {
      chart->providerConnection(false, connection->reason);
    }
  }
}

void EventRouter::feedBrokers(const Event& event) {
  const TradeEvent* trade = std::get_if<TradeEvent>(&event.payload);
  const QuoteEvent* quote = std::get_if<QuoteEvent>(&event.payload);
  const BarEvent* bar = std::get_if<BarEvent>(&event.payload);
  if ((!trade && !quote && !bar) || !parts_.registry) return;
  bool holding = false;  // only a host with a simulated broker holds reports (none live)
  std::vector<Event> reports;
  try {
    for (const auto& instance : parts_.registry->all()) {
      if (!instance->wantsMarketFeed() || instance->state() != PluginState::Connected) continue;
      if (!holding) {
        host_.holdReports();
        holding = true;
      }
      if (trade) {
        auto s = trade->symbol.view();
        th_trade t{sizeof(th_trade), s.data(),       static_cast<uint32_t>(s.size()), trade->ts_ns, trade->price,
                   trade->size,      trade->sequence};
        instance->feedTrade(t);
      } else if (quote) {
        auto s = quote->symbol.view();
        th_quote q{sizeof(th_quote), s.data(),       static_cast<uint32_t>(s.size()),
                   quote->ts_ns,     quote->bid,     quote->ask,
                   quote->bid_size,  quote->ask_size};
        instance->feedQuote(q);
      } else {
        auto s = bar->symbol.view();
        th_bar b{sizeof(th_bar),  s.data(),      static_cast<uint32_t>(s.size()),
                 bar->flags,      bar->start_ns, bar->duration_ns,
                 bar->open,       bar->high,     bar->low,
                 bar->close,      bar->volume,   bar->vwap,
                 bar->trade_count};
        instance->feedBar(b);
      }
    }
  } catch (...) {
    // What the brokers reported before the failure is not lost: it is
    // routed, then the failure goes on to the core loop's guard.
    if (holding) {
      host_.takeReports(reports);
      for (const Event& report : reports) route(report);
    }
    throw;
  }
  if (!holding) return;
  // What the brokers filled during this event happened inside it: a stop or
  // target hit within the bar is booked, and heard by the strategies, before
  // they judge the bar at its close.
  host_.takeReports(reports);
  for (const Event& report : reports) route(report);
}

void EventRouter::trade(const Event& event) {
  BrokerService* broker = parts_.broker;
  if (!broker) return;
  if (auto* trade = std::get_if<TradeEvent>(&event.payload)) {
    broker->mark(trade->symbol.view(), trade->price);
  } else if (auto* bar = std::get_if<BarEvent>(&event.payload)) {
    broker->mark(bar->symbol.view(), bar->close);
  } else if (auto* quote = std::get_if<QuoteEvent>(&event.payload)) {
    // Options trade rarely: their quotes mark them.
    if (isOccSymbol(quote->symbol.view())) {
      if (const auto mark = optionMark(*quote)) broker->mark(quote->symbol.view(), *mark);
    }
  } else if (auto* order = std::get_if<OrderEvent>(&event.payload)) {
    const auto* instance = parts_.registry ? parts_.registry->at(event.source) : nullptr;
    if (instance && instance->isBroker()) broker->onOrder(instance->id(), *order);
  } else if (auto* fill = std::get_if<FillEvent>(&event.payload)) {
    // Source 0 is the host's own fill, which the broker service booked itself.
    const auto* instance = parts_.registry ? parts_.registry->at(event.source) : nullptr;
    if (instance && instance->isBroker()) broker->onFill(instance->id(), *fill);
  }
}

}  // namespace th
