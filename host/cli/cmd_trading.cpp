// tradehost order submit|cancel|list|show, positions, account, risk, kill
// and resume: calls to a running host's API, printed as tables (or the
// host's JSON with --json).
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <expected>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/api_client.h"
#include "cli/api_call.h"
#include "cli/commands.h"
#include "core/json.h"

namespace th {
namespace {

using nlohmann::json;

// ---- orders --------------------------------------------------------------

std::string orderReason(const json& order) {
  std::string code = text(order, "reason_code"), reason = text(order, "reason");
  if (code.empty()) return reason;
  return reason.empty() ? code : fmt::format("{}: {}", code, reason);
}

// Limit orders show their limit, stop orders their stop, stop-limits "stop/limit".
std::string orderPrice(const json& order) {
  std::string type = text(order, "type");
  auto limit = numberOf(order, "limit_price").value_or(0);
  auto stop = numberOf(order, "stop_price").value_or(0);
  if (type == "stop_limit") return fmt::format("{}/{}", number(stop), number(limit));
  if (type == "stop" || (limit == 0 && stop > 0)) return number(stop);
  if (limit > 0) return number(limit);
  return "-";
}

Table orderTable() {
  return Table({"ID", "STRATEGY", "SYMBOL", "SIDE", "QTY", "TYPE", "PRICE", "STATUS", "FILLED", "AVG", "REASON"},
               {false, false, false, false, true, false, true, false, true, true, false});
}

void addOrder(Table& table, const json& order) {
  auto filled = numberOf(order, "filled_quantity").value_or(0);
  auto average = numberOf(order, "average_fill_price");
  table.add({orDash(text(order, "client_order_id")), orDash(text(order, "strategy")), orDash(text(order, "symbol")),
             orDash(text(order, "side")), orDash(text(order, "quantity")), orDash(text(order, "type")),
             orderPrice(order), orDash(text(order, "status")), number(filled),
             filled > 0 && average ? number(*average) : "-", orderReason(order)});
}

void printOrder(const json& order) {
  Table table = orderTable();
  addOrder(table, order);
  table.print(std::cout);
}

void printOrderDetail(const json& order) {
  auto line = [](std::string_view label, const std::string& value) {
    if (!value.empty()) printField(label, value);
  };
  auto price = [&](std::string_view label, const char* key) {
    if (auto value = numberOf(order, key); value && *value != 0) line(label, number(*value));
  };
  line("id", text(order, "client_order_id"));
  line("broker order", text(order, "broker_order_id"));
  line("broker", text(order, "broker"));
  line("strategy", orDash(text(order, "strategy")));
  line("parent", text(order, "parent_id"));
  line("sibling", text(order, "sibling_id"));
  line("role", text(order, "role"));
  std::string asset = text(order, "asset_class");
  line("symbol", asset.empty() ? text(order, "symbol") : fmt::format("{} ({})", text(order, "symbol"), asset));
  line("side", text(order, "side"));
  line("quantity", text(order, "quantity"));
  line("type", text(order, "type"));
  line("time in force", text(order, "time_in_force"));
  line("class", text(order, "order_class"));
  price("limit price", "limit_price");
  price("stop price", "stop_price");
  price("take profit", "take_profit_price");
  price("stop loss", "stop_loss_price");
  price("stop loss limit", "stop_loss_limit_price");
  line("status", text(order, "status"));
  auto filled = numberOf(order, "filled_quantity").value_or(0);
  auto average = numberOf(order, "average_fill_price");
  line("filled", filled > 0 && average ? fmt::format("{} @ {}", number(filled), number(*average)) : number(filled));
  line("reason", orderReason(order));
  line("created", text(order, "created"));
  line("updated", text(order, "updated"));
}

Result<double> parseNumberArgument(std::string_view name, const std::string& value) {
  double parsed = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
    return fail(ErrorCode::InvalidArgument, fmt::format("{}: expected a number, got '{}'", name, value));
  }
  return parsed;
}

// The JSON body for POST /api/v1/orders; the host checks the order itself.
Result<json> orderBody(const OrderSubmitOptions& options) {
  json body = {{"symbol", options.symbol}, {"side", options.side}};
  auto quantity = parseNumberArgument("QTY", options.quantity);
  if (!quantity) return std::unexpected(quantity.error());
  body["quantity"] = *quantity;
  const std::pair<const char*, const std::string*> prices[] = {{"limit_price", &options.limit},
                                                               {"stop_price", &options.stop},
                                                               {"take_profit_price", &options.take_profit},
                                                               {"stop_loss_price", &options.stop_loss},
                                                               {"stop_loss_limit_price", &options.stop_loss_limit}};
  const char* flags[] = {"--limit", "--stop", "--take-profit", "--stop-loss", "--stop-loss-limit"};
  for (size_t i = 0; i < std::size(prices); ++i) {
    if (prices[i].second->empty()) continue;
    auto value = parseNumberArgument(flags[i], *prices[i].second);
    if (!value) return std::unexpected(value.error());
    body[prices[i].first] = *value;
  }
  std::string type = options.type;
  if (type.empty()) {
    // The prices say which order is meant; the host still checks the result.
    bool limit = !options.limit.empty(), stop = !options.stop.empty();
    type = limit && stop ? "stop_limit" : limit ? "limit" : stop ? "stop" : "market";
  }
  body["type"] = type;
  if (!options.time_in_force.empty()) body["time_in_force"] = options.time_in_force;
  if (!options.order_class.empty()) body["order_class"] = options.order_class;
  if (!options.strategy.empty()) body["strategy"] = options.strategy;
  if (!options.broker.empty()) body["broker"] = options.broker;
  return body;
}

// ---- positions, account, risk --------------------------------------------

void printPositions(const json& positions) {
  Table table({"SYMBOL", "QTY", "AVG COST", "LAST", "UNREALISED", "REALISED", "COMMISSIONS"},
              {false, true, true, true, true, true, true});
  for (const auto& p : positions) {
    table.add({orDash(text(p, "symbol")), orDash(text(p, "quantity")), orDash(text(p, "average_cost")),
               orDash(text(p, "last_price")), moneyOf(p, "unrealised"), moneyOf(p, "realised"),
               moneyOf(p, "commissions")});
  }
  table.print(std::cout);
}

void printPositionReport(const json& report) {
  bool any = false;
  if (auto account = report.find("account"); account != report.end() && account->is_array() && !account->empty()) {
    std::cout << "account\n";
    printPositions(*account);
    any = true;
  }
  if (auto strategies = report.find("strategies"); strategies != report.end() && strategies->is_object()) {
    for (const auto& [id, positions] : strategies->items()) {
      if (!positions.is_array() || positions.empty()) continue;
      if (any) std::cout << '\n';
      std::cout << (id.empty() ? std::string("placed by hand\n") : fmt::format("strategy {}\n", id));
      printPositions(positions);
      any = true;
    }
  }
  if (!any) std::cout << "no positions\n";
  if (auto summary = report.find("summary"); summary != report.end() && summary->is_object()) {
    std::cout << fmt::format("\nrealised {}  unrealised {}  commissions {}  net {}  gross exposure {}\n",
                             moneyOf(*summary, "realised"), moneyOf(*summary, "unrealised"),
                             moneyOf(*summary, "commissions"), moneyOf(*summary, "net"),
                             moneyOf(*summary, "gross_exposure"));
  }
}

void printAccount(const json& account) {
  printField("broker", orDash(text(account, "broker")));
  printField("account", orDash(text(account, "account_id")));
  printField("currency", orDash(text(account, "currency")));
  printField("cash", moneyOf(account, "cash"));
  printField("equity", moneyOf(account, "equity"));
  printField("buying power", moneyOf(account, "buying_power"));
  printField("commissions", moneyOf(account, "commissions"));
  if (auto pnl = account.find("pnl"); pnl != account.end() && pnl->is_object()) {
    printField("realised", moneyOf(*pnl, "realised"));
    printField("unrealised", moneyOf(*pnl, "unrealised"));
    printField("net P&L", moneyOf(*pnl, "net"));
    printField("gross exposure", moneyOf(*pnl, "gross_exposure"));
  }
}

std::string scalar(const json& value) {
  if (value.is_null()) return "none";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return number(value.get<double>());
  return value.dump();
}

// "HALTED (daily loss limit reached)", or the state alone.
std::string stateWithReason(const json& reply) {
  std::string reason = text(reply, "reason");
  return reason.empty() ? orDash(text(reply, "state")) : fmt::format("{} ({})", text(reply, "state"), reason);
}

void printRisk(const json& risk) {
  if (!risk.is_object()) return printField("risk", risk.dump());
  printField("state", stateWithReason(risk));
  printField("since", risk.contains("since") ? orDash(text(risk, "since")) : "-");
  printField("exchange day", orDash(text(risk, "day")));
  printField("daily P&L", moneyOf(risk, "daily_pnl"));
  printField("day's high", moneyOf(risk, "day_high"));
  printField("drawdown", moneyOf(risk, "drawdown"));
  printField("on daily loss", orDash(text(risk, "loss_action")));
  printField("on drawdown", orDash(text(risk, "drawdown_action")));
  printField("buying power", risk.value("check_buying_power", false) ? "checked" : "not checked");
  printField("covered calls", risk.value("require_covered_calls", false) ? "required" : "not required");
  if (auto cool = risk.find("cool_downs"); cool != risk.end() && cool->is_object()) {
    for (const auto& [id, until] : cool->items()) printField(fmt::format("cool-down {}", id), scalar(until));
  }
  auto limitsTable = [](const json& limits, std::string_view indent) {
    for (const auto& [key, value] : limits.items()) {
      std::cout << fmt::format("{}{:<26}{}\n", indent, key, scalar(value));
    }
  };
  if (auto limits = risk.find("limits"); limits != risk.end() && limits->is_object()) {
    std::cout << "limits:\n";
    limitsTable(*limits, "  ");
  }
  if (auto strategies = risk.find("strategies"); strategies != risk.end() && strategies->is_object()) {
    for (const auto& [id, limits] : strategies->items()) {
      std::cout << fmt::format("limits of strategy {}:\n", id);
      if (limits.is_object()) limitsTable(limits, "  ");
    }
  }
}

std::string idList(const json& reply, const char* key) {
  auto it = reply.find(key);
  if (it == reply.end() || !it->is_array() || it->empty()) return "none";
  std::string ids;
  for (const auto& id : *it) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", scalar(id));
  return fmt::format("{} order{}: {}", it->size(), it->size() == 1 ? "" : "s", ids);
}

}  // namespace

