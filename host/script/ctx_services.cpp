// The services ctx calls on the strategy's behalf: orders under its id,
// signals (with the latest checklist per symbol and direction, stored), chart
// marks and extra subscriptions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "core/json.h"
#include "core/time.h"
#include "plugin/plugin.h"
#include "script/instance.h"
#include "script/strategy_service.h"
#include "store/journal_codec.h"

namespace th {

namespace {
// Meta keys "checklist/<symbol>/<direction>": the latest checklist record.
constexpr std::string_view kChecklistPrefix = "checklist/";
}  // namespace

Result<Order> StrategyService::submitFor(StrategyEntry& entry, OrderIntent intent) {
  auto* broker = host_.broker();
  if (!broker) return fail(ErrorCode::Unavailable, "no broker is loaded");
  intent.strategy = entry.id;
  // The state as it is before the order, stored with it: after a crash the
  // strategy never finds an order its state does not account for. (A host
  // that commits only at its groups' ends stores the state there.)
  entry.dirty = true;
  if (!host_.deferredCommits()) saveState(entry);
  ++stats_.orders;
  ++entry.orders;
  return broker->submit(std::move(intent), entry.definition.broker);
}

Result<Order> StrategyService::cancelFor(StrategyEntry& entry, const std::string& client_order_id) {
  auto* broker = host_.broker();
  if (!broker) return fail(ErrorCode::Unavailable, "no broker is loaded");
  const Order* order = broker->find(client_order_id);
  if (!order || order->intent.strategy != entry.id) {
    return fail(ErrorCode::NotFound, fmt::format("no order '{}' of strategy {}", client_order_id, entry.id));
  }
  return broker->cancel(client_order_id, fmt::format("canceled by strategy {}", entry.id));
}

void StrategyService::publishSignal(StrategyEntry& entry, nlohmann::json signal) {
  ++stats_.signals;
  ++entry.signals;
  signal["strategy"] = entry.id;
  signal["version"] = entry.definition.version;
  int64_t now = host_.nowNs();
  signal["time"] = formatExchangeTime(now);
  if (signal.value("kind", std::string()) == "checklist") {
    auto direction = signal.value("direction", std::string("long"));
    auto key = signal["symbol"].get<std::string>() + "/" + direction;
    checklists_[key] = signal;
    host_.batch().put(Family::Meta, std::string(kChecklistPrefix) + key, jsonText(signal));
  }
  auto text = jsonText(signal);
  recent_signals_.push_front(std::move(signal));
  if (recent_signals_.size() > 1000) recent_signals_.pop_back();
  host_.batch().journal(static_cast<uint16_t>(JournalKind::Signal), now, text);
  host_.notify(fmt::format(R"({{"type":"signal","signal":{}}})", text));
}

void StrategyService::publishMark(StrategyEntry& entry, const std::string& symbol, Marker marker) {
  (void)entry;
  host_.addMarker(symbol, std::move(marker));
}

void StrategyService::subscribeFor(StrategyEntry& entry, const std::string& symbol, uint32_t streams) {
  host_.subscribe(symbol, streams, "strategy:" + entry.id);
  bool known = std::find(entry.definition.symbols.begin(), entry.definition.symbols.end(), symbol) !=
                   entry.definition.symbols.end() ||
               std::find(entry.extra_symbols.begin(), entry.extra_symbols.end(), symbol) != entry.extra_symbols.end();
  if (!known) {
    entry.extra_symbols.push_back(symbol);
    reindex();
  }
}

Result<std::string> StrategyService::request(const std::string& id, const std::string& name,
                                             const nlohmann::json& args) {
  StrategyEntry* entry = find(id);
  if (!entry) return fail(ErrorCode::NotFound, fmt::format("no strategy '{}'", id));
  if (entry->status != StrategyStatus::Running || !entry->instance) {
    return fail(ErrorCode::Unavailable, fmt::format("strategy {} is {}: {}", id, toString(entry->status), entry->reason));
  }
  auto answer = entry->instance->onRequest(name, args);
  if (!answer && answer.error().code == ErrorCode::NotFound) return std::unexpected(answer.error());
  ++entry->handled;
  ++entry->handled_total;
  ++stats_.callbacks;
  entry->dirty = true;
  if (!answer) {
    // A refusal (nil, message) is the caller's mistake; anything else is the script's.
    if (answer.error().code != ErrorCode::InvalidArgument) callbackFailed(*entry, answer.error());
    return std::unexpected(answer.error());
  }
  return jsonText(*answer);
}

const nlohmann::json* StrategyService::checklist(const std::string& symbol, const std::string& direction) const {
  auto it = checklists_.find(symbol + "/" + direction);
  return it == checklists_.end() ? nullptr : &it->second;
}

Result<std::string> StrategyService::checklistJson(const std::string& symbol, const std::string& direction) const {
  if (const auto* record = checklist(symbol, direction)) return jsonText(*record);
  return fail(ErrorCode::NotFound,
              fmt::format("no checklist for {} {} yet: a strategy publishes one with ctx:signal{{kind = \"checklist\"}} "
                          "(entry_checklist scores at run_at and every every_minutes)",
                          symbol, direction));
}

void StrategyService::loadChecklists() {
  // The latest checklist per symbol and direction outlives a restart.
  auto loaded = store_.scan(Family::Meta, kChecklistPrefix, [this](std::string_view key, std::string_view value) {
    auto record = nlohmann::json::parse(value, nullptr, false);
    if (record.is_object()) {
      checklists_[std::string(key.substr(kChecklistPrefix.size()))] = std::move(record);
    } else {
      spdlog::warn("strategies: stored checklist '{}' is not a JSON object; skipped (the next scoring replaces it)", key);
    }
    return true;
  });
  if (!loaded) spdlog::warn("strategies: stored checklists unreadable: {}", loaded.error().message);
}

Result<std::vector<OptionQuote>> pluginOptionChain(PluginInstance& provider, std::string_view underlying,
                                                   int64_t as_of_ns) {
  std::vector<OptionQuote> out;
  auto ok = provider.optionChain(underlying, as_of_ns, [&](const th_option_quote& q) {
    OptionQuote quote;
    quote.symbol.assign(q.symbol, q.symbol_len);
    quote.underlying.assign(q.underlying, q.underlying_len);
    quote.call = q.right == TH_OPTION_CALL;
    quote.expiry = q.expiry_yyyymmdd;
    quote.strike = q.strike;
    quote.bid = q.bid;
    quote.ask = q.ask;
    quote.last = q.last;
    quote.volume = q.volume;
    quote.open_interest = q.open_interest;
    quote.implied_vol = q.implied_vol;
    quote.has_greeks = !std::isnan(q.delta);
    quote.delta = q.delta;
    quote.gamma = q.gamma;
    quote.theta = q.theta;
    quote.vega = q.vega;
    quote.underlying_price = q.underlying_price;
    out.push_back(std::move(quote));
  });
  if (!ok) return std::unexpected(ok.error());
  return out;
}

std::optional<double> optionMark(const QuoteEvent& quote) {
  if (!(quote.ask > 0) || quote.bid < 0 || quote.ask < quote.bid) return std::nullopt;
  return (quote.bid + quote.ask) / 2;
}

std::vector<QuoteEvent> contractQuotes(StrategyHost& host, const std::vector<std::string>& contracts, int64_t ts_ns,
                                       std::set<std::string, std::less<>>& warned) {
  std::map<std::string, std::vector<std::string_view>> by_underlying;
  for (const std::string& contract : contracts) {
    if (auto occ = parseOcc(contract)) by_underlying[occ->underlying].push_back(contract);
  }
  std::vector<QuoteEvent> out;
  for (const auto& [underlying, wanted] : by_underlying) {
    auto chain = host.optionChain(underlying);
    if (!chain) {
      if (warned.insert(underlying).second) {
        spdlog::warn("no option chain of {} to quote {} by: {}", underlying, wanted.front(), chain.error().message);
      }
      continue;
    }
    for (const OptionQuote& quote : *chain) {
      if (std::find(wanted.begin(), wanted.end(), quote.symbol) == wanted.end()) continue;
      const double size = std::max(1.0, quote.open_interest);
      out.push_back(QuoteEvent{Symbol(quote.symbol), ts_ns, quote.bid, quote.ask, size, size});
    }
  }
  return out;
}

}  // namespace th
