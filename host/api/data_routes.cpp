#include "api/data_routes.h"

#include "data/data_service.h"

namespace th {

void registerDataRoutes(ApiServer& server, const DataService& data) {
  server.route("GET", "/api/v1/data/channels",
               [&data](const HttpRequest&) { return HttpResponse::json(200, data.channelsJson()); });
  server.route("GET", "/api/v1/data/quality",
               [&data](const HttpRequest&) { return HttpResponse::json(200, data.qualityJson()); });
  server.route("GET", "/api/v1/data/subscriptions",
               [&data](const HttpRequest&) { return HttpResponse::json(200, data.subscriptionsJson()); });
}

}  // namespace th
