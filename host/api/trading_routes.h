// Orders, positions, account and risk over HTTP. The routes parse and check
// the request (an order body's errors name the field), then hand it to the
// TradingService, which runs it on the core thread and answers through a
// callback; the route turns an Error into its HTTP status
// (HttpResponse::fromError).
//
//   GET    /api/v1/orders?status=open|all&strategy=&symbol=&limit=1..10000
//   GET    /api/v1/orders/{id}
//   POST   /api/v1/orders              body: an order (see parseOrderIntent)
//   DELETE /api/v1/orders/{id}
//   GET    /api/v1/positions?strategy=
//   GET    /api/v1/account
//   GET    /api/v1/risk
//   POST   /api/v1/risk/kill           body (optional): {"flatten": bool, "reason": "..."}
//   POST   /api/v1/risk/resume         body (optional): {"state": "active"|"reducing", "reason": "..."}
//
// Answers are the service's JSON with 200, except POST /api/v1/orders: 201
// (and a Location header) when the order was taken, or 422 with the same
// order JSON when its status is "rejected" — a risk refusal is an answer
// about a well-formed order, not a malformed request, and the body carries
// its reason_code and reason. A malformed request gets 400 naming the field
// or query parameter; unknown query parameters and unknown body keys are
// errors, so a typo never widens a query or drops part of an order.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "api/api_server.h"
#include "api/route_helpers.h"
#include "broker/order.h"
#include "core/error.h"

namespace th {

struct OrderQuery {
  bool open_only = true;  // status=open (default) or all
  std::string strategy;   // empty: every strategy
  std::string symbol;     // empty: every symbol
  size_t limit = 500;     // newest first
};

// Where the routes send their work. Each call answers exactly once through
// `done`, from any thread, with JSON text or an Error: InvalidArgument → 400,
// NotFound → 404, AlreadyExists → 409, Unavailable → 503, anything else → 500.
// A submitted order that risk refuses is not an Error: it is answered with
// the order, status "rejected" and the reason code.
class TradingService {
 public:
  virtual ~TradingService() = default;
  // `broker` empty: the default broker.
  virtual void submitOrder(OrderIntent intent, std::string broker, JsonDone done) = 0;
  virtual void cancelOrder(std::string client_order_id, JsonDone done) = 0;
  virtual void order(std::string client_order_id, JsonDone done) = 0;
  virtual void listOrders(OrderQuery query, JsonDone done) = 0;
  virtual void positions(std::string strategy, JsonDone done) = 0;
  virtual void account(JsonDone done) = 0;
  virtual void risk(JsonDone done) = 0;
  virtual void kill(bool flatten, std::string reason, JsonDone done) = 0;
  virtual void resume(std::string state, std::string reason, JsonDone done) = 0;
};

// An order from JSON text: {"symbol", "side", "quantity", "type", "time_in_force",
// "order_class", "limit_price", "stop_price", "take_profit_price",
// "stop_loss_price", "stop_loss_limit_price", "asset_class", "strategy",
// "broker"}. Unknown keys and wrong types are errors naming the key; the
// intent is then checked with validateIntent. `broker` (may be null)
// receives the optional broker id. symbol, side and quantity are required;
// the symbol is upper-cased; enum values are the names toString() prints
// ("buy", "stop_limit", "gtc"), in any case; null for an optional key means
// absent. Defaults: type market, time_in_force day, class simple,
// asset_class from the symbol (an OCC symbol is an option).
[[nodiscard]] Result<OrderIntent> parseOrderIntent(const std::string& json_text, std::string* broker);

void registerTradingRoutes(ApiServer& server, TradingService& service);

}  // namespace th
