#include "risk/risk_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/json.h"
#include "core/text.h"
#include "core/time.h"

namespace th {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kRateWindowNs = 60 * kNsPerSecond;
constexpr double kSharesPerContract = 100;
// Quantities are doubles summed elsewhere (partial fills, fractional
// shares); a position of 100 must not read as 100.00000000001 and refuse
// the order that closes it.
constexpr double kQuantityEpsilon = 1e-9;
constexpr std::string_view kEncodingFormat = "th.risk_state/1";

constexpr std::array<std::pair<RiskReason, std::string_view>, 15> kReasons = {{
    {RiskReason::Halted, "HALTED"},
    {RiskReason::ReducingOnly, "REDUCING_ONLY"},
    {RiskReason::CoolDown, "COOL_DOWN"},
    {RiskReason::MaxOrderQuantity, "MAX_ORDER_QUANTITY"},
    {RiskReason::MaxOrderNotional, "MAX_ORDER_NOTIONAL"},
    {RiskReason::MaxPositionNotional, "MAX_POSITION_NOTIONAL"},
    {RiskReason::MaxGrossExposure, "MAX_GROSS_EXPOSURE"},
    {RiskReason::MaxOpenOrders, "MAX_OPEN_ORDERS"},
    {RiskReason::OrderRate, "ORDER_RATE"},
    {RiskReason::PriceCollar, "PRICE_COLLAR"},
    {RiskReason::NoPrice, "NO_PRICE"},
    {RiskReason::OutsideRegularHours, "OUTSIDE_REGULAR_HOURS"},
    {RiskReason::DuplicateOrder, "DUPLICATE_ORDER"},
    {RiskReason::BuyingPower, "BUYING_POWER"},
    {RiskReason::UncoveredCall, "UNCOVERED_CALL"},
}};

// A limit met exactly passes; a product of doubles that lands a hair above
// it must too.
bool exceeds(double value, double limit) { return value > limit + 1e-9 * std::max(1.0, std::fabs(limit)); }

// "5,120.00": money in details and state reasons.
std::string money(double value) {
  const std::string digits = fmt::format("{:.2f}", std::fabs(value));
  const size_t point = digits.find('.');
  std::string grouped;
  for (size_t i = 0; i < point; ++i) {
    if (i > 0 && (point - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  grouped.append(digits, point);
  return value < 0 && grouped != "0.00" ? fmt::format("-{}", grouped) : grouped;
}

RiskDecision reject(RiskReason reason, std::string detail) { return {false, reason, std::move(detail)}; }

TradingState stateFor(LossAction action) {
  return action == LossAction::Halted ? TradingState::Halted : TradingState::Reducing;
}

bool stricter(TradingState a, TradingState b) { return static_cast<int32_t>(a) > static_cast<int32_t>(b); }

double signedQuantity(const OrderIntent& intent) {
  return intent.side == OrderSide::Buy ? intent.quantity : -intent.quantity;
}

// The part of the order that opens or adds to a position starting at
// `position`; the rest closes it.
double openingQuantity(double position, const OrderIntent& intent) {
  const double order = signedQuantity(intent);
  if (position * order >= 0) return intent.quantity;
  return std::max(0.0, intent.quantity - std::fabs(position));
}

// Same strategy, instrument, direction, type, size and prices: what a
// strategy stuck in a loop or a double-clicked button sends again.
bool sameOrder(const OrderIntent& a, const OrderIntent& b) {
  return a.strategy == b.strategy && a.symbol == b.symbol && a.side == b.side && a.type == b.type &&
         a.quantity == b.quantity && a.limit_price == b.limit_price && a.stop_price == b.stop_price &&
         a.take_profit_price == b.take_profit_price && a.stop_loss_price == b.stop_loss_price &&
         a.stop_loss_limit_price == b.stop_loss_limit_price;
}

// One set of limits and what it is measured against: the global limits
// against the account, a strategy's own against the strategy.
struct Scope {
  const RiskLimits* limits;
  bool account;
  std::string label;  // "global", "strategy 'orb'"
};

nlohmann::json limitsJson(const RiskLimits& limits) {
  auto out = nlohmann::json::object();
  auto put = [&](const char* key, const auto& value) {
    if (value) out[key] = *value;
  };
  put("max_order_quantity", limits.max_order_quantity);
  put("max_order_notional", limits.max_order_notional);
  put("max_position_notional", limits.max_position_notional);
  put("max_gross_exposure", limits.max_gross_exposure);
  put("max_open_orders", limits.max_open_orders);
  put("max_orders_per_minute", limits.max_orders_per_minute);
  put("price_collar_pct", limits.price_collar_pct);
  put("regular_hours_only", limits.regular_hours_only);
  put("duplicate_window_s", limits.duplicate_window_s);
  put("daily_loss_limit", limits.daily_loss_limit);
  put("max_drawdown", limits.max_drawdown);
  put("cool_down_after_losses", limits.cool_down_after_losses);
  put("cool_down_minutes", limits.cool_down_minutes);
  return out;
}

std::string_view actionName(LossAction action) { return action == LossAction::Halted ? "halted" : "reducing"; }

}  // namespace

std::string_view toString(TradingState state) {
  switch (state) {
    case TradingState::Active:
      return "ACTIVE";
    case TradingState::Reducing:
      return "REDUCING";
    case TradingState::Halted:
      return "HALTED";
  }
  return "unknown";
}

std::optional<TradingState> parseTradingState(std::string_view text) {
  const std::string upper = uppercase(std::string(text));
  for (auto state : {TradingState::Active, TradingState::Reducing, TradingState::Halted}) {
    if (toString(state) == upper) return state;
  }
  return std::nullopt;
}

std::string_view reasonCode(RiskReason reason) {
  for (const auto& [value, code] : kReasons) {
    if (value == reason) return code;
  }
  return "";
}

RiskService::RiskService(RiskConfig config) : config_(std::move(config)) {}

bool RiskService::reduces(const OrderIntent& intent, const RiskView& view) {
  const double position = view.strategyQuantity(intent.strategy, intent.symbol);
  if (std::fabs(position) <= kQuantityEpsilon) return false;
  const bool opposite = (position > 0) == (intent.side == OrderSide::Sell);
  if (!opposite) return false;
  // Exits already working count too: a stop and a target on the same
  // shares plus this order must not add up to more than the position.
  const double pending = view.pendingQuantity(intent.strategy, intent.symbol, intent.side);
  return intent.quantity + pending <= std::fabs(position) + kQuantityEpsilon;
}

RiskDecision RiskService::check(const OrderIntent& intent, OrderPurpose purpose, const RiskView& view,
                                int64_t now_ns) const {
  // The host's own exits only ever reduce a position: a position must not be
  // left without its stop because trading stopped after its entry filled.
  if (purpose != OrderPurpose::Normal) return {};
  if (state_ == TradingState::Halted) {
    return reject(RiskReason::Halted, state_reason_.empty()
                                          ? std::string("trading is HALTED: only cancels pass")
                                          : fmt::format("trading is HALTED ({}): only cancels pass", state_reason_));
  }

  const bool reducing = reduces(intent, view);
  if (state_ == TradingState::Reducing && !reducing) {
    return reject(RiskReason::ReducingOnly,
                  fmt::format("trading is REDUCING{}: this {} of {} {} would not reduce {}",
                              state_reason_.empty() ? "" : fmt::format(" ({})", state_reason_), toString(intent.side),
                              intent.quantity, intent.symbol,
                              intent.strategy.empty() ? std::string("the manual position")
                                                      : fmt::format("the position of strategy '{}'", intent.strategy)));
  }
  if (auto own = strategies_.find(intent.strategy); own != strategies_.end() && own->second.state != TradingState::Active &&
                                                     own->second.day == toExchangeTime(now_ns).yyyymmdd) {
    const StrategyTrack& track = own->second;
    if (track.state == TradingState::Halted) {
      return reject(RiskReason::Halted,
                    fmt::format("strategy '{}' is HALTED ({}): only cancels pass", intent.strategy, track.reason));
    }
    if (!reducing) {
      return reject(RiskReason::ReducingOnly,
                    fmt::format("strategy '{}' is REDUCING ({}): this {} of {} {} would not reduce its position",
                                intent.strategy, track.reason, toString(intent.side), intent.quantity, intent.symbol));
    }
  }
  if (const int64_t until = coolDownUntil(intent.strategy); until > now_ns && !reducing) {
    const RiskLimits limits = effectiveLimits(intent.strategy);
    return reject(RiskReason::CoolDown,
                  fmt::format("strategy '{}' is cooling down until {} after {} losing trades in a row "
                              "(cool_down_after_losses {}, cool_down_minutes {})",
                              intent.strategy, formatExchangeTime(until), limits.cool_down_after_losses.value_or(0),
                              limits.cool_down_after_losses.value_or(0), limits.cool_down_minutes.value_or(0)));
  }
  return checkLimits(intent, view, now_ns);
}

RiskDecision RiskService::checkLimits(const OrderIntent& intent, const RiskView& view, int64_t now_ns) const {
  // Strategy limits first: they are the tighter ones, and the rejection
  // should name the limit the strategy's author set.
  std::vector<Scope> scopes;
  if (const RiskLimits* own = ownLimits(intent.strategy)) {
    scopes.push_back({own, false, fmt::format("strategy '{}'", intent.strategy)});
  }
  scopes.push_back({&config_.limits, true, "global"});

  for (const auto& scope : scopes) {
    if (scope.limits->regular_hours_only.value_or(false) && !view.regularHours(now_ns)) {
      return reject(
          RiskReason::OutsideRegularHours,
          fmt::format("the market is outside regular hours and regular_hours_only is true ({})", scope.label));
    }
  }

  const double last = view.lastPrice(intent.symbol);
  const bool has_last = std::isfinite(last) && last > 0;
  double price = last;
  if (intent.type == OrderType::Limit || intent.type == OrderType::StopLimit) {
    price = intent.limit_price;
  } else if (intent.type == OrderType::Stop) {
    price = intent.stop_price;
  }
  if (!has_last && intent.type == OrderType::Market) {
    return reject(RiskReason::NoPrice,
                  fmt::format("no last price for {}: the notional of a market order cannot be checked", intent.symbol));
  }
  if (has_last) {
    for (const auto& scope : scopes) {
      if (!scope.limits->price_collar_pct) continue;
      const double collar = *scope.limits->price_collar_pct;
      for (auto [name, value] :
           {std::pair{"limit price", intent.limit_price}, std::pair{"stop price", intent.stop_price}}) {
        if (value <= 0) continue;
        const double away_pct = std::fabs(value - last) / last * 100;
        if (exceeds(away_pct, collar)) {
          return reject(RiskReason::PriceCollar,
                        fmt::format("{} {} is {:.2f}% from the last price {}, beyond price_collar_pct {} ({})", name,
                                    value, away_pct, last, collar, scope.label));
        }
      }
    }
  }

  const double multiplier = contractMultiplier(intent.symbol, intent.asset_class);
  const double notional = intent.quantity * price * multiplier;
  for (const auto& scope : scopes) {
    if (const auto& limit = scope.limits->max_order_quantity; limit && exceeds(intent.quantity, *limit)) {
      return reject(RiskReason::MaxOrderQuantity, fmt::format("quantity {} exceeds max_order_quantity {} ({})",
                                                              intent.quantity, *limit, scope.label));
    }
  }
  for (const auto& scope : scopes) {
    if (const auto& limit = scope.limits->max_order_notional; limit && exceeds(notional, *limit)) {
      return reject(RiskReason::MaxOrderNotional, fmt::format("order notional {} exceeds max_order_notional {} ({})",
                                                              money(notional), money(*limit), scope.label));
    }
  }

  // Position and exposure limits only stop orders that grow a position:
  // an order that shrinks one lowers the risk they measure.
  auto positionOf = [&](const Scope& scope) {
    return scope.account ? view.accountQuantity(intent.symbol) : view.strategyQuantity(intent.strategy, intent.symbol);
  };
  auto grows = [&](double position) {
    return std::fabs(position + signedQuantity(intent)) > std::fabs(position) + kQuantityEpsilon;
  };
  for (const auto& scope : scopes) {
    const auto& limit = scope.limits->max_position_notional;
    if (!limit) continue;
    const double position = positionOf(scope);
    if (!grows(position)) continue;
    // Orders already working on the same side count as filled: five buys
    // of 90 must not each pass a limit of 100 against a flat position.
    const double working = scope.account ? view.accountPendingQuantity(intent.symbol, intent.side)
                                         : view.pendingQuantity(intent.strategy, intent.symbol, intent.side);
    const double after = position + signedQuantity(intent) + (intent.side == OrderSide::Buy ? working : -working);
    const double value = std::fabs(after) * price * multiplier;
    if (exceeds(value, *limit)) {
      return reject(RiskReason::MaxPositionNotional,
                    fmt::format("the {} position after the fill ({}, with working orders) is worth {}, above "
                                "max_position_notional {} ({})",
                                intent.symbol, after, money(value), money(*limit), scope.label));
    }
  }
  for (const auto& scope : scopes) {
    const auto& limit = scope.limits->max_gross_exposure;
    if (!limit || !grows(positionOf(scope))) continue;
    const double exposure =
        (scope.account ? view.accountGrossExposure() : view.strategyGrossExposure(intent.strategy)) + notional;
    if (exceeds(exposure, *limit)) {
      return reject(RiskReason::MaxGrossExposure,
                    fmt::format("gross exposure after the fill would be {}, above max_gross_exposure {} ({})",
                                money(exposure), money(*limit), scope.label));
    }
  }
  for (const auto& scope : scopes) {
    const auto& limit = scope.limits->max_open_orders;
    if (!limit) continue;
    const size_t open = scope.account ? view.accountOpenOrders() : view.strategyOpenOrders(intent.strategy);
    if (open + 1 > *limit) {
      return reject(RiskReason::MaxOpenOrders, fmt::format("{} open orders and this one exceed max_open_orders {} ({})",
                                                           open, *limit, scope.label));
    }
  }

  // The rate window is the strategy's, for both scopes: the global limit
  // caps each strategy (manual orders included), not the account.
  size_t last_minute = 0;
  if (auto it = strategies_.find(intent.strategy); it != strategies_.end()) {
    last_minute = static_cast<size_t>(std::count_if(it->second.recent_orders.begin(), it->second.recent_orders.end(),
                                                    [&](int64_t ts) { return ts > now_ns - kRateWindowNs; }));
  }
  for (const auto& scope : scopes) {
    const auto& limit = scope.limits->max_orders_per_minute;
    if (limit && last_minute + 1 > *limit) {
      return reject(RiskReason::OrderRate,
                    fmt::format("{} orders in the last minute and this one exceed max_orders_per_minute {} ({})",
                                last_minute, *limit, scope.label));
    }
  }
  for (const auto& scope : scopes) {
    const auto& window_s = scope.limits->duplicate_window_s;
    if (!window_s) continue;
    const auto window_ns = static_cast<int64_t>(*window_s * kNsPerSecond);
    for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
      const int64_t age_ns = now_ns - it->ts_ns;
      if (age_ns >= window_ns) break;  // oldest further back
      if (sameOrder(it->intent, intent)) {
        return reject(RiskReason::DuplicateOrder,
                      fmt::format("the same order was accepted {:.1f} s ago, within duplicate_window_s {} ({})",
                                  static_cast<double>(age_ns) / kNsPerSecond, *window_s, scope.label));
      }
    }
  }

  const double account_position = view.accountQuantity(intent.symbol);
  if (config_.check_buying_power) {
    // Only the part that opens or adds to a position needs buying power; a
    // buy that covers a short, or a sell of shares held, must never be
    // stopped by it — those are the orders that get risk off.
    const double cost = openingQuantity(account_position, intent) * price * multiplier;
    if (auto power = view.buyingPower(); power && cost > 0 && exceeds(cost, *power)) {
      return reject(RiskReason::BuyingPower,
                    fmt::format("the order needs {} of buying power and the broker reports {} (check_buying_power)",
                                money(cost), money(*power)));
    }
  }
  if (config_.require_covered_calls && intent.side == OrderSide::Sell && intent.asset_class == AssetClass::Option) {
    auto occ = parseOcc(intent.symbol);
    if (occ && occ->call && account_position - intent.quantity < -kQuantityEpsilon) {
      const double new_short = openingQuantity(account_position, intent);
      const double already_short = view.shortCallContracts(occ->underlying);
      const double shares = view.accountQuantity(occ->underlying);
      if (shares + kQuantityEpsilon < kSharesPerContract * (already_short + new_short)) {
        return reject(RiskReason::UncoveredCall,
                      fmt::format("selling {} {} calls needs {} shares of {}; the account holds {} and {} are already "
                                  "covering calls (require_covered_calls)",
                                  new_short, occ->underlying, kSharesPerContract * new_short, occ->underlying, shares,
                                  kSharesPerContract * already_short));
      }
    }
  }
  return {};
}

void RiskService::recordAccepted(const OrderIntent& intent, int64_t now_ns) {
  auto& track = strategies_[intent.strategy];
  track.recent_orders.push_back(now_ns);
  while (!track.recent_orders.empty() && track.recent_orders.front() <= now_ns - kRateWindowNs) {
    track.recent_orders.pop_front();
  }
  // The guard keeps orders as long as the longest window any scope uses.
  double window_s = config_.limits.duplicate_window_s.value_or(0);
  for (const auto& [id, limits] : config_.strategies)
    window_s = std::max(window_s, limits.duplicate_window_s.value_or(0));
  const auto window_ns = static_cast<int64_t>(window_s * kNsPerSecond);
  while (!recent_.empty() && recent_.front().ts_ns <= now_ns - window_ns) recent_.pop_front();
  if (window_ns > 0) recent_.push_back({intent, now_ns});
}

std::optional<StateChange> RiskService::setState(TradingState to, std::string reason, int64_t now_ns) {
  if (to == state_ && !forced_by_limit_) return std::nullopt;
  // An operator loosening a state a loss limit forced takes the day's loss
  // as it stands: the limits watch again from here, and fire on
  // a further full limit of loss (or drawdown).
  if (forced_by_limit_ && stricter(state_, to) && day_ == toExchangeTime(now_ns).yyyymmdd) {
    override_day_ = day_;
    override_loss_ = std::max(0.0, day_baseline_ - last_net_);
    override_drawdown_ = std::max(0.0, day_high_ - last_net_);
  }
  StateChange change{state_, to, reason, now_ns, {}};
  state_ = to;
  state_reason_ = std::move(reason);
  state_since_ns_ = now_ns;
  forced_by_limit_ = false;
  return change;
}

std::optional<StateChange> RiskService::onPnl(double account_net_pnl, int64_t now_ns) {
  // One NaN from a bad mark must not become the day's baseline or high.
  if (!std::isfinite(account_net_pnl)) return std::nullopt;
  std::optional<StateChange> change;
  const int32_t today = toExchangeTime(now_ns).yyyymmdd;
  if (today != day_) {
    day_ = today;
    day_baseline_ = account_net_pnl;
    day_high_ = account_net_pnl;
    if (forced_by_limit_) {
      change = StateChange{state_, TradingState::Active,
                           fmt::format("new exchange day {}: loss limits reset", isoDate(today)), now_ns, {}};
      state_ = TradingState::Active;
      state_reason_ = change->reason;
      state_since_ns_ = now_ns;
      forced_by_limit_ = false;
    }
    // The day's first call is its baseline: no loss yet, so no limit can
    // be reached below and `change` is the only change.
  }
  day_high_ = std::max(day_high_, account_net_pnl);
  last_net_ = account_net_pnl;

  const bool resumed = override_day_ == day_;
  auto reached = limitReached(config_.limits, day_baseline_ - account_net_pnl, day_high_ - account_net_pnl,
                              resumed ? override_loss_ : 0, resumed ? override_drawdown_ : 0, "",
                              resumed ? " more since the operator resumed" : "");
  // Never loosen: a limit only ever makes the state stricter, and an
  // operator's stricter state stays the operator's.
  if (!reached || !stricter(reached->to, state_)) return change;
  StateChange forced{state_, reached->to, reached->why, now_ns, {}};
  state_ = reached->to;
  state_reason_ = std::move(reached->why);
  state_since_ns_ = now_ns;
  forced_by_limit_ = true;
  return forced;
}

std::optional<StateChange> RiskService::onStrategyPnl(const std::string& strategy, double net_pnl, int64_t now_ns) {
  if (!std::isfinite(net_pnl) || strategy.empty()) return std::nullopt;
  auto it = strategies_.find(strategy);
  if (it == strategies_.end()) it = strategies_.emplace(strategy, StrategyTrack{}).first;
  StrategyTrack& track = it->second;
  std::optional<StateChange> change;
  const int32_t today = toExchangeTime(now_ns).yyyymmdd;
  if (today != track.day) {
    track.day = today;
    track.baseline = track.high = net_pnl;
    if (track.state != TradingState::Active) {
      change = StateChange{track.state, TradingState::Active,
                           fmt::format("new exchange day {}: strategy '{}' loss limits reset", isoDate(today), strategy),
                           now_ns, strategy};
      track.state = TradingState::Active;
      track.reason.clear();
    }
  }
  track.high = std::max(track.high, net_pnl);
  track.net = net_pnl;
  const RiskLimits* own = ownLimits(strategy);
  if (!own) return change;
  auto reached = limitReached(*own, track.baseline - net_pnl, track.high - net_pnl, 0, 0, "its ", "");
  if (!reached || !stricter(reached->to, track.state)) return change;
  StateChange forced{track.state, reached->to, reached->why, now_ns, strategy};
  track.state = reached->to;
  track.reason = std::move(reached->why);
  return forced;
}

std::optional<RiskService::LimitReached> RiskService::limitReached(const RiskLimits& limits, double loss,
                                                                   double drawdown, double loss_allowance,
                                                                   double drawdown_allowance, std::string_view whose,
                                                                   std::string_view suffix) const {
  std::optional<LimitReached> out;
  if (limits.daily_loss_limit && loss - loss_allowance >= *limits.daily_loss_limit) {
    out = LimitReached{stateFor(config_.loss_action),
                       fmt::format("{}daily loss {} reached {}daily_loss_limit {}{}", whose, money(loss), whose,
                                   money(*limits.daily_loss_limit), suffix)};
  }
  if (limits.max_drawdown && drawdown - drawdown_allowance >= *limits.max_drawdown) {
    auto to = stateFor(config_.drawdown_action);
    if (!out || stricter(to, out->to)) {
      out = LimitReached{to, fmt::format("{}drawdown {} from the day's high reached {}max_drawdown {}{}", whose,
                                         money(drawdown), whose, money(*limits.max_drawdown), suffix)};
    }
  }
  return out;
}

TradingState RiskService::strategyState(std::string_view strategy) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? TradingState::Active : it->second.state;
}

void RiskService::onClosingFill(std::string_view strategy, double realised_net, int64_t now_ns) {
  // Cool-downs pause strategies; an operator's hand-placed orders are the
  // way out of a bad streak, not something to lock.
  if (strategy.empty()) return;
  auto it = strategies_.find(strategy);
  if (it == strategies_.end()) it = strategies_.emplace(std::string(strategy), StrategyTrack{}).first;
  StrategyTrack& track = it->second;
  if (realised_net > 0) {
    track.loss_streak = 0;
    return;
  }
  if (realised_net == 0) return;  // break-even: neither a loss nor a win
  ++track.loss_streak;
  const RiskLimits limits = effectiveLimits(strategy);
  if (!limits.cool_down_after_losses || !limits.cool_down_minutes) return;
  if (track.loss_streak < *limits.cool_down_after_losses) return;
  track.cool_down_until_ns = now_ns + static_cast<int64_t>(*limits.cool_down_minutes * 60 * kNsPerSecond);
  // A fresh streak after the pause: one more loss must not pause it again.
  track.loss_streak = 0;
}

int64_t RiskService::coolDownUntil(std::string_view strategy) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? 0 : it->second.cool_down_until_ns;
}

