// The chart endpoints: REST (/api/v1/chart), the TradingView UDF feed (/udf)
// and WebSocket series subscriptions ({"op":"subscribe",...} on /ws).
//
// The chart hub lives on the core thread; every handler here runs on an I/O
// thread, so it validates the request, posts the work to the core thread and
// answers when the hub has (after a backfill, if the range needs one).
#pragma once

#include <functional>
#include <string>

#include "api/api_server.h"
#include "core/error.h"

namespace th {

class ChartHub;

struct InstrumentInfo {
  std::string symbol, name, exchange;
  std::string type;  // "stock", "option"
  double tick_size = 0.01;
};

class ChartService {
 public:
  virtual ~ChartService() = default;
  // Runs `task` on the core thread with the hub; false when the host is stopping.
  virtual bool onCore(std::function<void(ChartHub&)> task) = 0;
  // Asks the chart provider about a symbol, off the core thread; answers once, from any thread.
  virtual void lookup(const std::string& symbol, std::function<void(Result<InstrumentInfo>)> done) = 0;
  virtual int64_t nowNs() const = 0;
  // How many symbols a chart request may bring the hub to (chart.max_symbols);
  // past it a request for a new symbol is answered 503.
  virtual size_t maxSymbols() const { return 100; }
};

void registerChartRoutes(ApiServer& server, ChartService& service);

// "SPY", "BRK.B", "SPY261120C00590000": 1-31 of A-Z, 0-9, '.', '-', '^', '/'.
// UDF clients may prefix an exchange ("NYSE:SPY"), which is dropped.
Result<std::string> normaliseSymbol(std::string_view text);

}  // namespace th
