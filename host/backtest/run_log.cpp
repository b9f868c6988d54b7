#include "backtest/run_log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

namespace th {

class RunLog::Sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  Sink(std::function<int64_t()> now, size_t keep) : now_(std::move(now)), keep_(keep) {}

  std::vector<BacktestLogLine> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  uint64_t omitted() {
    std::lock_guard lock(mutex_);
    return omitted_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::warn || msg.level == spdlog::level::off) return;
    if (lines_.size() >= keep_) {
      ++omitted_;
      return;
    }
    lines_.push_back({now_(), msg.level == spdlog::level::warn ? "warning" : "error",
                      std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}

 private:
  std::function<int64_t()> now_;
  size_t keep_;
  std::vector<BacktestLogLine> lines_;
  uint64_t omitted_ = 0;
};

RunLog::RunLog(std::function<int64_t()> now, size_t keep) : sink_(std::make_shared<Sink>(std::move(now), keep)) {
  auto logger = spdlog::default_logger();
  for (auto& sink : logger->sinks()) {
    shown_.push_back(sink->level());
    sink->set_level(std::max(sink->level(), spdlog::level::err));
  }
  logger->sinks().push_back(sink_);
}

RunLog::~RunLog() {
  auto logger = spdlog::default_logger();
  auto& sinks = logger->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  for (size_t i = 0; i < sinks.size() && i < shown_.size(); ++i) sinks[i]->set_level(shown_[i]);
}

std::vector<BacktestLogLine> RunLog::lines() const { return sink_->lines(); }
uint64_t RunLog::omitted() const { return sink_->omitted(); }

}  // namespace th