int orderSubmitCommand(const OrderSubmitOptions& options) {
  auto body = orderBody(options);
  if (!body) {
    std::cerr << fmt::format("tradehost: {}\n", body.error().message);
    return 2;
  }
  auto reply = call(options.call, "POST", "/api/v1/orders", jsonText(*body), true);
  if (!reply) return reply.error();
  int code = show(options.call, *reply, printOrder);
  if (reply->status == 422) {
    json order = json::parse(reply->body, nullptr, false);
    std::cerr << fmt::format("rejected: {}\n", orDash(orderReason(order)));
    return 2;
  }
  return code;
}

int orderCancelCommand(const OrderIdOptions& options) {
  auto reply = call(options.call, "DELETE", fmt::format("/api/v1/orders/{}", urlEncode(options.id)));
  if (!reply) return reply.error();
  return show(options.call, *reply, printOrder);
}

int orderShowCommand(const OrderIdOptions& options) {
  auto reply = call(options.call, "GET", fmt::format("/api/v1/orders/{}", urlEncode(options.id)));
  if (!reply) return reply.error();
  return show(options.call, *reply, printOrderDetail);
}

int orderListCommand(const OrderListOptions& options) {
  std::string target = fmt::format("/api/v1/orders?status={}", options.all ? "all" : "open");
  if (!options.strategy.empty()) target += fmt::format("&strategy={}", urlEncode(options.strategy));
  if (!options.symbol.empty()) target += fmt::format("&symbol={}", urlEncode(options.symbol));
  if (!options.limit.empty()) target += fmt::format("&limit={}", urlEncode(options.limit));
  auto reply = call(options.call, "GET", target);
  if (!reply) return reply.error();
  return show(options.call, *reply, [&](const json& list) {
    auto orders = list.is_object() && list.contains("orders") ? list["orders"] : json::array();
    if (!orders.is_array() || orders.empty()) {
      std::cout << (options.all ? "no orders\n" : "no open orders\n");
      return;
    }
    Table table = orderTable();
    for (const auto& order : orders) addOrder(table, order);
    table.print(std::cout);
  });
}

