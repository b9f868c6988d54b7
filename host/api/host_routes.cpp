#include "api/host_routes.h"

#include <fmt/format.h>

#include <charconv>

namespace th {
namespace {

template <typename T>
std::optional<T> parseNumber(const std::string& text) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

void registerHostRoutes(ApiServer& server, HostView& host) {
  server.route("GET", "/api/v1/health",
               [&host](const HttpRequest&) { return HttpResponse::json(200, host.healthJson()); });
  server.route("GET", "/metrics", [&host](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = host.metricsText();
    return r;
  });
  server.route("GET", "/api/v1/plugins",
               [&host](const HttpRequest&) { return HttpResponse::json(200, host.pluginsJson()); });
  for (bool connect : {true, false}) {
    server.asyncRoute("POST",
                      connect ? "/api/v1/plugins/{id}/connect" : "/api/v1/plugins/{id}/disconnect",
                      [&host, connect](const HttpRequest& req, ApiServer::Responder respond) {
                        host.setPluginConnected(req.params[0], connect,
                                                [respond](Result<std::string> result) {
                                                  if (!result) {
                                                    int status = result.error().code == ErrorCode::NotFound ? 404 : 409;
                                                    return respond(HttpResponse::error(status, result.error().message));
                                                  }
                                                  respond(HttpResponse::json(200, *result));
                                                });
                      });
  }
  server.route("GET", "/api/v1/journal", [&host](const HttpRequest& req) {
    uint64_t from = 1;
    size_t limit = 100;
    if (auto it = req.query.find("from_seq"); it != req.query.end()) {
      auto v = parseNumber<uint64_t>(it->second);
      if (!v) return HttpResponse::error(400, fmt::format("from_seq: '{}' is not a non-negative integer", it->second));
      from = *v;
    }
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto v = parseNumber<size_t>(it->second);
      if (!v || *v == 0 || *v > 10000)
        return HttpResponse::error(400, fmt::format("limit: '{}' must be 1..10000", it->second));
      limit = *v;
    }
    auto kind = req.query.contains("kind") ? req.query.at("kind") : std::string();
    auto result = host.journalJson(from, limit, kind);
    if (!result)
      return HttpResponse::error(result.error().code == ErrorCode::InvalidArgument ? 400 : 500, result.error().message);
    return HttpResponse::json(200, *result);
  });
}

}  // namespace th
