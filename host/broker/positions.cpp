#include "broker/positions.h"

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/json.h"
#include "th/plugin.h"

namespace th {
namespace {

constexpr int kEncodingVersion = 1;

// Fractional quantities do not sum exactly in binary (0.1 + 0.2 - 0.3 is not
// 0), and a position left at 1e-17 shares would look open and keep a cost.
constexpr double kFlatQuantity = 1e-9;

bool positiveFinite(double value) { return std::isfinite(value) && value > 0; }

Result<void> validate(const FillInput& fill) {
  if (fill.fill_id.empty()) return fail(ErrorCode::InvalidArgument, "fill has no fill id");
  if (fill.symbol.empty()) return fail(ErrorCode::InvalidArgument, fmt::format("fill {} has no symbol", fill.fill_id));
  auto reject = [&](std::string_view what, auto value) {
    return fail(ErrorCode::InvalidArgument,
                fmt::format("fill {} ({}): {}, got {}", fill.fill_id, fill.symbol, what, value));
  };
  if (fill.side != TH_SIDE_BUY && fill.side != TH_SIDE_SELL) return reject("unknown side", fill.side);
  if (fill.asset_class != TH_ASSET_EQUITY && fill.asset_class != TH_ASSET_OPTION) {
    return reject("unknown asset class", fill.asset_class);
  }
  if (!positiveFinite(fill.quantity)) return reject("quantity must be positive", fill.quantity);
  // An expired or delivered contract closes at 0; every trade has a price.
  if (fill.activity != 0 ? !(std::isfinite(fill.price) && fill.price >= 0) : !positiveFinite(fill.price)) {
    return reject(fill.activity != 0 ? "price must not be negative" : "price must be positive", fill.price);
  }
  if (!positiveFinite(fill.multiplier)) return reject("multiplier must be positive", fill.multiplier);
  if (!std::isfinite(fill.commission) || fill.commission < 0) {
    return reject("commission must not be negative", fill.commission);
  }
  return {};
}

// A fill whose multiplier disagrees with the position's would price its
// shares as contracts, or the reverse, and corrupt every figure after it.
Result<void> matchesPosition(const FillInput& fill, const Position* position) {
  if (position == nullptr) return {};
  if (position->multiplier != fill.multiplier || position->asset_class != fill.asset_class) {
    return fail(
        ErrorCode::InvalidArgument,
        fmt::format("fill {} ({}): multiplier {} and asset class {} differ from the position's {} and {}", fill.fill_id,
                    fill.symbol, fill.multiplier, fill.asset_class, position->multiplier, position->asset_class));
  }
  return {};
}

void book(Position& position, const FillInput& fill) {
  const double signed_quantity = fill.side == TH_SIDE_BUY ? fill.quantity : -fill.quantity;
  const double held = position.quantity;
  double after = held + signed_quantity;
  if (std::abs(after) < kFlatQuantity) after = 0;

  const bool adds = held == 0 || (held > 0) == (signed_quantity > 0);
  if (adds) {
    position.average_cost =
        (position.average_cost * std::abs(held) + fill.price * fill.quantity) / (std::abs(held) + fill.quantity);
  } else {
    const double closed = std::min(std::abs(held), fill.quantity);
    const double direction = held > 0 ? 1.0 : -1.0;
    position.realised += (fill.price - position.average_cost) * closed * direction * position.multiplier;
    // Whatever is left after crossing zero is a new position opened at this
    // fill's price; a reduction keeps the cost of what remains.
    if (after != 0 && (after > 0) != (held > 0)) position.average_cost = fill.price;
  }
  if (after == 0) position.average_cost = 0;
  position.quantity = after;
  position.commissions += fill.commission;
  position.last_price = fill.price;
  position.last_fill_ts_ns = fill.ts_ns;
}

Position& positionFor(PositionBook::PositionMap& positions, const FillInput& fill) {
  auto it = positions.find(fill.symbol);
  if (it == positions.end()) {
    Position fresh;
    fresh.symbol = fill.symbol;
    fresh.asset_class = fill.asset_class;
    fresh.multiplier = fill.multiplier;
    it = positions.emplace(fill.symbol, std::move(fresh)).first;
  }
  return it->second;
}

const Position* find(const PositionBook::PositionMap& positions, std::string_view symbol) {
  auto it = positions.find(symbol);
  return it == positions.end() ? nullptr : &it->second;
}

std::vector<Position> list(const PositionBook::PositionMap& positions) {
  std::vector<Position> out;
  out.reserve(positions.size());
  for (const auto& [symbol, position] : positions) out.push_back(position);
  return out;
}

PnlSummary summarise(const PositionBook::PositionMap& positions) {
  PnlSummary summary;
  for (const auto& [symbol, position] : positions) {
    summary.realised += position.realised;
    summary.unrealised += position.unrealised();
    summary.commissions += position.commissions;
    summary.gross_exposure += position.grossExposure();
  }
  summary.net = summary.realised + summary.unrealised - summary.commissions;
  return summary;
}

nlohmann::json positionsJson(const PositionBook::PositionMap& positions) {
  auto out = nlohmann::json::array();
  for (const auto& [symbol, p] : positions) {
    out.push_back({{"symbol", p.symbol},
                   {"asset_class", p.asset_class},
                   {"multiplier", p.multiplier},
                   {"quantity", p.quantity},
                   {"average_cost", p.average_cost},
                   {"realised", p.realised},
                   {"commissions", p.commissions},
                   {"last_price", p.last_price},
                   {"last_fill_ts_ns", p.last_fill_ts_ns}});
  }
  return out;
}

// Throws nlohmann::json exceptions on missing or mistyped fields; decode()
// turns them into a Corruption error.
Result<PositionBook::PositionMap> positionsFromJson(const nlohmann::json& array) {
  if (!array.is_array()) return fail(ErrorCode::Corruption, "position book: positions are not a list");
  PositionBook::PositionMap positions;
  for (const auto& item : array) {
    Position p;
    p.symbol = item.at("symbol").get<std::string>();
    p.asset_class = item.at("asset_class").get<int32_t>();
    p.multiplier = item.at("multiplier").get<double>();
    p.quantity = item.at("quantity").get<double>();
    p.average_cost = item.at("average_cost").get<double>();
    p.realised = item.at("realised").get<double>();
    p.commissions = item.at("commissions").get<double>();
    p.last_price = item.at("last_price").get<double>();
    p.last_fill_ts_ns = item.at("last_fill_ts_ns").get<int64_t>();
    const bool finite = std::isfinite(p.quantity) && std::isfinite(p.average_cost) && std::isfinite(p.realised) &&
                        std::isfinite(p.commissions) && std::isfinite(p.last_price);
    if (p.symbol.empty() || !positiveFinite(p.multiplier) || !finite) {
      return fail(ErrorCode::Corruption, fmt::format("position book: invalid position for '{}'", p.symbol));
    }
    std::string key = p.symbol;
    if (!positions.emplace(std::move(key), std::move(p)).second) {
      return fail(ErrorCode::Corruption, "position book: a symbol is listed twice");
    }
  }
  return positions;
}

}  // namespace

double Position::grossExposure() const { return std::abs(quantity * last_price * multiplier); }

// At least one, so a report repeated straight away is always caught.
PositionBook::PositionBook(size_t fill_id_capacity) : fill_id_capacity_(std::max<size_t>(fill_id_capacity, 1)) {}

Result<FillResult> PositionBook::apply(const FillInput& fill) {
  if (auto valid = validate(fill); !valid) return std::unexpected(valid.error());
  if (seenFill(fill.fill_id)) return FillResult::Duplicate;

  // Both positions are checked before either changes, so a refused fill
  // leaves the strategy and the account in agreement.
  const Position* account = find(account_, fill.symbol);
  const Position* strategy = strategyPosition(fill.strategy, fill.symbol);
  if (auto ok = matchesPosition(fill, account); !ok) return std::unexpected(ok.error());
  if (auto ok = matchesPosition(fill, strategy); !ok) return std::unexpected(ok.error());

  if (!account || !strategy) shape_.renew();
  book(positionFor(account_, fill), fill);
  auto strategy_it = strategies_.find(fill.strategy);
  if (strategy_it == strategies_.end()) strategy_it = strategies_.emplace(fill.strategy, PositionMap{}).first;
  book(positionFor(strategy_it->second, fill), fill);
  rememberFill(fill.fill_id);
  return FillResult::Applied;
}

void PositionBook::mark(std::string_view symbol, double price) {
  if (!positiveFinite(price)) return;
  std::vector<Position*> positions;
  positionsIn(symbol, positions);
  for (Position* position : positions) position->last_price = price;
}

void PositionBook::positionsIn(std::string_view symbol, std::vector<Position*>& out) {
  if (auto it = account_.find(symbol); it != account_.end()) out.push_back(&it->second);
  for (auto& [name, positions] : strategies_) {
    if (auto it = positions.find(symbol); it != positions.end()) out.push_back(&it->second);
  }
}

uint64_t PositionBook::Shape::next() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

const Position* PositionBook::strategyPosition(std::string_view strategy, std::string_view symbol) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? nullptr : find(it->second, symbol);
}

