// Small pieces every route file uses: strict query parameters, optional
// JSON bodies, and answering with a service's JSON or its error.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_server.h"
#include "core/error.h"
#include "core/json.h"

namespace th {

using JsonDone = std::function<void(Result<std::string>)>;

inline std::unexpected<Error> bad(std::string message) { return fail(ErrorCode::InvalidArgument, std::move(message)); }

// A body that may be empty (then {}), else a JSON object.
inline Result<nlohmann::json> optionalObject(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  bool too_deep = false;
  auto parsed = parseExternalJson(body, &too_deep);
  if (too_deep) return bad(fmt::format("body: nested deeper than {} levels", kMaxJsonDepth));
  if (parsed.is_discarded()) return bad("body: not valid JSON");
  if (!parsed.is_object()) return bad("body: expected a JSON object");
  return parsed;
}

// Query parameters outside `known` are refused: a misspelt filter
// (?symbols=SPY) would otherwise quietly list everything.
inline std::optional<HttpResponse> unknownQuery(const HttpRequest& request,
                                                std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : request.query) {
    bool ok = false;
    for (auto name : known) ok = ok || key == name;
    if (ok) continue;
    if (known.size() == 0) return HttpResponse::error(400, fmt::format("unknown query parameter '{}'", key));
    std::string names;
    for (auto name : known) names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    return HttpResponse::error(400, fmt::format("unknown query parameter '{}' ({})", key, names));
  }
  return std::nullopt;
}

inline std::string queryValue(const HttpRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

// Answers with the service's JSON and `status`, or the error's status.
inline JsonDone answerWith(ApiServer::Responder respond, int status = 200) {
  return [respond = std::move(respond), status](Result<std::string> result) {
    if (!result) return respond(HttpResponse::fromError(result.error()));
    respond(HttpResponse::json(status, std::move(*result)));
  };
}

}  // namespace th
