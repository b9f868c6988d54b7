#include "core/event.h"

namespace th {

int64_t Event::timestamp() const {
  struct Visitor {
    int64_t operator()(const TradeEvent& e) const { return e.ts_ns; }
    int64_t operator()(const QuoteEvent& e) const { return e.ts_ns; }
    int64_t operator()(const BarEvent& e) const { return e.start_ns + e.duration_ns; }
    int64_t operator()(const OrderEvent& e) const { return e.ts_ns; }
    int64_t operator()(const FillEvent& e) const { return e.ts_ns; }
    int64_t operator()(const ConnectionEvent&) const { return 0; }
    int64_t operator()(const TaskEvent&) const { return 0; }
  };
  return std::visit(Visitor{}, payload);
}

std::string_view eventKindName(size_t index) {
  static constexpr std::string_view names[] = {"trade", "quote", "bar", "order", "fill", "connection", "task"};
  static_assert(std::size(names) == kEventKindCount);
  return index < kEventKindCount ? names[index] : "unknown";
}

std::string_view fillActivityName(int32_t activity) {
  static constexpr std::string_view names[] = {"trade", "expired", "exercised", "assigned"};
  if (activity == kFillOffset) return "offset";
  return activity >= 0 && activity < static_cast<int32_t>(std::size(names)) ? names[activity] : "unknown";
}

}  // namespace th
