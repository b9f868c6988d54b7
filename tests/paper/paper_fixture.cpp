#include "paper/paper_fixture.h"

namespace th::test {

void PaperTest::SetUp() {
  dir_ = std::make_unique<TempDir>();
  // Nested, so that create() has to make the parent directories.
  state_file_ = (dir_->path() / "var" / "paper" / "account.json").string();
  host_.now_ns = kTuesday1000;
  plugin_ = std::make_unique<LoadedPlugin>(TH_PLUGIN_DIR "/libpaper.so", host_);
}

void PaperTest::TearDown() {
  destroy();
  plugin_.reset();
  dir_.reset();
}

nlohmann::json PaperTest::config(const nlohmann::json& overrides) const {
  nlohmann::json c = {{"state_file", state_file_}};
  c.update(overrides);
  return c;
}

void PaperTest::create(const nlohmann::json& overrides) {
  instance_ = plugin_->create(config(overrides).dump(), host_);
}

void PaperTest::start(const nlohmann::json& overrides) {
  create(overrides);
  ASSERT_EQ(connect().status, TH_OK);
}

void PaperTest::destroy() {
  if (instance_) plugin_->descriptor().destroy(instance_);
  instance_ = nullptr;
}

Result PaperTest::submit(const OrderSpec& spec) {
  th_order_request r{};
  r.struct_size = sizeof r;
  r.client_order_id = spec.id.data();
  r.client_order_id_len = static_cast<uint32_t>(spec.id.size());
  r.symbol = spec.symbol.data();
  r.symbol_len = static_cast<uint32_t>(spec.symbol.size());
  r.asset_class = spec.asset_class;
  r.side = spec.side;
  r.type = spec.type;
  r.time_in_force = spec.time_in_force;
  r.order_class = spec.order_class;
  r.quantity = spec.quantity;
  r.limit_price = spec.limit;
  r.stop_price = spec.stop;
  r.take_profit_price = spec.take_profit;
  r.take_profit_offset = spec.take_profit_offset;
  r.take_profit_risk_multiple = spec.take_profit_r;
  r.stop_loss_price = spec.stop_loss;
  r.stop_loss_offset = spec.stop_loss_offset;
  r.stop_loss_limit_price = spec.stop_loss_limit;
  r.exit_at_ns = spec.exit_at_ns;
  char err[512] = {0};
  th_status s = broker().submit(instance_, &r, err, sizeof err);
  return {s, err};
}

Result PaperTest::cancel(const std::string& id) {
  char err[512] = {0};
  th_status s = broker().cancel(instance_, id.data(), static_cast<uint32_t>(id.size()), err, sizeof err);
  return {s, err};
}

Result PaperTest::replace(const std::string& id, double quantity, double limit, double stop) {
  th_order_request changes{};
  changes.struct_size = sizeof changes;
  changes.quantity = quantity;
  changes.limit_price = limit;
  changes.stop_price = stop;
  char err[512] = {0};
  th_status s = broker().replace(instance_, id.data(), static_cast<uint32_t>(id.size()), &changes, err, sizeof err);
  return {s, err};
}

Result PaperTest::connect() {
  char err[512] = {0};
  th_status s = broker().connect(instance_, err, sizeof err);
  return {s, err};
}

Result PaperTest::disconnect() {
  char err[512] = {0};
  th_status s = broker().disconnect(instance_, err, sizeof err);
  return {s, err};
}

void PaperTest::quote(const std::string& symbol, int64_t ts, double bid, double ask, double bid_size, double ask_size) {
  th_quote q{};
  q.struct_size = sizeof q;
  q.symbol = symbol.data();
  q.symbol_len = static_cast<uint32_t>(symbol.size());
  q.ts_ns = ts;
  q.bid = bid;
  q.ask = ask;
  q.bid_size = bid_size;
  q.ask_size = ask_size;
  broker().on_quote(instance_, &q);
}

void PaperTest::trade(const std::string& symbol, int64_t ts, double price, double size) {
  th_trade t{};
  t.struct_size = sizeof t;
  t.symbol = symbol.data();
  t.symbol_len = static_cast<uint32_t>(symbol.size());
  t.ts_ns = ts;
  t.price = price;
  t.size = size;
  broker().on_trade(instance_, &t);
}

void PaperTest::bar(const std::string& symbol, int64_t start, double open, double high, double low, double close,
                    double volume, uint32_t flags) {
  th_bar b{};
  b.struct_size = sizeof b;
  b.symbol = symbol.data();
  b.symbol_len = static_cast<uint32_t>(symbol.size());
  b.flags = flags;
  b.start_ns = start;
  b.duration_ns = kMinute;
  b.open = open;
  b.high = high;
  b.low = low;
  b.close = close;
  b.volume = volume;
  broker().on_bar(instance_, &b);
}

std::vector<OrderRecord> PaperTest::reportsFor(const std::string& id) {
  return host_.locked([&] {
    std::vector<OrderRecord> out;
    for (const auto& o : host_.orders) {
      if (o.client_order_id == id) out.push_back(o);
    }
    return out;
  });
}

std::vector<int32_t> PaperTest::statusesOf(const std::string& id) {
  std::vector<int32_t> out;
  for (const auto& o : reportsFor(id)) out.push_back(o.status);
  return out;
}

OrderRecord PaperTest::lastReport(const std::string& id) {
  auto reports = reportsFor(id);
  if (reports.empty()) {
    ADD_FAILURE() << "no report for order " << id;
    return {};
  }
  return reports.back();
}

std::vector<FillRecord> PaperTest::fillsFor(const std::string& id) {
  return host_.locked([&] {
    std::vector<FillRecord> out;
    for (const auto& f : host_.fills) {
      if (f.client_order_id == id) out.push_back(f);
    }
    return out;
  });
}

std::vector<OrderRecord> PaperTest::openOrders() {
  std::vector<OrderRecord> out;
  char err[512] = {0};
  auto sink = [](void* ctx, const th_order_state* o) {
    static_cast<std::vector<OrderRecord>*>(ctx)->push_back(toRecord(*o));
  };
  EXPECT_EQ(broker().open_orders(instance_, sink, &out, err, sizeof err), TH_OK) << err;
  return out;
}

std::vector<PositionRecord> PaperTest::positions() {
  std::vector<PositionRecord> out;
  char err[512] = {0};
  auto sink = [](void* ctx, const th_position* p) {
    static_cast<std::vector<PositionRecord>*>(ctx)->push_back(
        {str(p->symbol, p->symbol_len), p->asset_class, p->quantity, p->average_price, p->multiplier});
  };
  EXPECT_EQ(broker().positions(instance_, sink, &out, err, sizeof err), TH_OK) << err;
  return out;
}

std::vector<FillRecord> PaperTest::fillsSince(int64_t since_ns) {
  std::vector<FillRecord> out;
  char err[512] = {0};
  auto sink = [](void* ctx, const th_fill* f) { static_cast<std::vector<FillRecord>*>(ctx)->push_back(toRecord(*f)); };
  EXPECT_EQ(broker().fills(instance_, since_ns, sink, &out, err, sizeof err), TH_OK) << err;
  return out;
}

th_account PaperTest::account() {
  th_account a{};
  a.struct_size = sizeof a;
  char err[512] = {0};
  EXPECT_EQ(broker().account(instance_, &a, err, sizeof err), TH_OK) << err;
  return a;
}

}  // namespace th::test
