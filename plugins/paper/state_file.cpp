#include "state_file.h"

#include <th/plugin.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

namespace th::paper {
namespace {

using Json = nlohmann::json;

constexpr const char* kFormat = "tradehost-paper-state";
constexpr int64_t kFormatVersion = 1;

struct Named {
  int32_t value;
  const char* name;
};
// Enums are written by name so an operator can read the file.
constexpr Named kAssetClasses[] = {{TH_ASSET_EQUITY, "EQUITY"}, {TH_ASSET_OPTION, "OPTION"}};
constexpr Named kSides[] = {{TH_SIDE_BUY, "BUY"}, {TH_SIDE_SELL, "SELL"}};
constexpr Named kTypes[] = {{TH_ORDER_MARKET, "MARKET"},
                            {TH_ORDER_LIMIT, "LIMIT"},
                            {TH_ORDER_STOP, "STOP"},
                            {TH_ORDER_STOP_LIMIT, "STOP_LIMIT"}};
constexpr Named kTimesInForce[] = {{TH_TIF_DAY, "DAY"}, {TH_TIF_GTC, "GTC"}, {TH_TIF_IOC, "IOC"}, {TH_TIF_FOK, "FOK"}};
constexpr Named kStatuses[] = {{TH_STATUS_ACCEPTED, "ACCEPTED"}, {TH_STATUS_PARTIALLY_FILLED, "PARTIALLY_FILLED"},
                               {TH_STATUS_FILLED, "FILLED"},     {TH_STATUS_CANCELED, "CANCELED"},
                               {TH_STATUS_REJECTED, "REJECTED"}, {TH_STATUS_EXPIRED, "EXPIRED"}};
constexpr Named kActivities[] = {{TH_FILL_EXPIRED, "EXPIRED"}, {TH_FILL_EXERCISED, "EXERCISED"},
                                 {TH_FILL_ASSIGNED, "ASSIGNED"}};

// A rejected order keeps the values it was submitted with, including ones
// outside the enum; those are written as plain integers.
template <size_t N>
Json nameOf(const Named (&table)[N], int32_t value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return value;
}

// What is wrong with a state file, with where in it.
class Corrupt : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads one JSON object field by field, naming the field's path in errors.
class Reader {
 public:
  Reader(const Json& node, std::string where) : node_(node), where_(std::move(where)) {
    if (!node_.is_object()) throw Corrupt(where_ + ": expected an object");
  }

  bool has(const char* key) const { return node_.contains(key); }
  const Json& node() const { return node_; }
  const Json& field(const char* key) const {
    auto it = node_.find(key);
    if (it == node_.end()) throw Corrupt(path(key) + ": missing");
    return *it;
  }
  std::string path(const char* key) const { return where_.empty() ? key : where_ + "." + key; }

  double number(const char* key) const {
    const Json& value = field(key);
    if (!value.is_number() || !std::isfinite(value.get<double>())) throw Corrupt(path(key) + ": expected a number");
    return value.get<double>();
  }
  double nonNegative(const char* key) const {
    double x = number(key);
    if (x < 0) throw Corrupt(path(key) + ": must not be negative");
    return x;
  }
  int64_t integer(const char* key) const {
    const Json& value = field(key);
    if (!value.is_number_integer()) throw Corrupt(path(key) + ": expected an integer");
    return value.get<int64_t>();
  }
  uint64_t counter(const char* key) const {
    int64_t x = integer(key);
    if (x < 1) throw Corrupt(path(key) + ": must be at least 1");
    return static_cast<uint64_t>(x);
  }
  std::string string(const char* key) const {
    const Json& value = field(key);
    if (!value.is_string()) throw Corrupt(path(key) + ": expected a string");
    return value.get<std::string>();
  }
  std::string nonEmpty(const char* key) const {
    std::string s = string(key);
    if (s.empty()) throw Corrupt(path(key) + ": must not be empty");
    return s;
  }
  bool boolean(const char* key) const {
    const Json& value = field(key);
    if (!value.is_boolean()) throw Corrupt(path(key) + ": expected true or false");
    return value.get<bool>();
  }
  const Json& array(const char* key) const {
    const Json& value = field(key);
    if (!value.is_array()) throw Corrupt(path(key) + ": expected an array");
    return value;
  }
  template <size_t N>
  int32_t named(const char* key, const Named (&table)[N]) const {
    const Json& value = field(key);
    if (value.is_number_integer()) return value.get<int32_t>();
    if (!value.is_string()) throw Corrupt(path(key) + ": expected a name");
    const auto& s = value.get_ref<const std::string&>();
    for (const auto& entry : table) {
      if (s == entry.name) return entry.value;
    }
    throw Corrupt(path(key) + ": unknown value \"" + s + "\"");
  }