const Position* PositionBook::accountPosition(std::string_view symbol) const { return find(account_, symbol); }

void PositionBook::heldContracts(std::vector<std::string>& out) const {
  for (const auto& [symbol, p] : account_) {
    if (p.asset_class == TH_ASSET_OPTION && std::abs(p.quantity) > kFlatQuantity) out.push_back(symbol);
  }
}

void PositionBook::contractsInBooks(std::vector<std::string>& out) const {
  for (const auto& [strategy, positions] : strategies_) {
    for (const auto& [symbol, p] : positions) {
      if (p.asset_class == TH_ASSET_OPTION && std::abs(p.quantity) > kFlatQuantity) out.push_back(symbol);
    }
  }
}

std::vector<Position> PositionBook::strategyPositions(std::string_view strategy) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? std::vector<Position>{} : list(it->second);
}

std::vector<Position> PositionBook::accountPositions() const { return list(account_); }

std::vector<std::string> PositionBook::strategies() const {
  std::vector<std::string> names;
  names.reserve(strategies_.size());
  for (const auto& [name, positions] : strategies_) names.push_back(name);
  return names;
}

PnlSummary PositionBook::strategySummary(std::string_view strategy) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? PnlSummary{} : summarise(it->second);
}

PnlSummary PositionBook::accountSummary() const { return summarise(account_); }

