// How candles and markers look in JSON, everywhere the API shows them:
// {"time": ms since the epoch, "open", "high", "low", "close", "volume",
// "trades", "source": "live" | "history" | "mixed", "final": bool} and
// {"id", "time", "kind", "price", "text", "origin", "side"}.
#pragma once

#include <string>

#include "chart/chart_hub.h"

namespace th {

std::string candleJson(const Candle& candle);
std::string markerJson(const Marker& marker);

}  // namespace th
