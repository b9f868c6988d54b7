// ctx: orders and positions. Orders take the broker service's path (risk,
// client order id, store, broker) on behalf of the strategy; its orders and
// positions are those placed under its id, whichever version placed them.
#include <lua.hpp>

#include "broker/order_json.h"
#include "broker/instrument.h"
#include "script/instance.h"
#include "script/lua_util.h"

namespace th {
namespace {

constexpr const char* kWarmup = "trading is disabled during warm-up";

OrderIntent readIntent(lua_State* L, StrategyInstance& instance, const char* where, std::optional<OrderSide> side) {
  OrderIntent intent;
  const auto& def = instance.definition();
  auto symbol = stringField(L, 2, "symbol", where);
  if (!symbol) {
    if (def.symbols.size() != 1) throw ScriptError(fmt::format("{}: symbol is required (the strategy trades several)", where));
    symbol = def.symbols.front();
  }
  intent.symbol = *symbol;
  intent.asset_class = isOccSymbol(intent.symbol) ? AssetClass::Option : AssetClass::Equity;
  if (side) {
    intent.side = *side;
  } else {
    auto text = stringField(L, 2, "side", where).value_or("buy");
    auto parsed = parseOrderSide(text);
    if (!parsed) throw ScriptError(fmt::format("{}: side '{}' is not buy or sell", where, text));
    intent.side = *parsed;
  }
  auto qty = numberField(L, 2, "qty", where);
  if (!qty) qty = numberField(L, 2, "quantity", where);
  if (!qty) throw ScriptError(fmt::format("{}: qty is required", where));
  intent.quantity = *qty;
  intent.limit_price = numberField(L, 2, "limit", where).value_or(0);
  intent.stop_price = numberField(L, 2, "stop", where).value_or(0);
  intent.take_profit_price = numberField(L, 2, "take_profit", where).value_or(0);
  intent.stop_loss_price = numberField(L, 2, "stop_loss", where).value_or(0);
  intent.stop_loss_limit_price = numberField(L, 2, "stop_loss_limit", where).value_or(0);
  intent.take_profit_offset = numberField(L, 2, "take_profit_offset", where).value_or(0);
  intent.stop_loss_offset = numberField(L, 2, "stop_loss_offset", where).value_or(0);
  intent.take_profit_risk_multiple = numberField(L, 2, "take_profit_r", where).value_or(0);
  if (auto exit_at = numberField(L, 2, "exit_at", where)) {
    if (!(*exit_at > 0)) throw ScriptError(fmt::format("{}: exit_at must be a time (epoch ms), got {}", where, *exit_at));
    intent.exit_at_ns = static_cast<int64_t>(*exit_at) * 1'000'000;
  }
  if (auto type = stringField(L, 2, "type", where)) {
    auto parsed = parseOrderType(*type);
    if (!parsed) throw ScriptError(fmt::format("{}: type '{}' is not market, limit, stop or stop_limit", where, *type));
    intent.type = *parsed;
  } else {
    intent.type = intent.limit_price > 0 && intent.stop_price > 0 ? OrderType::StopLimit
                  : intent.limit_price > 0                        ? OrderType::Limit
                  : intent.stop_price > 0                         ? OrderType::Stop
                                                                  : OrderType::Market;
  }
  if (auto tif = stringField(L, 2, "tif", where)) {
    auto parsed = parseTimeInForce(*tif);
    if (!parsed) throw ScriptError(fmt::format("{}: tif '{}' is not day, gtc, ioc or fok", where, *tif));
    intent.time_in_force = *parsed;
  }
  const bool tp = intent.hasTakeProfit(), sl = intent.hasStopLoss();
  intent.order_class = tp && sl                           ? OrderClass::Bracket
                       : (tp || sl || intent.exit_at_ns > 0) ? OrderClass::Oto
                                                             : OrderClass::Simple;
  if (auto order_class = stringField(L, 2, "class", where)) {
    auto parsed = parseOrderClass(*order_class);
    if (!parsed) throw ScriptError(fmt::format("{}: class '{}' is not simple, bracket, oco or oto", where, *order_class));
    intent.order_class = *parsed;
  }
  return intent;
}

// Pushes the outcome of a submit: the order, or nil + reason (+ the
// rejected order when risk refused it).
int pushSubmitted(lua_State* L, const Result<Order>& submitted) {
  if (!submitted) {
    lua_pushnil(L);
    lua_pushlstring(L, submitted.error().message.data(), submitted.error().message.size());
    return 2;
  }
  if (submitted->status == OrderStatus::Rejected) {
    lua_pushnil(L);
    auto reason = submitted->reason_code.empty() ? submitted->reason
                                                 : submitted->reason_code + ": " + submitted->reason;
    lua_pushlstring(L, reason.data(), reason.size());
    pushOrder(L, *submitted);
    return 3;
  }
  pushOrder(L, *submitted);
  return 1;
}

int submit(lua_State* L, const char* where, std::optional<OrderSide> side, bool bracket) {
  auto& instance = ctxInstance(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  return luaGuard(L, [&] {
    auto intent = readIntent(L, instance, where, side);
    if (bracket) {
      if (!intent.hasTakeProfit() || !intent.hasStopLoss()) {
        throw ScriptError(fmt::format("{}: a take-profit (take_profit or take_profit_offset) and a stop-loss "
                                      "(stop_loss or stop_loss_offset) are both required",
                                      where));
      }
      intent.order_class = OrderClass::Bracket;
    }
    if (!instance.live()) {
      lua_pushnil(L);
      lua_pushstring(L, kWarmup);
      return 2;
    }
    Watchdog::HostWait wait(L);  // the store's sync and the broker's answer are not the script's time
    return pushSubmitted(L, instance.service().submitFor(*instance.entry(), std::move(intent)));
  });
}

// ctx:buy{symbol=, qty=, limit=, stop=, tif=, take_profit=, stop_loss=, ...}
int ctxBuy(lua_State* L) { return submit(L, "ctx:buy", OrderSide::Buy, false); }
int ctxSell(lua_State* L) { return submit(L, "ctx:sell", OrderSide::Sell, false); }
// ctx:bracket{symbol=, side="buy", qty=, limit=?, take_profit= | take_profit_offset=, stop_loss= |
//             stop_loss_offset=, stop_loss_limit=?, exit_at=? (epoch ms)}
int ctxBracket(lua_State* L) { return submit(L, "ctx:bracket", std::nullopt, true); }

// ctx:cancel(order_id) → true, or nil + reason.
int ctxCancel(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* id = luaL_checkstring(L, 2);
  return luaGuard(L, [&] {
    if (!instance.live()) {
      lua_pushnil(L);
      lua_pushstring(L, kWarmup);
      return 2;
    }
    Watchdog::HostWait wait(L);
    auto canceled = instance.service().cancelFor(*instance.entry(), id);
    if (!canceled) {
      lua_pushnil(L);
      lua_pushlstring(L, canceled.error().message.data(), canceled.error().message.size());
      return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
  });
}

std::vector<const Order*> openOrders(StrategyInstance& instance, const std::string& symbol) {
  std::vector<const Order*> out;
  if (instance.live()) {
    auto* broker = instance.service().host().broker();
    if (!broker) return out;
    OrderFilter filter;
    filter.strategy = instance.definition().id;
    filter.symbol = symbol;
    filter.limit = 10'000;
    out = broker->orders(filter);
    std::erase_if(out, [](const Order* o) { return o->role == OrderRole::Group; });
  } else {
    for (const auto& order : instance.snapshot()->orders) {
      if (symbol.empty() || order.intent.symbol == symbol) out.push_back(&order);
    }
  }
  return out;
}

// ctx:cancel_all([symbol]) → how many cancels were requested (entries,
// single orders and bracket legs alike).
int ctxCancelAll(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol = luaL_optstring(L, 2, "");
  return luaGuard(L, [&] {
    if (!instance.live()) {
      lua_pushinteger(L, 0);
      return 1;
    }
    lua_Integer count = 0;
    std::vector<std::string> ids;
    // Every working order, protective legs included: cancel_all is how a
    // strategy clears the way before it closes a position itself.
    for (const auto* order : openOrders(instance, symbol)) ids.push_back(order->client_order_id);
    Watchdog::HostWait wait(L);
    for (const auto& id : ids) count += instance.service().cancelFor(*instance.entry(), id) ? 1 : 0;
    lua_pushinteger(L, count);
    return 1;
  });
}

// ctx:orders([symbol]) → the strategy's open orders, oldest first.
int ctxOrders(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol = luaL_optstring(L, 2, "");
  return luaGuard(L, [&] {
    auto orders = openOrders(instance, symbol);
    lua_createtable(L, static_cast<int>(orders.size()), 0);
    lua_Integer i = 1;
    for (auto it = orders.rbegin(); it != orders.rend(); ++it) {
      pushOrder(L, **it);
      lua_rawseti(L, -2, i++);
    }
    return 1;
  });
}

// ctx:order(id) → the order (any status), or nil.
int ctxOrder(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* id = luaL_checkstring(L, 2);
  return luaGuard(L, [&] {
    const Order* found = nullptr;
    if (instance.live()) {
      if (auto* broker = instance.service().host().broker()) found = broker->find(id);
      if (found && found->intent.strategy != instance.definition().id) found = nullptr;
    } else {
      for (const auto& order : instance.snapshot()->orders) {
        if (order.client_order_id == id) found = &order;
      }
    }
    if (found) {
      pushOrder(L, *found);
    } else {
      lua_pushnil(L);
    }
    return 1;
  });
}

// ctx:position(symbol) → {symbol, qty (signed), avg_price, realized,
// unrealized, commissions, last_price}; qty 0 when flat.
int ctxPosition(lua_State* L) {
  auto& instance = ctxInstance(L);
  const char* symbol_arg = luaL_optstring(L, 2, nullptr);
  return luaGuard(L, [&] {
    const auto& def = instance.definition();
    std::string symbol = symbol_arg ? symbol_arg : "";
    if (symbol.empty()) {
      if (def.symbols.size() != 1) throw ScriptError("ctx:position: symbol is required (the strategy trades several)");
      symbol = def.symbols.front();
    }
    Position position;
    position.symbol = symbol;
    if (instance.live()) {
      if (auto* broker = instance.service().host().broker()) {
        if (auto* found = broker->book(def.broker).strategyPosition(def.id, symbol)) position = *found;
      }
    } else {
      for (const auto& p : instance.snapshot()->positions) {
        if (p.symbol == symbol) position = p;
      }
    }
    lua_createtable(L, 0, 7);
    setField(L, "symbol", position.symbol);
    setField(L, "qty", position.quantity);
    setField(L, "avg_price", position.average_cost);
    setField(L, "realized", position.realised);
    setField(L, "unrealized", position.quantity != 0 && position.last_price > 0 ? position.unrealised() : 0.0);
    setField(L, "commissions", position.commissions);
    setField(L, "last_price", position.last_price);
    return 1;
  });
}

// ctx:account() → {cash, equity, buying_power, commissions, positions} of
// the broker account the strategy trades at, or nil + reason. positions maps
// each symbol the account holds (every strategy's and the operator's) to its
// signed quantity: what a covered call is covered by.
int ctxAccount(lua_State* L) {
  auto& instance = ctxInstance(L);
  return luaGuard(L, [&] {
    auto* broker = instance.service().host().broker();
    auto account = [&] {
      Watchdog::HostWait wait(L);  // the first ask goes to the broker
      return broker ? broker->currentAccount() : std::nullopt;
    }();
    if (!account) {
      lua_pushnil(L);
      lua_pushstring(L, broker ? "the broker has not reported its account" : "no broker is configured");
      return 2;
    }
    lua_createtable(L, 0, 5);
    setField(L, "cash", account->cash);
    setField(L, "equity", account->equity);
    setField(L, "buying_power", account->buying_power);
    setField(L, "commissions", account->commissions);
    const auto held = broker->book(instance.definition().broker).accountPositions();
    lua_createtable(L, 0, static_cast<int>(held.size()));
    for (const auto& p : held) {
      if (p.quantity == 0) continue;
      lua_pushnumber(L, p.quantity);
      lua_setfield(L, -2, p.symbol.c_str());
    }
    lua_setfield(L, -2, "positions");
    return 1;
  });
}

}  // namespace

void pushOrder(lua_State* L, const Order& order) {
  lua_createtable(L, 0, 20);
  setField(L, "id", order.client_order_id);
  setField(L, "broker_id", order.broker_order_id);
  setField(L, "symbol", order.intent.symbol);
  setField(L, "side", toString(order.intent.side));
  setField(L, "type", toString(order.intent.type));
  setField(L, "tif", toString(order.intent.time_in_force));
  setField(L, "class", toString(order.intent.order_class));
  setField(L, "role", toString(order.role));
  setField(L, "status", toString(order.status));
  setField(L, "qty", order.intent.quantity);
  setField(L, "filled_qty", order.filled_quantity);
  setField(L, "avg_price", order.average_fill_price);
  if (order.intent.limit_price > 0) setField(L, "limit", order.intent.limit_price);
  if (order.intent.stop_price > 0) setField(L, "stop", order.intent.stop_price);
  if (order.intent.take_profit_price > 0) setField(L, "take_profit", order.intent.take_profit_price);
  if (order.intent.stop_loss_price > 0) setField(L, "stop_loss", order.intent.stop_loss_price);
  if (order.intent.exit_at_ns > 0) setIntField(L, "exit_at", order.intent.exit_at_ns / 1'000'000);
  if (!order.parent_id.empty()) setField(L, "parent", order.parent_id);
  if (!order.reason.empty()) setField(L, "reason", order.reason);
  if (!order.reason_code.empty()) setField(L, "reason_code", order.reason_code);
  setIntField(L, "created", order.created_ns / 1'000'000);
  setIntField(L, "updated", order.updated_ns / 1'000'000);
  setBoolField(L, "open", isOpen(order.status));
}

void pushFill(lua_State* L, const FillEvent& fill) {
  lua_createtable(L, 0, 11);
  setField(L, "id", fill.fill_id);
  setField(L, "order_id", fill.client_order_id);  // "" for an option's expiry: no order placed it
  if (fill.activity != TH_FILL_TRADE) setField(L, "activity", fillActivityName(fill.activity));
  if (!fill.contract.empty()) setField(L, "contract", fill.contract);
  setField(L, "symbol", fill.symbol);
  setField(L, "side", fill.side == 2 ? std::string_view("sell") : std::string_view("buy"));
  setField(L, "qty", fill.quantity);
  setField(L, "price", fill.price);
  setField(L, "commission", fill.commission);
  setField(L, "multiplier", fill.multiplier);
  setIntField(L, "time", fill.ts_ns / 1'000'000);
}

void bindOrders(lua_State* L, StrategyInstance* instance) {
  static constexpr luaL_Reg kFunctions[] = {{"buy", ctxBuy},         {"sell", ctxSell},           {"bracket", ctxBracket},
                                            {"cancel", ctxCancel},   {"cancel_all", ctxCancelAll}, {"orders", ctxOrders},
                                            {"order", ctxOrder},     {"position", ctxPosition},   {"account", ctxAccount},
                                            {nullptr, nullptr}};
  lua_pushlightuserdata(L, instance);
  luaL_setfuncs(L, kFunctions, 1);
}

}  // namespace th