bool PositionBook::seenFill(std::string_view fill_id) const { return fill_ids_.find(fill_id) != fill_ids_.end(); }

void PositionBook::rememberFill(std::string fill_id) {
  if (!fill_ids_.insert(fill_id).second) return;
  fill_id_order_.push_back(std::move(fill_id));
  while (fill_id_order_.size() > fill_id_capacity_) {
    fill_ids_.erase(fill_id_order_.front());
    fill_id_order_.pop_front();
  }
}

std::string PositionBook::encode() const {
  nlohmann::json strategies = nlohmann::json::object();
  for (const auto& [name, positions] : strategies_) strategies[name] = positionsJson(positions);
  nlohmann::json fill_ids = nlohmann::json::array();
  for (const auto& id : fill_id_order_) fill_ids.push_back(id);
  return jsonText({{"version", kEncodingVersion},
                   {"account", positionsJson(account_)},
                   {"strategies", std::move(strategies)},
                   {"fill_ids", std::move(fill_ids)}});
}

Result<PositionBook> PositionBook::decode(std::string_view text, size_t fill_id_capacity) {
  auto root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return fail(ErrorCode::Corruption, "position book: not a JSON object");
  try {
    const int version = root.at("version").get<int>();
    if (version != kEncodingVersion) {
      return fail(ErrorCode::Corruption, fmt::format("position book: unknown version {}", version));
    }
    PositionBook book(fill_id_capacity);
    auto account = positionsFromJson(root.at("account"));
    if (!account) return std::unexpected(account.error());
    book.account_ = std::move(*account);
    const auto& strategies = root.at("strategies");
    const auto& fill_ids = root.at("fill_ids");
    if (!strategies.is_object() || !fill_ids.is_array()) {
      return fail(ErrorCode::Corruption, "position book: strategies or fill ids have the wrong type");
    }
    for (const auto& [name, array] : strategies.items()) {
      auto positions = positionsFromJson(array);
      if (!positions) return std::unexpected(positions.error());
      book.strategies_.emplace(name, std::move(*positions));
    }
    for (const auto& id : fill_ids) book.rememberFill(id.get<std::string>());
    return book;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::Corruption, std::string("position book: ") + e.what());
  }
}

}  // namespace th
