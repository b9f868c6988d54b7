// What a backtest logs, kept for its report rather than streamed to the
// terminal: a year of bars can refuse a hundred entries, and a hundred
// warning lines ahead of the summary bury it. Each line carries the
// simulated time it was logged at, which says when in the market it
// happened; the wall clock would say nothing.
#pragma once

#include <spdlog/common.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace th {

struct BacktestLogLine {
  int64_t time_ns = 0;  // the simulated time; 0 before the first bar is played
  std::string level;    // "warning" or "error"
  std::string message;
};

class RunLog {
 public:
  // From construction to destruction, warnings and errors of the default
  // logger are kept (the first `keep`, the rest counted), and the logger's
  // other sinks show errors only. `now` gives the simulated time.
  RunLog(std::function<int64_t()> now, size_t keep);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  std::vector<BacktestLogLine> lines() const;
  uint64_t omitted() const;

 private:
  class Sink;
  std::shared_ptr<Sink> sink_;
  std::vector<spdlog::level::level_enum> shown_;  // the other sinks' levels, restored at the end
};

}  // namespace th