 private:
  const Json& node_;
  std::string where_;
};

std::string indexed(const char* list, size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

// Only brackets' entries and legs carry "bracket", so older files read as they are.
Json bracketJson(const Order& o) {
  const Exits& e = o.exits;
  return {{"take_profit_price", e.take_profit_price}, {"take_profit_offset", e.take_profit_offset},
          {"take_profit_risk_multiple", e.take_profit_risk_multiple},
          {"stop_loss_price", e.stop_loss_price},     {"stop_loss_offset", e.stop_loss_offset},
          {"stop_loss_limit_price", e.stop_loss_limit_price},
          {"exit_at_ns", e.exit_at_ns},               {"exits_placed", o.exits_placed},
          {"leg", o.leg},                             {"parent", o.parent}};
}

void readBracket(const Reader& r, Order& o) {
  Exits& e = o.exits;
  e.take_profit_price = r.nonNegative("take_profit_price");
  e.take_profit_offset = r.nonNegative("take_profit_offset");
  e.take_profit_risk_multiple = r.nonNegative("take_profit_risk_multiple");
  e.stop_loss_price = r.nonNegative("stop_loss_price");
  e.stop_loss_offset = r.nonNegative("stop_loss_offset");
  e.stop_loss_limit_price = r.nonNegative("stop_loss_limit_price");
  e.exit_at_ns = r.integer("exit_at_ns");
  o.exits_placed = r.boolean("exits_placed");
  o.leg = static_cast<int32_t>(r.integer("leg"));
  if (o.leg < kNoLeg || o.leg > kTimeExit) throw Corrupt(r.path("leg") + ": expected 0 to 3");
  o.parent = r.string("parent");
  if (o.leg != kNoLeg && o.parent.empty()) throw Corrupt(r.path("parent") + ": a leg needs its entry");
}

Json toJson(const Order& o) {
  Json j = {{"client_order_id", o.client_order_id},
          {"broker_order_id", o.broker_order_id},
          {"symbol", o.symbol},
          {"asset_class", nameOf(kAssetClasses, o.asset_class)},
          {"side", nameOf(kSides, o.side)},
          {"type", nameOf(kTypes, o.type)},
          {"time_in_force", nameOf(kTimesInForce, o.time_in_force)},
          {"status", nameOf(kStatuses, o.status)},
          {"quantity", o.quantity},
          {"filled_quantity", o.filled_quantity},
          {"average_fill_price", o.average_fill_price},
          {"limit_price", o.limit_price},
          {"stop_price", o.stop_price},
          {"triggered", o.triggered},
          {"submitted_ns", o.submitted_ns},
          {"workable_ns", o.workable_ns},
          {"expires_ns", o.expires_ns},
          {"updated_ns", o.updated_ns},
          {"reason", o.reason}};
  if (o.exits.any() || o.leg != kNoLeg) j["bracket"] = bracketJson(o);
  return j;
}

Order orderFrom(const Reader& r) {
  Order o;
  o.client_order_id = r.nonEmpty("client_order_id");
  o.broker_order_id = r.string("broker_order_id");
  o.symbol = r.string("symbol");
  o.asset_class = r.named("asset_class", kAssetClasses);
  o.side = r.named("side", kSides);
  o.type = r.named("type", kTypes);
  o.time_in_force = r.named("time_in_force", kTimesInForce);
  o.status = r.named("status", kStatuses);
  // A rejected order keeps whatever quantity and prices it was sent with.
  o.quantity = r.number("quantity");
  o.filled_quantity = r.nonNegative("filled_quantity");
  o.average_fill_price = r.nonNegative("average_fill_price");
  o.limit_price = r.number("limit_price");
  o.stop_price = r.number("stop_price");
  o.triggered = r.boolean("triggered");
  o.submitted_ns = r.integer("submitted_ns");
  o.workable_ns = r.integer("workable_ns");
  o.expires_ns = r.integer("expires_ns");
  o.updated_ns = r.integer("updated_ns");
  o.reason = r.string("reason");
  if (r.has("bracket")) readBracket(Reader(r.field("bracket"), r.path("bracket")), o);
  if (o.status != TH_STATUS_REJECTED) {
    // Only a rejected order may carry values outside the enums.
    for (const char* key : {"asset_class", "side", "type", "time_in_force"}) {
      if (!r.field(key).is_string()) throw Corrupt(r.path(key) + ": expected a name for an accepted order");
    }
    if (o.broker_order_id.empty())
      throw Corrupt(r.path("broker_order_id") + ": must not be empty for an accepted order");
    if (o.symbol.empty()) throw Corrupt(r.path("symbol") + ": must not be empty for an accepted order");
    if (!(o.quantity > 0)) throw Corrupt(r.path("quantity") + ": must be greater than 0");
    if (o.filled_quantity > o.quantity) throw Corrupt(r.path("filled_quantity") + ": exceeds quantity");
  }
  return o;
}

Json toJson(const Fill& f) {
  Json out = {{"fill_id", f.fill_id},
              {"client_order_id", f.client_order_id},
              {"broker_order_id", f.broker_order_id},
              {"symbol", f.symbol},
              {"asset_class", nameOf(kAssetClasses, f.asset_class)},
              {"side", nameOf(kSides, f.side)},
              {"quantity", f.quantity},
              {"price", f.price},
              {"commission", f.commission},
              {"multiplier", f.multiplier},
              {"ts_ns", f.ts_ns}};
  // Only an option's expiry has these: the trades' records read as before.
  if (f.activity != TH_FILL_TRADE) out["activity"] = nameOf(kActivities, f.activity);
  if (!f.contract.empty()) out["contract"] = f.contract;
  return out;
}

Fill fillFrom(const Reader& r) {
  Fill f;
  f.fill_id = r.nonEmpty("fill_id");
  if (r.has("activity")) f.activity = r.named("activity", kActivities);
  if (r.has("contract")) f.contract = r.nonEmpty("contract");
  // An expiry's fills come from no order.
  f.client_order_id = f.activity == TH_FILL_TRADE ? r.nonEmpty("client_order_id") : r.string("client_order_id");
  f.broker_order_id = f.activity == TH_FILL_TRADE ? r.nonEmpty("broker_order_id") : r.string("broker_order_id");
  f.symbol = r.nonEmpty("symbol");
  f.asset_class = r.named("asset_class", kAssetClasses);
  f.side = r.named("side", kSides);
  f.quantity = r.nonNegative("quantity");
  f.price = r.nonNegative("price");
  f.commission = r.nonNegative("commission");
  f.multiplier = r.nonNegative("multiplier");
  f.ts_ns = r.integer("ts_ns");
  return f;
}

Json toJson(const Position& p) {
  return {{"symbol", p.symbol},
          {"asset_class", nameOf(kAssetClasses, p.asset_class)},
          {"multiplier", p.multiplier},
          {"quantity", p.quantity},
          {"average_price", p.average_price},
          {"realized_pnl", p.realized_pnl}};
}

Position positionFrom(const Reader& r) {
  Position p;
  p.symbol = r.nonEmpty("symbol");
  p.asset_class = r.named("asset_class", kAssetClasses);
  p.multiplier = r.nonNegative("multiplier");
  p.quantity = r.number("quantity");
  p.average_price = r.nonNegative("average_price");
  p.realized_pnl = r.number("realized_pnl");
  return p;
}

Json toJson(const std::string& symbol, const SymbolFeed& s) {
  return {
      {"symbol", symbol}, {"has_quotes", s.has_quotes}, {"has_trades", s.has_trades}, {"bid", s.bid}, {"ask", s.ask},
      {"mark", s.mark}};
}

std::pair<std::string, SymbolFeed> symbolFrom(const Reader& r) {
  SymbolFeed s;
  s.has_quotes = r.boolean("has_quotes");
  s.has_trades = r.boolean("has_trades");
  s.bid = r.nonNegative("bid");
  s.ask = r.nonNegative("ask");
  s.mark = r.nonNegative("mark");
  return {r.nonEmpty("symbol"), s};
}

Json toJson(const PaperState& state) {
  Json orders = Json::array(), fills = Json::array(), positions = Json::array(), symbols = Json::array();
  for (const auto& o : state.orders) orders.push_back(toJson(o));
  for (const auto& f : state.fills) fills.push_back(toJson(f));
  for (const auto& [symbol, p] : state.account.positions) positions.push_back(toJson(p));
  for (const auto& [symbol, s] : state.symbols) symbols.push_back(toJson(symbol, s));
  return {{"format", kFormat},
          {"format_version", kFormatVersion},
          {"account_id", state.account_id},
          {"account_epoch", state.account_epoch},
          {"currency", "USD"},
          {"cash", state.account.cash},
          {"commissions", state.account.commissions},
          {"next_order_number", state.next_order_number},
          {"next_fill_number", state.next_fill_number},
          {"positions", std::move(positions)},
          {"symbols", std::move(symbols)},
          {"orders", std::move(orders)},
          {"fills", std::move(fills)}};
}

PaperState stateFrom(const Json& root) {
  Reader r(root, "");
  if (r.string("format") != kFormat) throw Corrupt("format: expected \"" + std::string(kFormat) + "\"");
  int64_t version = r.integer("format_version");
  if (version != kFormatVersion) {
    throw Corrupt("format_version " + std::to_string(version) + " is not supported (this paper broker reads " +
                  std::to_string(kFormatVersion) + ")");
  }
  PaperState state;
  state.account_id = r.nonEmpty("account_id");
  state.account_epoch = r.nonEmpty("account_epoch");
  state.account.cash = r.number("cash");
  state.account.commissions = r.nonNegative("commissions");
  state.next_order_number = r.counter("next_order_number");
  state.next_fill_number = r.counter("next_fill_number");

  const Json& positions = r.array("positions");
  for (size_t i = 0; i < positions.size(); ++i) {
    Position p = positionFrom(Reader(positions[i], indexed("positions", i)));
    std::string symbol = p.symbol;
    if (!state.account.positions.emplace(symbol, std::move(p)).second) {
      throw Corrupt(indexed("positions", i) + ": second position for " + symbol);
    }
  }
  const Json& symbols = r.array("symbols");
  for (size_t i = 0; i < symbols.size(); ++i) {
    auto [symbol, feed] = symbolFrom(Reader(symbols[i], indexed("symbols", i)));
    if (!state.symbols.emplace(symbol, feed).second) {
      throw Corrupt(indexed("symbols", i) + ": second entry for " + symbol);
    }
  }

  std::set<std::string, std::less<>> client_ids;
  uint64_t accepted = 0;
  const Json& orders = r.array("orders");
  for (size_t i = 0; i < orders.size(); ++i) {
    Order o = orderFrom(Reader(orders[i], indexed("orders", i)));
    if (!client_ids.insert(o.client_order_id).second) {
      throw Corrupt(indexed("orders", i) + ": client_order_id '" + o.client_order_id + "' appears twice");
    }
    if (!o.broker_order_id.empty()) ++accepted;
    state.orders.push_back(std::move(o));
  }
  std::set<std::string, std::less<>> fill_ids;
  const Json& fills = r.array("fills");
  for (size_t i = 0; i < fills.size(); ++i) {
    Fill f = fillFrom(Reader(fills[i], indexed("fills", i)));
    if (!fill_ids.insert(f.fill_id).second) {
      throw Corrupt(indexed("fills", i) + ": fill_id '" + f.fill_id + "' appears twice");
    }
    if (f.activity == TH_FILL_TRADE && !client_ids.contains(f.client_order_id)) {
      throw Corrupt(indexed("fills", i) + ": client_order_id '" + f.client_order_id + "' names no order");
    }
    state.fills.push_back(std::move(f));
  }
  // Counters behind the records would hand out ids that already exist.
  if (state.next_order_number <= accepted) throw Corrupt("next_order_number: lower than the orders it numbered");
  if (state.next_fill_number <= state.fills.size()) throw Corrupt("next_fill_number: lower than the fills it numbered");
  return state;
}

[[noreturn]] void ioError(const std::string& what, const std::string& path, int error) {
  throw Error(TH_ERR_IO, "paper: " + what + " '" + path + "': " + std::strerror(error));
}

void writeAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ioError("cannot write state file", path, errno);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

StateFile::StateFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;  // an in-memory account: nothing to create or lock
  std::filesystem::path file(path_);
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      throw Error(TH_ERR_IO, "paper: cannot create directory '" + file.parent_path().string() + "' for state file '" +
                                 path_ + "': " + ec.message());
    }
  }
  const std::string lock_path = path_ + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) ioError("cannot open lock file", lock_path, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(lock_fd_);
    if (error == EWOULDBLOCK) {
      throw Error(TH_ERR_IO, "paper: state file '" + path_ + "' is in use by another paper broker instance (lock '" +
                                 lock_path + "' is held)");
    }
    ioError("cannot lock", lock_path, error);
  }
}