int positionsCommand(const PositionsOptions& options) {
  std::string target = "/api/v1/positions";
  if (!options.strategy.empty()) target += fmt::format("?strategy={}", urlEncode(options.strategy));
  auto reply = call(options.call, "GET", target);
  if (!reply) return reply.error();
  return show(options.call, *reply, printPositionReport);
}

int accountCommand(const ApiCallOptions& options) {
  auto reply = call(options, "GET", "/api/v1/account");
  if (!reply) return reply.error();
  return show(options, *reply, printAccount);
}

int riskCommand(const ApiCallOptions& options) {
  auto reply = call(options, "GET", "/api/v1/risk");
  if (!reply) return reply.error();
  return show(options, *reply, printRisk);
}

int killCommand(const KillOptions& options) {
  json body = {{"flatten", options.flatten}};
  if (!options.reason.empty()) body["reason"] = options.reason;
  auto reply = call(options.call, "POST", "/api/v1/risk/kill", jsonText(body));
  if (!reply) return reply.error();
  return show(options.call, *reply, [](const json& result) {
    printField("state", stateWithReason(result));
    printField("canceled", idList(result, "canceled"));
    printField("flatten", idList(result, "flatten"));
    // What the kill switch could not do: the operator must know at once.
    if (auto errors = result.find("errors"); errors != result.end() && errors->is_array()) {
      for (const auto& error : *errors) printField("error", scalar(error));
    }
  });
}

int resumeCommand(const ResumeOptions& options) {
  json body = {{"state", options.reducing ? "reducing" : "active"}};
  if (!options.reason.empty()) body["reason"] = options.reason;
  auto reply = call(options.call, "POST", "/api/v1/risk/resume", jsonText(body));
  if (!reply) return reply.error();
  return show(options.call, *reply, [](const json& result) { printField("state", stateWithReason(result)); });
}

}  // namespace th