Result<void> RiskService::setStrategyLimits(const std::string& strategy, const RiskLimits& limits) {
  if (auto ok = checkTighter(config_.limits, limits, fmt::format("risk.strategies.{}", strategy)); !ok) return ok;
  auto& current = config_.strategies[strategy];
  // New loss limits (a reload with an edited YAML) are the way to lift the
  // state the old ones forced: the next P&L check applies the new ones.
  if (current.daily_loss_limit != limits.daily_loss_limit || current.max_drawdown != limits.max_drawdown) {
    if (auto it = strategies_.find(strategy); it != strategies_.end()) {
      it->second.state = TradingState::Active;
      it->second.reason.clear();
    }
  }
  current = limits;
  return {};
}

const RiskLimits* RiskService::ownLimits(std::string_view strategy) const {
  auto it = config_.strategies.find(std::string(strategy));
  return it == config_.strategies.end() ? nullptr : &it->second;
}

RiskLimits RiskService::effectiveLimits(std::string_view strategy) const {
  RiskLimits out = config_.limits;
  const RiskLimits* own = ownLimits(strategy);
  if (!own) return out;
  auto take = [](auto& field, const auto& override_value) {
    if (override_value) field = override_value;
  };
  take(out.max_order_quantity, own->max_order_quantity);
  take(out.max_order_notional, own->max_order_notional);
  take(out.max_position_notional, own->max_position_notional);
  take(out.max_gross_exposure, own->max_gross_exposure);
  take(out.max_open_orders, own->max_open_orders);
  take(out.max_orders_per_minute, own->max_orders_per_minute);
  take(out.price_collar_pct, own->price_collar_pct);
  take(out.regular_hours_only, own->regular_hours_only);
  take(out.duplicate_window_s, own->duplicate_window_s);
  take(out.daily_loss_limit, own->daily_loss_limit);
  take(out.max_drawdown, own->max_drawdown);
  take(out.cool_down_after_losses, own->cool_down_after_losses);
  take(out.cool_down_minutes, own->cool_down_minutes);
  return out;
}