StateFile::~StateFile() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the flock
}

std::optional<PaperState> StateFile::load() const {
  if (path_.empty()) return std::nullopt;
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    if (ec) throw Error(TH_ERR_IO, "paper: cannot check state file '" + path_ + "': " + ec.message());
    return std::nullopt;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) ioError("cannot open state file", path_, errno);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) ioError("cannot read state file", path_, errno);
  const std::string text = buffer.str();
  auto corrupt = [&](const std::string& what) {
    return Error(TH_ERR_IO, "paper: state file '" + path_ + "' is corrupt: " + what +
                                " (the broker will not start an empty account over it; restore or remove it)");
  };
  if (text.empty()) throw corrupt("the file is empty");
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw corrupt(std::string("not valid JSON: ") + e.what());
  }
  try {
    return stateFrom(root);
  } catch (const Corrupt& e) {
    throw corrupt(e.what());
  }
}

void StateFile::save(const PaperState& state) const {
  if (path_.empty()) return;
  const std::string text = toJson(state).dump(1) + "\n";
  const std::string temp = path_ + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) ioError("cannot create temporary state file", temp, errno);
  try {
    writeAll(fd, text, temp);
    if (::fsync(fd) != 0) ioError("cannot sync temporary state file", temp, errno);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) ioError("cannot close temporary state file", temp, errno);
  if (::rename(temp.c_str(), path_.c_str()) != 0) ioError("cannot replace state file", path_, errno);
  // The rename itself must reach the disk, or a crash could bring back the old file.
  std::filesystem::path directory = std::filesystem::path(path_).parent_path();
  if (directory.empty()) directory = ".";
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::string StateFile::newEpoch() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  uint64_t value = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string text;
  do {
    text.insert(text.begin(), digits[value % 36]);
    value /= 36;
  } while (value > 0);
  return text;
}

}  // namespace th::paper
