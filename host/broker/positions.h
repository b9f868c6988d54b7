// Positions and P&L for one broker account, per strategy and for the account
// as a whole. The broker service feeds it every fill and the prices it marks
// positions with; the risk service and the API read positions, exposure and
// P&L from it; the store keeps its encoded form so positions, and the fill ids
// already counted, survive a restart.
//
// Units: quantities are shares or contracts (fractional shares allowed),
// prices and average cost are per share or contract, and money (P&L,
// commissions, exposure) is in account currency with the multiplier applied.
// Average cost excludes commission, as brokers report it, so reconciliation
// can compare the two; commissions are kept beside it.
//
// The account position is built from the fills themselves, not summed from
// the strategies. When two strategies hold opposite positions in a symbol the
// account is flat and has realised the difference while each strategy still
// holds its own position. Account quantity, commissions and total P&L
// (realised + unrealised) always equal the sum over the strategies; the split
// between realised and unrealised need not.
//
// Core thread only; no I/O; plain doubles, so results are deterministic for a
// given sequence of fills and marks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/text.h"

namespace th {

// Fills without a strategy (placed by hand or through the API) are booked
// under this strategy id, so the strategies still add up to the account.
inline constexpr std::string_view kManualStrategy = "";

struct FillInput {
  std::string fill_id, strategy, symbol;
  int32_t asset_class = 0;  // TH_ASSET_*
  int32_t side = 0;         // TH_SIDE_*
  double quantity = 0;      // shares or contracts in this fill, > 0
  double price = 0;         // per share or contract, > 0
  double commission = 0;    // account currency, >= 0
  double multiplier = 1;    // 1 for equities, 100 for standard options
  int64_t ts_ns = 0;
  int32_t activity = 0;     // TH_FILL_*: an expiry closes a contract at price 0
};

// Invalid fills are not a FillResult: apply() returns them as an Error with
// the reason, like every other failed operation in the host.
enum class FillResult { Applied, Duplicate };

struct Position {
  std::string symbol;
  int32_t asset_class = 0;
  double multiplier = 1;
  double quantity = 0;      // long > 0, short < 0
  double average_cost = 0;  // 0 when flat
  double realised = 0;      // before commissions
  double commissions = 0;
  double last_price = 0;  // latest mark or fill price; 0 until either
  int64_t last_fill_ts_ns = 0;

  double realisedNet() const { return realised - commissions; }
  double unrealised() const { return (last_price - average_cost) * quantity * multiplier; }
  double grossExposure() const;
};

struct PnlSummary {
  double realised = 0;
  double unrealised = 0;
  double commissions = 0;
  double net = 0;  // realised + unrealised - commissions
  double gross_exposure = 0;
};

class PositionBook {
 public:
  // Enough for several days of an active account; a repeated report comes
  // after a reconnect, not days later.
  static constexpr size_t kDefaultFillIdCapacity = 100'000;

  explicit PositionBook(size_t fill_id_capacity = kDefaultFillIdCapacity);

  // Books the fill on its strategy and on the account. A fill id seen before
  // changes nothing and returns Duplicate. An invalid fill changes nothing
  // and returns an InvalidArgument error saying why.
  [[nodiscard]] Result<FillResult> apply(const FillInput& fill);

  // Sets the price unrealised P&L and exposure are computed at, on every
  // position in the symbol. Prices that are not finite and positive are
  // ignored: one bad print must not turn the account's P&L into NaN.
  void mark(std::string_view symbol, double price);
  // Every position in the symbol (the account's, then each strategy's), to
  // mark many times over: the pointers stay valid while shape() is unchanged
  // (the broker service marks every bar this way).
  void positionsIn(std::string_view symbol, std::vector<Position*>& out);
  // Changes whenever a position is added or the book is copied, moved or
  // assigned; never repeats a value, across all books.
  uint64_t shape() const { return shape_.value(); }

  // nullptr when the strategy (or account) never traded the symbol. Flat
  // positions stay, with their realised P&L and commissions.
  const Position* strategyPosition(std::string_view strategy, std::string_view symbol) const;
  const Position* accountPosition(std::string_view symbol) const;
  // The option contracts the account holds (not flat), appended to `out`.
  void heldContracts(std::vector<std::string>& out) const;
  // The option contracts any strategy's book (the hand-placed one included)
  // holds, flat in the account or not, appended to `out` (a symbol once per
  // book that holds it).
  void contractsInBooks(std::vector<std::string>& out) const;

  // Sorted by symbol, flat positions included.
  std::vector<Position> strategyPositions(std::string_view strategy) const;
  std::vector<Position> accountPositions() const;
  // Every strategy that has traded, sorted; kManualStrategy if any manual fill.
  std::vector<std::string> strategies() const;

  PnlSummary strategySummary(std::string_view strategy) const;
  PnlSummary accountSummary() const;

  bool seenFill(std::string_view fill_id) const;

  using PositionMap = std::map<std::string, Position, TextLess>;  // by symbol

  // JSON; decode() refuses text that is not a book this code wrote.
  std::string encode() const;
  [[nodiscard]] static Result<PositionBook> decode(std::string_view text,
                                                   size_t fill_id_capacity = kDefaultFillIdCapacity);

 private:
  // Lets seenFill() look up a string_view without building a string.
  struct FillIdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };

  // A number from a process-wide sequence, renewed on every copy and move.
  class Shape {
   public:
    Shape() : value_(next()) {}
    Shape(const Shape&) : value_(next()) {}
    Shape& operator=(const Shape&) {
      value_ = next();
      return *this;
    }
    void renew() { value_ = next(); }
    uint64_t value() const { return value_; }

   private:
    static uint64_t next();
    uint64_t value_;
  };

  void rememberFill(std::string fill_id);

  size_t fill_id_capacity_;
  PositionMap account_;
  std::map<std::string, PositionMap, std::less<>> strategies_;
  // Oldest first, so the oldest id is forgotten when the capacity is reached.
  std::deque<std::string> fill_id_order_;
  std::unordered_set<std::string, FillIdHash, std::equal_to<>> fill_ids_;
  Shape shape_;
};

}  // namespace th
