#include "api/strategy_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace th {
namespace {

// {"key": "text"} bodies: only `allowed` keys, string values.
Result<std::string> optionalText(const std::string& body, std::string_view allowed) {
  auto object = optionalObject(body);
  if (!object) return std::unexpected(object.error());
  std::string out;
  for (const auto& [key, value] : object->items()) {
    if (key != allowed) return bad(fmt::format("unknown key '{}' (expected {})", key, allowed));
    if (!value.is_null() && !value.is_string()) return bad(fmt::format("{}: expected a string", key));
    if (value.is_string()) out = value.get<std::string>();
  }
  return out;
}

void enable(StrategyControl& control, const HttpRequest& request, ApiServer::Responder respond, bool enabled) {
  if (auto refused = unknownQuery(request, {})) return respond(*refused);
  auto reason = optionalText(request.body, "reason");
  if (!reason) return respond(HttpResponse::fromError(reason.error()));
  if (reason->empty()) *reason = enabled ? "enabled through the API" : "disabled through the API";
  control.enableStrategy(request.params[0], enabled, std::move(*reason), answerWith(std::move(respond)));
}

}  // namespace

void registerStrategyRoutes(ApiServer& server, StrategyControl& control) {
  server.asyncRoute("GET", "/api/v1/strategies", [&control](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {})) return respond(*refused);
    control.listStrategies(answerWith(std::move(respond)));
  });
  server.asyncRoute("GET", "/api/v1/strategies/{id}",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      control.strategy(request.params[0], answerWith(std::move(respond)));
                    });
  server.asyncRoute("GET", "/api/v1/strategies/{id}/history",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      control.strategyHistory(request.params[0], answerWith(std::move(respond)));
                    });
  server.asyncRoute("POST", "/api/v1/strategies/{id}/reload",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      auto body = optionalObject(request.body);
                      if (!body) return respond(HttpResponse::fromError(body.error()));
                      if (!body->empty()) return respond(HttpResponse::error(400, "body: reload takes no options"));
                      control.reloadStrategy(request.params[0], answerWith(std::move(respond)));
                    });
  server.asyncRoute("POST", "/api/v1/strategies/{id}/rollback",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      auto version = optionalText(request.body, "version");
                      if (!version) return respond(HttpResponse::fromError(version.error()));
                      control.rollbackStrategy(request.params[0], std::move(*version), answerWith(std::move(respond)));
                    });
  server.asyncRoute("POST", "/api/v1/strategies/{id}/enable",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      enable(control, request, std::move(respond), true);
                    });
  server.asyncRoute("POST", "/api/v1/strategies/{id}/disable",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      enable(control, request, std::move(respond), false);
                    });
  server.asyncRoute("GET", "/api/v1/signals", [&control](const HttpRequest& request, ApiServer::Responder respond) {
    if (auto refused = unknownQuery(request, {"strategy", "symbol", "limit"})) return respond(*refused);
    size_t limit = 100;
    if (auto text = queryValue(request, "limit"); !text.empty()) {
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc() || ptr != text.data() + text.size() || limit == 0 || limit > 1000) {
        return respond(HttpResponse::error(400, fmt::format("limit: '{}' must be 1..1000", text)));
      }
    }
    control.signals(queryValue(request, "strategy"), queryValue(request, "symbol"), limit,
                    answerWith(std::move(respond)));
  });
  server.asyncRoute("POST", "/api/v1/strategies/{id}/request/{name}",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {})) return respond(*refused);
                      auto args = optionalObject(request.body);
                      if (!args) return respond(HttpResponse::fromError(args.error()));
                      control.requestStrategy(request.params[0], request.params[1], args->dump(),
                                              answerWith(std::move(respond)));
                    });
  server.asyncRoute("GET", "/api/v1/checklist/{symbol}",
                    [&control](const HttpRequest& request, ApiServer::Responder respond) {
                      if (auto refused = unknownQuery(request, {"dir"})) return respond(*refused);
                      std::string direction = queryValue(request, "dir");
                      if (direction.empty()) direction = "long";
                      if (direction != "long" && direction != "short") {
                        return respond(HttpResponse::error(400, fmt::format("dir: '{}' must be long or short", direction)));
                      }
                      control.checklist(uppercase(request.params[0]), std::move(direction),
                                        answerWith(std::move(respond)));
                    });
}

}  // namespace th
