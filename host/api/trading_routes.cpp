#include "api/trading_routes.h"
#include "broker/instrument.h"

#include "api/route_helpers.h"
#include "core/text.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

namespace th {
namespace {

using nlohmann::json;

constexpr size_t kMaxOrdersListed = 10'000;

Result<std::string> stringField(std::string_view key, const json& value) {
  if (!value.is_string()) return bad(fmt::format("{}: expected a string", key));
  return value.get<std::string>();
}

Result<double> numberField(std::string_view key, const json& value) {
  if (!value.is_number()) return bad(fmt::format("{}: expected a number", key));
  return value.get<double>();
}

// An enum by the name toString() gives it, in any case; the error lists the names.
template <typename Enum>
Result<Enum> enumField(std::string_view key, const json& value, std::optional<Enum> (*parse)(std::string_view),
                       std::string_view names) {
  auto text = stringField(key, value);
  if (!text) return std::unexpected(text.error());
  auto parsed = parse(lowercase(*text));
  if (!parsed) return bad(fmt::format("{}: unknown '{}' ({})", key, *text, names));
  return *parsed;
}

Result<OrderQuery> parseOrderQuery(const HttpRequest& request) {
  OrderQuery query;
  if (auto it = request.query.find("status"); it != request.query.end()) {
    if (it->second != "open" && it->second != "all") {
      return bad(fmt::format("status: '{}' must be open or all", it->second));
    }
    query.open_only = it->second == "open";
  }
  query.strategy = queryValue(request, "strategy");
  query.symbol = uppercase(queryValue(request, "symbol"));
  if (auto it = request.query.find("limit"); it != request.query.end()) {
    const std::string& text = it->second;
    size_t limit = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || limit == 0 ||
        limit > kMaxOrdersListed) {
      return bad(fmt::format("limit: '{}' must be 1..{}", text, kMaxOrdersListed));
    }
    query.limit = limit;
  }
  return query;
}

void submitOrder(TradingService& service, const HttpRequest& request, ApiServer::Responder respond) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return respond(HttpResponse::error(400, "body: missing (an order as a JSON object)"));
  }
  std::string broker;
  auto intent = parseOrderIntent(request.body, &broker);
  if (!intent) return respond(HttpResponse::error(400, intent.error().message));
  service.submitOrder(std::move(*intent), std::move(broker), [respond](Result<std::string> result) {
    if (!result) return respond(HttpResponse::fromError(result.error()));
    json order = json::parse(*result, nullptr, false);
    bool rejected = false;
    std::string id;
    if (order.is_object()) {
      if (auto it = order.find("status"); it != order.end() && it->is_string()) rejected = *it == "rejected";
      if (auto it = order.find("client_order_id"); it != order.end() && it->is_string()) id = it->get<std::string>();
    }
    HttpResponse response = HttpResponse::json(rejected ? 422 : 201, std::move(*result));
    if (!rejected && !id.empty()) response.headers.emplace_back("Location", fmt::format("/api/v1/orders/{}", id));
    respond(std::move(response));
  });
}

void kill(TradingService& service, const HttpRequest& request, ApiServer::Responder respond) {
  auto body = optionalObject(request.body);
  if (!body) return respond(HttpResponse::fromError(body.error()));
  bool flatten = false;
  std::string reason;
  for (const auto& [key, value] : body->items()) {
    if (key == "flatten") {
      if (!value.is_boolean()) return respond(HttpResponse::error(400, "flatten: expected true or false"));
      flatten = value.get<bool>();
    } else if (key == "reason") {
      auto text = stringField(key, value);
      if (!text) return respond(HttpResponse::fromError(text.error()));
      reason = std::move(*text);
    } else {
      return respond(HttpResponse::error(400, fmt::format("unknown key '{}' (flatten, reason)", key)));
    }
  }
  service.kill(flatten, std::move(reason), answerWith(std::move(respond)));
}

void resume(TradingService& service, const HttpRequest& request, ApiServer::Responder respond) {
  auto body = optionalObject(request.body);
  if (!body) return respond(HttpResponse::fromError(body.error()));
  std::string state = "active";
  std::string reason;
  for (const auto& [key, value] : body->items()) {
    if (key == "state") {
      auto text = stringField(key, value);
      if (!text) return respond(HttpResponse::fromError(text.error()));
      // Any case, since the risk state is shown as "ACTIVE"/"REDUCING".
      state = lowercase(*text);
      if (state != "active" && state != "reducing") {
        return respond(HttpResponse::error(400, fmt::format("state: unknown '{}' (active or reducing)", *text)));
      }
    } else if (key == "reason") {
      auto text = stringField(key, value);
      if (!text) return respond(HttpResponse::fromError(text.error()));
      reason = std::move(*text);
    } else {
      return respond(HttpResponse::error(400, fmt::format("unknown key '{}' (state, reason)", key)));
    }
  }
  service.resume(std::move(state), std::move(reason), answerWith(std::move(respond)));
}

}  // namespace

