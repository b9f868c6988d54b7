#include "api/chart_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "broker/instrument.h"
#include "chart/chart_hub.h"
#include "chart/chart_json.h"
#include "core/json.h"
#include "core/text.h"
#include "core/time.h"

namespace th {
namespace {

constexpr size_t kDefaultBars = 1000;
constexpr size_t kMaxBars = 10'000;
constexpr const char* kResolutions = R"(["1","3","5","15","30","60","240","1D"])";

std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// An instant in a query: ISO 8601 (exchange time unless it has an offset)
// or integer milliseconds since the epoch.
Result<int64_t> parseInstant(const std::string& text, std::string_view name) {
  if (auto ms = parseInteger(text)) return *ms * 1'000'000;
  auto parsed = parseTime(text);
  if (!parsed) return fail(ErrorCode::InvalidArgument, fmt::format("{}: {}", name, parsed.error().message));
  return *parsed;
}

std::optional<Timeframe> udfResolution(std::string_view resolution) {
  static const std::map<std::string_view, Timeframe> kMap = {
      {"1", Timeframe::M1},   {"3", Timeframe::M3},   {"5", Timeframe::M5},
      {"15", Timeframe::M15}, {"30", Timeframe::M30}, {"60", Timeframe::H1},
      {"240", Timeframe::H4}, {"1D", Timeframe::D1},  {"D", Timeframe::D1}};
  auto it = kMap.find(resolution);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

// UDF reports failures in the body with status 200, which is what its
// clients look for.
HttpResponse udfError(std::string_view message) {
  return HttpResponse::json(200, fmt::format(R"({{"s":"error","errmsg":{}}})", jsonString(message)));
}

std::string query(const HttpRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

// Which series each WebSocket client watches, so a client that goes away
// stops costing the core anything. Core thread only.
struct ChartSockets {
  std::map<WsClientId, std::set<std::pair<std::string, Timeframe>>> watching;
};

std::string topicOf(const std::string& symbol, Timeframe timeframe) {
  return fmt::format("{}:{}", symbol, timeframeName(timeframe));
}

SharedText wsError(std::string_view message) {
  return std::make_shared<const std::string>(fmt::format(R"({{"type":"error","error":{}}})", jsonString(message)));
}

// Runs `work` on the core thread for a symbol the host knows (its hub has
// the symbol) or its data provider can look up, while the hub holds fewer
// than maxSymbols(); any other gets `refused` (404 or 503). A chart request
// creates series, and anyone who may read charts could otherwise have the
// host hold them for every made-up symbol.
template <class Work, class Refused>
void onKnownSymbol(ChartService& service, const std::string& symbol, Work work, Refused refused) {
  // On the core thread: the work, unless it would add a symbol past the cap.
  auto within_cap = [&service, symbol, work, refused](ChartHub& hub) mutable {
    if (!hub.knows(symbol) && hub.symbolCount() >= service.maxSymbols()) {
      return refused(503, fmt::format("symbol: the chart holds {} symbols already (chart.max_symbols)",
                                      hub.symbolCount()));
    }
    work(hub);
  };
  bool posted = service.onCore([&service, symbol, within_cap, refused](ChartHub& hub) mutable {
    if (hub.knows(symbol) || hub.symbolCount() >= service.maxSymbols()) return within_cap(hub);
    service.lookup(symbol, [&service, symbol, within_cap, refused](Result<InstrumentInfo> info) mutable {
      if (!info) {
        return refused(404, fmt::format("symbol: '{}' is not one the host has data for ({})", symbol,
                                        info.error().message));
      }
      if (!service.onCore(std::move(within_cap))) refused(503, "the host is stopping");
    });
  });
  if (!posted) refused(503, "the host is stopping");
}

void registerRest(ApiServer& server, ChartService& service) {
  server.asyncRoute(
      "GET", "/api/v1/chart/{symbol}/{timeframe}",
      [&service](const HttpRequest& request, ApiServer::Responder respond) {
        auto symbol = normaliseSymbol(request.params[0]);
        if (!symbol) return respond(HttpResponse::error(400, symbol.error().message));
        auto timeframe = parseTimeframe(request.params[1]);
        if (!timeframe) {
          return respond(HttpResponse::error(
              400,
              fmt::format("timeframe: unknown '{}' (one of 1m, 3m, 5m, 15m, 30m, 1h, 4h, 1d)", request.params[1])));
        }
        std::optional<int64_t> from, to;
        for (auto [key, slot] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
          auto text = query(request, key);
          if (text.empty()) continue;
          auto instant = parseInstant(text, key);
          if (!instant) return respond(HttpResponse::error(400, instant.error().message));
          *slot = *instant;
        }
        if (from && to && *from >= *to) return respond(HttpResponse::error(400, "from: must be before to"));
        size_t limit = kDefaultBars;
        if (auto text = query(request, "limit"); !text.empty()) {
          auto n = parseInteger(text);
          if (!n || *n < 1 || *n > static_cast<int64_t>(kMaxBars)) {
            return respond(HttpResponse::error(400, fmt::format("limit: must be 1 to {}", kMaxBars)));
          }
          limit = static_cast<size_t>(*n);
        }
        auto run = [symbol = *symbol, tf = *timeframe, from, to, limit, respond, &service](ChartHub& hub) {
          int64_t ask_from = from.value_or(service.nowNs());
          hub.ensureHistory(symbol, ask_from, [symbol, tf, from, to, limit, respond, &hub](Result<void> backfilled) {
            const CandleSeries& bars = hub.series(symbol, tf);
            int64_t lo = from.value_or(INT64_MIN), hi = to.value_or(INT64_MAX);
            size_t first = bars.lowerBound(lo), end = bars.lowerBound(hi);
            bool truncated = end - first > limit;
            if (truncated) first = end - limit;
            std::string text = fmt::format(R"({{"symbol":{},"timeframe":"{}","seq":{},"bars":[)", jsonString(symbol),
                                           timeframeName(tf), hub.sequence(symbol, tf));
            for (size_t i = first; i < end; ++i) {
              if (i > first) text += ',';
              text += candleJson(bars.at(i));
            }
            text +=
                fmt::format(R"(],"truncated":{},"health":{},"markers":[)", truncated, healthJson(hub.health(symbol)));
            int64_t marks_from = first < end ? bars.at(first).start_ns : lo;
            bool comma = false;
            for (const Marker& marker : hub.markers(symbol, marks_from, hi)) {
              if (comma) text += ',';
              text += markerJson(marker);
              comma = true;
            }
            text += ']';
            if (!backfilled) text += fmt::format(R"(,"history_error":{})", jsonString(backfilled.error().message));
            text += '}';
            respond(HttpResponse::json(200, std::move(text)));
          });
        };
        onKnownSymbol(service, *symbol, std::move(run),
                      [respond](int status, const std::string& why) { respond(HttpResponse::error(status, why)); });
      });
}

void registerUdf(ApiServer& server, ChartService& service) {
  server.route("GET", "/udf/config", [](const HttpRequest&) {
    return HttpResponse::json(
        200, fmt::format(R"({{"supported_resolutions":{},"supports_group_request":false,"supports_search":true,)"
                         R"("supports_marks":true,"supports_timescale_marks":false,"supports_time":true,)"
                         R"("exchanges":[{{"value":"","name":"All Exchanges","desc":""}}],)"
                         R"("symbols_types":[{{"name":"All types","value":""}},{{"name":"Stock","value":"stock"}}]}})",
                         kResolutions));
  });
  server.route("GET", "/udf/time", [&service](const HttpRequest&) {
    HttpResponse response = HttpResponse::json(200, std::to_string(service.nowNs() / 1'000'000'000));
    response.content_type = "text/plain";
    return response;
  });
  server.asyncRoute("GET", "/udf/symbols", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    auto symbol = normaliseSymbol(query(request, "symbol"));
    if (!symbol) return respond(udfError(symbol.error().message));
    service.lookup(*symbol, [respond](Result<InstrumentInfo> info) {
      if (!info) return respond(udfError(fmt::format("unknown_symbol: {}", info.error().message)));
      int64_t pricescale = 100;
      if (info->tick_size > 0 && info->tick_size < 1) pricescale = std::llround(1.0 / info->tick_size);
      respond(HttpResponse::json(
          200, fmt::format(R"({{"name":{0},"ticker":{0},"description":{1},"type":"{2}","session":"0930-1600",)"
                           R"("exchange":{3},"listed_exchange":{3},"timezone":"America/New_York","minmov":1,)"
                           R"("pricescale":{4},"has_intraday":true,"has_daily":true,"has_weekly_and_monthly":false,)"
                           R"("supported_resolutions":{5},"intraday_multipliers":["1","3","5","15","30","60","240"],)"
                           R"("volume_precision":0,"data_status":"streaming"}})",
                           jsonString(info->symbol), jsonString(info->name.empty() ? info->symbol : info->name),
                           info->type, jsonString(info->exchange), pricescale, kResolutions)));
    });
  });
  server.asyncRoute("GET", "/udf/search", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    std::string text = uppercase(query(request, "query"));
    size_t limit = 30;
    if (auto n = parseInteger(query(request, "limit")); n && *n > 0) limit = std::min<size_t>(*n, 200);
    auto run = [text, limit, respond](ChartHub& hub) {
      std::string out = "[";
      size_t count = 0;
      for (const auto& symbol : hub.symbols()) {
        if (count == limit) break;
        if (!text.empty() && symbol.find(text) == std::string::npos) continue;
        if (count++) out += ',';
        out += fmt::format(R"({{"symbol":{0},"full_name":{0},"description":{0},"exchange":"","ticker":{0},)"
                           R"("type":"stock"}})",
                           jsonString(symbol));
      }
      out += ']';
      respond(HttpResponse::json(200, std::move(out)));
    };
    if (!service.onCore(std::move(run))) respond(HttpResponse::error(503, "the host is stopping"));
  });
  server.asyncRoute("GET", "/udf/history", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    auto symbol = normaliseSymbol(query(request, "symbol"));
    if (!symbol) return respond(udfError(symbol.error().message));
    auto resolution = query(request, "resolution");
    auto timeframe = udfResolution(resolution);
    if (!timeframe) return respond(udfError(fmt::format("unsupported resolution '{}'", resolution)));
    auto from = parseInteger(query(request, "from"));
    auto to = parseInteger(query(request, "to"));
    if (!from || !to) return respond(udfError("from and to must be Unix times in seconds"));
    if (*from > *to) return respond(udfError("from is after to"));
    std::optional<int64_t> countback;
    if (auto text = query(request, "countback"); !text.empty()) {
      countback = parseInteger(text);
      if (!countback || *countback < 1) return respond(udfError("countback must be a positive number of bars"));
    }
    int64_t from_ns = *from * 1'000'000'000, to_ns = *to * 1'000'000'000;
    auto run = [symbol = *symbol, tf = *timeframe, from_ns, to_ns, countback, respond](ChartHub& hub) {
      // With countback, `from` is only a hint: the answer is the N bars before `to`.
      int64_t ask = countback ? std::min(from_ns, to_ns - *countback * timeframeMinutes(tf) * 60'000'000'000) : from_ns;
      hub.ensureHistory(symbol, ask, [symbol, tf, from_ns, to_ns, countback, respond, &hub](Result<void> ok) {
        const CandleSeries& bars = hub.series(symbol, tf);
        size_t end = bars.lowerBound(to_ns);
        size_t first =
            countback ? (end > static_cast<size_t>(*countback) ? end - *countback : 0) : bars.lowerBound(from_ns);
        if (first >= end) {
          if (!ok && bars.empty()) return respond(udfError(ok.error().message));
          // Tell the client where older data is, so it jumps there rather
          // than asking for ever older empty ranges.
          size_t before = bars.lowerBound(from_ns);
          if (before == 0) return respond(HttpResponse::json(200, R"({"s":"no_data"})"));
          return respond(HttpResponse::json(
              200, fmt::format(R"({{"s":"no_data","nextTime":{}}})", bars.at(before - 1).start_ns / 1'000'000'000)));
        }
        std::string t, o, h, l, c, v;
        for (size_t i = first; i < end; ++i) {
          const Candle& bar = bars.at(i);
          const char* sep = i == first ? "" : ",";
          t += fmt::format("{}{}", sep, bar.start_ns / 1'000'000'000);
          o += fmt::format("{}{}", sep, bar.open);
          h += fmt::format("{}{}", sep, bar.high);
          l += fmt::format("{}{}", sep, bar.low);
          c += fmt::format("{}{}", sep, bar.close);
          v += fmt::format("{}{}", sep, bar.volume);
        }
        respond(HttpResponse::json(
            200,
            fmt::format(R"({{"s":"ok","t":[{}],"o":[{}],"h":[{}],"l":[{}],"c":[{}],"v":[{}]}})", t, o, h, l, c, v)));
      });
    };
    onKnownSymbol(service, *symbol, std::move(run), [respond](int, const std::string& why) { respond(udfError(why)); });
  });
  server.asyncRoute("GET", "/udf/marks", [&service](const HttpRequest& request, ApiServer::Responder respond) {
    auto symbol = normaliseSymbol(query(request, "symbol"));
    if (!symbol) return respond(udfError(symbol.error().message));
    auto from = parseInteger(query(request, "from"));
    auto to = parseInteger(query(request, "to"));
    if (!from || !to) return respond(udfError("from and to must be Unix times in seconds"));
    int64_t from_ns = *from * 1'000'000'000, to_ns = (*to + 1) * 1'000'000'000;
    auto run = [symbol = *symbol, from_ns, to_ns, respond](ChartHub& hub) {
      std::string id, time, color, text, label, font, size;
      bool first = true;
      for (const Marker& m : hub.markers(symbol, from_ns, to_ns)) {
        const char* sep = first ? "" : ",";
        first = false;
        std::string_view colour = m.kind == MarkerKind::Fill    ? (m.side == "sell" ? "red" : "green")
                                  : m.kind == MarkerKind::Level ? "blue"
                                                                : "yellow";
        char letter = m.kind == MarkerKind::Fill     ? (m.side == "sell" ? 'S' : 'B')
                      : m.kind == MarkerKind::Level  ? 'L'
                      : m.kind == MarkerKind::Signal ? '!'
                                                     : 'T';
        id += fmt::format("{}{}", sep, m.id);
        time += fmt::format("{}{}", sep, m.ts_ns / 1'000'000'000);
        color += fmt::format(R"({}"{}")", sep, colour);
        text += fmt::format("{}{}", sep, jsonString(m.text));
        label += fmt::format(R"({}"{}")", sep, letter);
        font += fmt::format(R"({}"white")", sep);
        size += fmt::format("{}{}", sep, 14);
      }
      respond(HttpResponse::json(
          200, fmt::format(R"({{"id":[{}],"time":[{}],"color":[{}],"text":[{}],"label":[{}],"labelFontColor":[{}],)"
                           R"("minSize":[{}]}})",
                           id, time, color, text, label, font, size)));
    };
    if (!service.onCore(std::move(run))) respond(udfError("the host is stopping"));
  });
}

void registerSockets(ApiServer& server, ChartService& service) {
  auto sockets = std::make_shared<ChartSockets>();
  // Snapshots and updates leave the core thread in order: sendTo, then
  // subscribe, then whatever the hub publishes after (see ApiServer).
  server.onWsMessage([&server, &service, sockets](WsClientId client, std::string_view text) {
    nlohmann::json message = parseExternalJson(text);
    if (message.is_discarded() || !message.is_object() || !message.contains("op") || !message["op"].is_string()) {
      return server.sendTo(client, wsError(R"(messages are JSON objects with an "op")"));
    }
    std::string op = message["op"];
    if (op != "subscribe" && op != "unsubscribe" && op != "resync") {
      return server.sendTo(client, wsError(fmt::format("op: unknown '{}' (subscribe, unsubscribe, resync, ping)", op)));
    }
    if (!message.contains("symbol") || !message["symbol"].is_string()) {
      return server.sendTo(client, wsError(op + ": symbol: missing"));
    }
    auto symbol = normaliseSymbol(message["symbol"].get<std::string>());
    if (!symbol) return server.sendTo(client, wsError(op + ": " + symbol.error().message));
    std::string tf_name = message.value("timeframe", std::string());
    auto timeframe = parseTimeframe(tf_name);
    if (!timeframe) {
      return server.sendTo(client, wsError(fmt::format("{}: timeframe: unknown '{}' (one of 1m, 3m, 5m, 15m, 30m, "
                                                       "1h, 4h, 1d)",
                                                       op, tf_name)));
    }
    size_t bars = kDefaultBars;
    if (message.contains("bars")) {
      if (!message["bars"].is_number_unsigned() || message["bars"].get<uint64_t>() > kMaxBars) {
        return server.sendTo(client, wsError(fmt::format("{}: bars: must be 0 to {}", op, kMaxBars)));
      }
      bars = message["bars"].get<size_t>();
    }
    auto run = [&server, sockets, client, op, symbol = *symbol, tf = *timeframe, bars](ChartHub& hub) {
      auto key = std::pair{symbol, tf};
      auto& watched = sockets->watching[client];
      std::string topic = topicOf(symbol, tf);
      if (op == "subscribe") {
        if (watched.insert(key).second) {
          server.sendTo(client, hub.watch(symbol, tf, bars));
          server.subscribe(client, topic);
        } else {
          server.sendTo(client, hub.snapshot(symbol, tf, bars));
        }
      } else if (op == "resync") {
        if (!watched.contains(key)) return server.sendTo(client, wsError("resync: not subscribed to " + topic));
        server.sendTo(client, hub.snapshot(symbol, tf, bars));
      } else {
        if (watched.erase(key)) {
          hub.unwatch(symbol, tf);
          server.unsubscribe(client, topic);
        }
        server.sendTo(client, std::make_shared<const std::string>(
                                  fmt::format(R"({{"type":"unsubscribed","series":"{}"}})", topic)));
      }
    };
    if (!service.onCore(std::move(run))) server.sendTo(client, wsError("the host is stopping"));
  });
  server.onWsResync([&server, &service, sockets](WsClientId client, const std::string& topic) {
    auto colon = topic.rfind(':');
    if (colon == std::string::npos) return;
    auto timeframe = parseTimeframe(std::string_view(topic).substr(colon + 1));
    if (!timeframe) return;
    std::string symbol = topic.substr(0, colon);
    service.onCore([&server, sockets, client, symbol, tf = *timeframe](ChartHub& hub) {
      auto it = sockets->watching.find(client);
      if (it == sockets->watching.end() || !it->second.contains({symbol, tf})) return;
      server.sendTo(client, hub.snapshot(symbol, tf, kDefaultBars));
    });
  });
  server.onWsClosed([&service, sockets](WsClientId client) {
    service.onCore([sockets, client](ChartHub& hub) {
      auto it = sockets->watching.find(client);
      if (it == sockets->watching.end()) return;
      for (const auto& [symbol, tf] : it->second) hub.unwatch(symbol, tf);
      sockets->watching.erase(it);
    });
  });
}

}  // namespace

Result<std::string> normaliseSymbol(std::string_view text) {
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) text = text.substr(colon + 1);
  std::string out = uppercase(std::string(text.substr(0, 64)));
  if (text.size() > 64) out += std::string(text.substr(64));  // keeps its length for the message
  if (auto problem = symbolProblem(out)) return fail(ErrorCode::InvalidArgument, "symbol: " + *problem);
  return out;
}

void registerChartRoutes(ApiServer& server, ChartService& service) {
  registerRest(server, service);
  registerUdf(server, service);
  registerSockets(server, service);
}

}  // namespace th
