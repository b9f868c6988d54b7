// tradehost screen covered-call: the covered_call strategy's screen, run now
// by the host (POST /api/v1/strategies/{id}/request/screen), as a table of
// ranked contracts with their metrics and warnings, or its JSON with --json.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>

#include "cli/api_call.h"
#include "cli/commands.h"

namespace th {
namespace {

std::string fixed(const json& object, const char* key, int decimals, double scale = 1) {
  auto value = numberOf(object, key);
  return value ? fmt::format("{:.{}f}", *value * scale, decimals) : "-";
}

void printUnderlying(const json& u) {
  std::string line = fmt::format("{} {}", text(u, "symbol"), fixed(u, "price", 2));
  const auto source = text(u, "price_source");
  if (source == "trade") line += " (last trade)";
  if (source == "bar") line += " (last 1-minute close)";
  if (source == "chain") line += " (the chain's underlying price)";
  if (u.contains("error")) {
    line += ": " + text(u, "error");
  } else {
    line += fmt::format(": {} contract(s), {} passed", text(u, "contracts"), text(u, "passed"));
    std::vector<std::string> out;
    const json rejected = u.value("rejected", json::object());
    for (const auto& [why, n] : rejected.items()) out.push_back(fmt::format("{} {}", why, n.dump()));
    if (!out.empty()) line += fmt::format("; left out by {}", fmt::join(out, ", "));
  }
  printField("underlying", line);
}

void printScreen(const json& screen) {
  printField("screened", fmt::format("{}, ranked by {}", text(screen, "time"), text(screen, "sort_by")));
  for (const auto& u : screen.value("underlyings", json::array())) printUnderlying(u);
  const auto& results = screen.value("results", json::array());
  if (results.empty()) {
    std::cout << "no contract passed the filters\n";
    return;
  }
  Table table({"#", "CONTRACT", "STRIKE", "BID", "ASK", "DELTA", "OTM%", "YIELD%", "POP%", "P(OTM)%", "EV", "CONF",
               "WARNINGS"},
              {true, false, true, true, true, true, true, true, true, true, true, true, false});
  for (const auto& r : results) {
    std::vector<std::string> warnings;
    for (const auto& w : r.value("warnings", json::array())) warnings.push_back(w.is_string() ? w.get<std::string>() : w.dump());
    table.add({text(r, "rank"), text(r, "contract"), fixed(r, "strike", 2), fixed(r, "bid", 2), fixed(r, "ask", 2),
               fixed(r, "delta", 2), fixed(r, "otm_pct", 2), fixed(r, "premium_yield", 3, 100), fixed(r, "pop", 1, 100),
               fixed(r, "prob_otm", 1, 100), fixed(r, "ev", 3), fixed(r, "confidence", 1),
               warnings.empty() ? "-" : fmt::format("{}", fmt::join(warnings, "; "))});
  }
  table.print(std::cout);
}

}  // namespace

int screenCommand(const ScreenCommandOptions& options) {
  json args = json::object();
  if (!options.symbols.empty()) args["symbols"] = options.symbols;
  auto reply = call(options.call, "POST",
                    fmt::format("/api/v1/strategies/{}/request/screen", urlEncode(options.strategy)), args.dump());
  if (!reply) return reply.error();
  return show(options.call, *reply, printScreen);
}

}  // namespace th