Result<OrderIntent> parseOrderIntent(const std::string& json_text, std::string* broker) {
  bool too_deep = false;
  json body = parseExternalJson(json_text, &too_deep);
  if (too_deep) return bad(fmt::format("body: nested deeper than {} levels", kMaxJsonDepth));
  if (body.is_discarded()) return bad("body: not valid JSON");
  if (!body.is_object()) return bad("body: expected a JSON object");
  OrderIntent intent;
  bool has_side = false, has_quantity = false, has_asset_class = false;
  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    // null stands for "not given", as clients that serialise every field send it.
    if (value.is_null()) continue;
    auto number = [&](double& slot) -> Result<void> {
      auto parsed = numberField(key, value);
      if (!parsed) return std::unexpected(parsed.error());
      slot = *parsed;
      return {};
    };
    auto text = [&](std::string& slot) -> Result<void> {
      auto parsed = stringField(key, value);
      if (!parsed) return std::unexpected(parsed.error());
      slot = std::move(*parsed);
      return {};
    };
    auto choice = [&](auto& slot, auto parse, std::string_view names) -> Result<void> {
      auto parsed = enumField(key, value, parse, names);
      if (!parsed) return std::unexpected(parsed.error());
      slot = *parsed;
      return {};
    };
    Result<void> field;
    if (key == "symbol") {
      field = text(intent.symbol);
      intent.symbol = uppercase(std::move(intent.symbol));
    } else if (key == "side") {
      field = choice(intent.side, &parseOrderSide, "buy or sell");
      has_side = true;
    } else if (key == "quantity") {
      field = number(intent.quantity);
      has_quantity = true;
    } else if (key == "type") {
      field = choice(intent.type, &parseOrderType, "market, limit, stop or stop_limit");
    } else if (key == "time_in_force") {
      field = choice(intent.time_in_force, &parseTimeInForce, "day, gtc, ioc or fok");
    } else if (key == "order_class") {
      field = choice(intent.order_class, &parseOrderClass, "simple, bracket, oco or oto");
    } else if (key == "asset_class") {
      field = choice(intent.asset_class, &parseAssetClass, "equity or option");
      has_asset_class = true;
    } else if (key == "limit_price") {
      field = number(intent.limit_price);
    } else if (key == "stop_price") {
      field = number(intent.stop_price);
    } else if (key == "take_profit_price") {
      field = number(intent.take_profit_price);
    } else if (key == "stop_loss_price") {
      field = number(intent.stop_loss_price);
    } else if (key == "stop_loss_limit_price") {
      field = number(intent.stop_loss_limit_price);
    } else if (key == "strategy") {
      field = text(intent.strategy);
    } else if (key == "broker") {
      std::string id;
      field = text(id);
      if (broker) *broker = std::move(id);
    } else {
      return bad(fmt::format("unknown key '{}'", key));
    }
    if (!field) return std::unexpected(field.error());
  }
  if (intent.symbol.empty()) return bad("symbol: missing");
  if (!has_side) return bad("side: missing (buy or sell)");
  if (!has_quantity) return bad("quantity: missing");
  if (!has_asset_class) intent.asset_class = isOccSymbol(intent.symbol) ? AssetClass::Option : AssetClass::Equity;
  if (auto valid = validateIntent(intent); !valid) return std::unexpected(valid.error());
  return intent;
}

void registerTradingRoutes(ApiServer& server, TradingService& service) {
  // Every handler answers from the service's callback, on whatever thread
  // the service calls it from, so they are all asynchronous.
  server.asyncRoute("GET", "/api/v1/orders", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {"status", "strategy", "symbol", "limit"})) return respond(*refused);
    auto query = parseOrderQuery(request);
    if (!query) return respond(HttpResponse::fromError(query.error()));
    service.listOrders(std::move(*query), answerWith(std::move(respond)));
  });
  server.asyncRoute("GET", "/api/v1/orders/{id}", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    service.order(request.params[0], answerWith(std::move(respond)));
  });
  server.asyncRoute("POST", "/api/v1/orders", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    submitOrder(service, request, std::move(respond));
  });
  server.asyncRoute("DELETE", "/api/v1/orders/{id}",
                    [&service](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      service.cancelOrder(request.params[0], answerWith(std::move(respond)));
                    });
  server.asyncRoute("GET", "/api/v1/positions", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {"strategy"})) return respond(*refused);
    service.positions(queryValue(request, "strategy"), answerWith(std::move(respond)));
  });
  server.asyncRoute("GET", "/api/v1/account", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    service.account(answerWith(std::move(respond)));
  });
  server.asyncRoute("GET", "/api/v1/risk", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    service.risk(answerWith(std::move(respond)));
  });
  server.asyncRoute("POST", "/api/v1/risk/kill", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    kill(service, request, std::move(respond));
  });
  server.asyncRoute("POST", "/api/v1/risk/resume",
                    [&service](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      resume(service, request, std::move(respond));
                    });
}

}  // namespace th
