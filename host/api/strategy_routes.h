// Strategies over HTTP: list, inspect, reload, roll back, enable, disable,
// version history, and the signals strategies published.
//
//   GET  /api/v1/strategies
//   GET  /api/v1/strategies/{id}               with ctx.state and timers
//   GET  /api/v1/strategies/{id}/history       every recorded version
//   POST /api/v1/strategies/{id}/reload        the files on disk
//   POST /api/v1/strategies/{id}/rollback      body (optional): {"version": "1.2.0" | "#3" | sha256 prefix}
//   POST /api/v1/strategies/{id}/enable        body (optional): {"reason": "..."}
//   POST /api/v1/strategies/{id}/disable       body (optional): {"reason": "..."}
//   GET  /api/v1/signals?strategy=&symbol=&limit=1..1000
//   GET  /api/v1/checklist/{symbol}?dir=long|short   the latest checklist record (default long)
//   POST /api/v1/strategies/{id}/request/{name}      body (optional): the arguments as a JSON object;
//        the answer of the strategy's on_request(ctx, name, args), e.g. covered_call's "screen"
//
// A reload or rollback answers once the new version trades (200, the
// strategy's JSON with "changed", "swap_pause_us" and "total_ms"), or with
// the error that kept the running version in place: 400 naming file:line
// for a broken script or definition, 409 while another reload of the same
// strategy is in flight, 404 for an unknown id or version.
#pragma once

#include <string>

#include "api/api_server.h"
#include "api/route_helpers.h"

namespace th {

// Each call answers exactly once through `done`, from any thread.
class StrategyControl {
 public:
  virtual ~StrategyControl() = default;
  virtual void listStrategies(JsonDone done) = 0;
  virtual void strategy(std::string id, JsonDone done) = 0;
  virtual void strategyHistory(std::string id, JsonDone done) = 0;
  virtual void reloadStrategy(std::string id, JsonDone done) = 0;
  virtual void rollbackStrategy(std::string id, std::string version, JsonDone done) = 0;
  virtual void enableStrategy(std::string id, bool enabled, std::string reason, JsonDone done) = 0;
  virtual void signals(std::string strategy, std::string symbol, size_t limit, JsonDone done) = 0;
  virtual void checklist(std::string symbol, std::string direction, JsonDone done) = 0;
  virtual void requestStrategy(std::string id, std::string name, std::string args_json, JsonDone done) = 0;
};

void registerStrategyRoutes(ApiServer& server, StrategyControl& control);

}  // namespace th