std::string RiskService::json(int64_t now_ns) const {
  auto strategies = nlohmann::json::object();
  for (const auto& [id, limits] : config_.strategies) strategies[id] = limitsJson(limits);
  auto cool_downs = nlohmann::json::object();
  auto strategy_states = nlohmann::json::object();
  for (const auto& [id, track] : strategies_) {
    if (track.cool_down_until_ns > now_ns) cool_downs[id] = formatExchangeTime(track.cool_down_until_ns);
    if (track.day == 0) continue;
    strategy_states[id] = {{"state", std::string(toString(track.state))},
                           {"reason", track.reason},
                           {"day", isoDate(track.day)},
                           {"daily_pnl", track.net - track.baseline},
                           {"drawdown", track.high - track.net}};
  }
  nlohmann::json out = {
      {"state", std::string(toString(state_))},
      {"reason", state_reason_},
      {"since", state_since_ns_ != 0 ? nlohmann::json(formatExchangeTime(state_since_ns_)) : nlohmann::json()},
      {"forced_by_limit", forced_by_limit_},
      {"day", day_ != 0 ? nlohmann::json(isoDate(day_)) : nlohmann::json()},
      {"baseline", day_baseline_},
      {"net", last_net_},
      {"daily_pnl", last_net_ - day_baseline_},
      {"day_high", day_high_ - day_baseline_},
      {"drawdown", day_high_ - last_net_},
      {"limits", limitsJson(config_.limits)},
      {"strategies", std::move(strategies)},
      {"cool_downs", std::move(cool_downs)},
      {"strategy_states", std::move(strategy_states)},
      {"check_buying_power", config_.check_buying_power},
      {"require_covered_calls", config_.require_covered_calls},
      {"loss_action", std::string(actionName(config_.loss_action))},
      {"drawdown_action", std::string(actionName(config_.drawdown_action))},
  };
  return jsonText(out);
}

