// How candles and markers look in JSON, everywhere the API shows them:
// {"time": ms since the epoch, "open", "high", "low", "close", "volume",
// "trades", "source": "live" | "history" | "mixed", "final": bool} and
// {"id", "time", "kind", "price", "text", "origin", "side"}; and series health.
#pragma once

#include <string>

#include "chart/chart_hub.h"

namespace th {

std::string candleJson(const Candle& candle);
std::string markerJson(const Marker& marker);
// {"state", "age_ms" (-1: never updated), "gaps_detected", "gaps_open",
// "backfills_in_flight", "source", "reason"}.
std::string healthJson(const SeriesHealth& health);

}  // namespace th
