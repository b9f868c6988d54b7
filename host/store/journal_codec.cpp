#include "store/journal_codec.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/json.h"

#include "core/time.h"

namespace th {
namespace {

class Writer {
 public:
  template <typename T>
  Writer& pod(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Writer& text(std::string_view s) {
    pod(static_cast<uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T pod() {
    T value{};
    if (pos_ + sizeof value > in_.size()) throw std::runtime_error("payload truncated");
    std::memcpy(&value, in_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }
  std::string text() {
    auto n = pod<uint32_t>();
    if (pos_ + n > in_.size()) throw std::runtime_error("payload truncated");
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ >= in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view journalKindName(uint16_t kind) {
  switch (static_cast<JournalKind>(kind)) {
    case JournalKind::HostStarted:
      return "host_started";
    case JournalKind::HostStopped:
      return "host_stopped";
    case JournalKind::Trade:
      return "trade";
    case JournalKind::Quote:
      return "quote";
    case JournalKind::Bar:
      return "bar";
    case JournalKind::Order:
      return "order";
    case JournalKind::Fill:
      return "fill";
    case JournalKind::Connection:
      return "connection";
    case JournalKind::OrderRequest:
      return "order_request";
    case JournalKind::RiskDecision:
      return "risk_decision";
    case JournalKind::OrderAction:
      return "order_action";
    case JournalKind::RiskState:
      return "risk_state";
    case JournalKind::Reconcile:
      return "reconcile";
    case JournalKind::Strategy:
      return "strategy";
    case JournalKind::Signal:
      return "signal";
  }
  return "unknown";
}

bool isJsonJournalKind(uint16_t kind) {
  return kind == static_cast<uint16_t>(JournalKind::HostStarted) ||
         kind == static_cast<uint16_t>(JournalKind::HostStopped) ||
         (kind >= static_cast<uint16_t>(JournalKind::OrderRequest) &&
          kind <= static_cast<uint16_t>(JournalKind::Reconcile)) ||
         kind == static_cast<uint16_t>(JournalKind::Strategy) || kind == static_cast<uint16_t>(JournalKind::Signal);
}

uint16_t journalKindFromName(std::string_view name) {
  for (auto kind : {JournalKind::HostStarted, JournalKind::HostStopped, JournalKind::Trade, JournalKind::Quote,
                    JournalKind::Bar, JournalKind::Order, JournalKind::Fill, JournalKind::Connection,
                    JournalKind::OrderRequest, JournalKind::RiskDecision, JournalKind::OrderAction,
                    JournalKind::RiskState, JournalKind::Reconcile, JournalKind::Strategy, JournalKind::Signal}) {
    if (journalKindName(static_cast<uint16_t>(kind)) == name) return static_cast<uint16_t>(kind);
  }
  return 0;
}

Result<JournalPage> readJournalPage(const Store& store, uint64_t from_seq, size_t limit, uint16_t kind,
                                    size_t scan_budget) {
  JournalPage page;
  page.next_seq = std::max<uint64_t>(from_seq, 1);
  size_t scanned = 0;
  while (page.records.size() < limit && scanned < scan_budget) {
    auto chunk = store.readJournal(page.next_seq, std::min<size_t>(1000, scan_budget - scanned));
    if (!chunk) return std::unexpected(chunk.error());
    if (chunk->empty()) break;
    for (auto& record : *chunk) {
      page.next_seq = record.sequence + 1;
      ++scanned;
      if (kind != 0 && record.kind != kind) continue;
      page.records.push_back(std::move(record));
      if (page.records.size() == limit) break;
    }
  }
  return page;
}

std::optional<EncodedEvent> encodeEvent(const Event& event, std::string_view source) {
  Writer w;
  w.text(source);
  if (auto* t = std::get_if<TradeEvent>(&event.payload)) {
    w.text(t->symbol.view()).pod(t->price).pod(t->size).pod(t->sequence);
    return EncodedEvent{JournalKind::Trade, w.take()};
  }
  if (auto* q = std::get_if<QuoteEvent>(&event.payload)) {
    w.text(q->symbol.view()).pod(q->bid).pod(q->ask).pod(q->bid_size).pod(q->ask_size);
    return EncodedEvent{JournalKind::Quote, w.take()};
  }
  if (auto* b = std::get_if<BarEvent>(&event.payload)) {
    w.text(b->symbol.view()).pod(b->flags).pod(b->start_ns).pod(b->duration_ns).pod(b->open).pod(b->high);
    w.pod(b->low).pod(b->close).pod(b->volume).pod(b->vwap).pod(b->trade_count);
    return EncodedEvent{JournalKind::Bar, w.take()};
  }
  if (auto* o = std::get_if<OrderEvent>(&event.payload)) {
    w.text(o->client_order_id).text(o->broker_order_id).text(o->symbol).text(o->reason);
    w.pod(o->asset_class).pod(o->side).pod(o->type).pod(o->time_in_force).pod(o->status);
    w.pod(o->quantity).pod(o->filled_quantity).pod(o->average_fill_price).pod(o->limit_price).pod(o->stop_price);
    return EncodedEvent{JournalKind::Order, w.take()};
  }
  if (auto* f = std::get_if<FillEvent>(&event.payload)) {
    w.text(f->fill_id).text(f->client_order_id).text(f->broker_order_id).text(f->symbol);
    w.pod(f->asset_class).pod(f->side).pod(f->quantity).pod(f->price).pod(f->commission).pod(f->multiplier);
    // An expiry's fills carry what they are; a trade's record ends here, as it always did.
    if (f->activity != 0) w.pod(f->activity).text(f->contract);
    return EncodedEvent{JournalKind::Fill, w.take()};
  }
  if (auto* c = std::get_if<ConnectionEvent>(&event.payload)) {
    w.pod(c->state).text(c->reason);
    return EncodedEvent{JournalKind::Connection, w.take()};
  }
  return std::nullopt;
}

std::string journalRecordJson(const JournalRecord& record) {
  nlohmann::json j;
  j["seq"] = record.sequence;
  j["kind"] = journalKindName(record.kind);
  j["ts"] = record.ts_ns ? formatUtc(record.ts_ns) : std::string();
  try {
    auto kind = static_cast<JournalKind>(record.kind);
    if (isJsonJournalKind(record.kind)) {
      j["data"] = nlohmann::json::parse(record.payload);
      return jsonText(j);
    }
    Reader r(record.payload);
    j["source"] = r.text();
    switch (kind) {
      case JournalKind::Trade:
        j["symbol"] = r.text();
        j["price"] = r.pod<double>();
        j["size"] = r.pod<double>();
        j["sequence"] = r.pod<uint64_t>();
        break;
      case JournalKind::Quote:
        j["symbol"] = r.text();
        j["bid"] = r.pod<double>();
        j["ask"] = r.pod<double>();
        j["bid_size"] = r.pod<double>();
        j["ask_size"] = r.pod<double>();
        break;
      case JournalKind::Bar:
        j["symbol"] = r.text();
        j["flags"] = r.pod<uint32_t>();
        j["start"] = formatUtc(r.pod<int64_t>());
        j["duration_s"] = r.pod<int64_t>() / 1'000'000'000;
        j["open"] = r.pod<double>();
        j["high"] = r.pod<double>();
        j["low"] = r.pod<double>();
        j["close"] = r.pod<double>();
        j["volume"] = r.pod<double>();
        j["vwap"] = r.pod<double>();
        j["trade_count"] = r.pod<uint64_t>();
        break;
      case JournalKind::Order:
        j["client_order_id"] = r.text();
        j["broker_order_id"] = r.text();
        j["symbol"] = r.text();
        j["reason"] = r.text();
        j["asset_class"] = r.pod<int32_t>();
        j["side"] = r.pod<int32_t>();
        j["type"] = r.pod<int32_t>();
        j["time_in_force"] = r.pod<int32_t>();
        j["status"] = r.pod<int32_t>();
        j["quantity"] = r.pod<double>();
        j["filled_quantity"] = r.pod<double>();
        j["average_fill_price"] = r.pod<double>();
        j["limit_price"] = r.pod<double>();
        j["stop_price"] = r.pod<double>();
        break;
      case JournalKind::Fill:
        j["fill_id"] = r.text();
        j["client_order_id"] = r.text();
        j["broker_order_id"] = r.text();
        j["symbol"] = r.text();
        j["asset_class"] = r.pod<int32_t>();
        j["side"] = r.pod<int32_t>();
        j["quantity"] = r.pod<double>();
        j["price"] = r.pod<double>();
        j["commission"] = r.pod<double>();
        j["multiplier"] = r.pod<double>();
        if (!r.done()) {
          j["activity"] = fillActivityName(r.pod<int32_t>());
          if (auto contract = r.text(); !contract.empty()) j["contract"] = contract;
        }
        break;
      case JournalKind::Connection:
        j["state"] = r.pod<int32_t>();
        j["reason"] = r.text();
        break;
      default:
        j["error"] = "unknown record kind";
    }
  } catch (const std::exception& e) {
    j["error"] = std::string("undecodable payload: ") + e.what();
  }
  return jsonText(j);
}

}  // namespace th