std::string RiskService::encode() const {
  // Written directly in jsonText's key order: the P&L check encodes the
  // state on every run to see whether it changed.
  JsonObjectWriter strategies;
  for (const auto& [id, track] : strategies_) {
    if (track.loss_streak == 0 && track.cool_down_until_ns == 0 && track.day == 0) continue;
    strategies.raw(id, JsonObjectWriter()
                           .number("baseline", track.baseline)
                           .integer("cool_down_until_ns", track.cool_down_until_ns)
                           .integer("day", track.day)
                           .number("high", track.high)
                           .integer("loss_streak", track.loss_streak)
                           .number("net", track.net)
                           .text("reason", track.reason)
                           .text("state", toString(track.state))
                           .finish());
  }
  return JsonObjectWriter()
      .number("baseline", day_baseline_)
      .integer("day", day_)
      .number("day_high", day_high_)
      .boolean("forced_by_limit", forced_by_limit_)
      .text("format", kEncodingFormat)
      .number("last_net", last_net_)
      .integer("override_day", override_day_)
      .number("override_drawdown", override_drawdown_)
      .number("override_loss", override_loss_)
      .text("reason", state_reason_)
      .integer("since_ns", state_since_ns_)
      .text("state", toString(state_))
      .raw("strategies", strategies.finish())
      .finish();
}

Result<void> RiskService::restore(std::string_view encoded, int64_t now_ns) {
  auto root = nlohmann::json::parse(encoded, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return fail(ErrorCode::Corruption, "risk state: not a JSON object");
  const auto format = root.find("format");
  if (format == root.end() || !format->is_string() || format->get<std::string>() != kEncodingFormat) {
    return fail(ErrorCode::Corruption,
                fmt::format("risk state: unknown format {} (expected \"{}\")",
                            format == root.end() ? std::string("(none)") : jsonText(*format), kEncodingFormat));
  }
  RiskService loaded(config_);
  try {
    const auto state_text = root.at("state").get<std::string>();
    const auto state = parseTradingState(state_text);
    if (!state) return fail(ErrorCode::Corruption, fmt::format("risk state: unknown trading state '{}'", state_text));
    loaded.state_ = *state;
    loaded.state_reason_ = root.at("reason").get<std::string>();
    loaded.state_since_ns_ = root.at("since_ns").get<int64_t>();
    loaded.forced_by_limit_ = root.at("forced_by_limit").get<bool>();
    loaded.day_ = root.at("day").get<int32_t>();
    loaded.day_baseline_ = root.at("baseline").get<double>();
    loaded.day_high_ = root.at("day_high").get<double>();
    loaded.last_net_ = root.at("last_net").get<double>();
    loaded.override_day_ = root.value("override_day", 0);
    loaded.override_loss_ = root.value("override_loss", 0.0);
    loaded.override_drawdown_ = root.value("override_drawdown", 0.0);
    for (const auto& [id, item] : root.at("strategies").items()) {
      StrategyTrack track;
      track.loss_streak = item.at("loss_streak").get<uint32_t>();
      track.cool_down_until_ns = item.at("cool_down_until_ns").get<int64_t>();
      track.day = item.value("day", 0);
      track.baseline = item.value("baseline", 0.0);
      track.high = item.value("high", 0.0);
      track.net = item.value("net", 0.0);
      track.reason = item.value("reason", std::string());
      const auto strategy_state = parseTradingState(item.value("state", std::string("ACTIVE")));
      if (!strategy_state) return fail(ErrorCode::Corruption, fmt::format("risk state: strategy '{}': unknown state", id));
      track.state = *strategy_state;
      loaded.strategies_.emplace(id, std::move(track));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::Corruption, fmt::format("risk state: {}", e.what()));
  }
  // Everything is read before anything changes, so a bad record leaves the
  // service as it was.
  *this = std::move(loaded);
  // A loss limit holds for the exchange day it was reached on; an
  // operator's state holds until the operator changes it.
  const int32_t today = toExchangeTime(now_ns).yyyymmdd;
  if (forced_by_limit_ && day_ != today) {
    state_ = TradingState::Active;
    state_reason_ = fmt::format("new exchange day {}: loss limits reset", isoDate(today));
    state_since_ns_ = now_ns;
    forced_by_limit_ = false;
  }
  for (auto& [id, track] : strategies_) {
    if (track.day != today && track.state != TradingState::Active) {
      track.state = TradingState::Active;
      track.reason.clear();
    }
  }
  return {};
}

}  // namespace th
