// How host events are written to the journal and read back. Market events,
// the bulk of the journal, use a compact binary layout; every record can be
// turned into JSON for the API and the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "store/store.h"

namespace th {

enum class JournalKind : uint16_t {
  HostStarted = 1,  // payload: JSON {"version", "config", "clock"}
  HostStopped = 2,  // payload: JSON {"reason"}
  Trade = 10,
  Quote = 11,
  Bar = 12,
  Order = 20,
  Fill = 21,
  Connection = 22,
  // The broker and risk services' own records; payload: JSON.
  OrderRequest = 30,  // an order the host accepted and sends: {"order": {...}}
  RiskDecision = 31,  // {"client_order_id", "strategy", "symbol", "purpose", "accepted", "reason_code", "detail"}
  OrderAction = 32,   // {"action", "client_order_id", "detail"}: cancel request, illegal report, over-fill, ...
  RiskState = 33,     // {"from", "to", "reason"}
  Reconcile = 34,     // {"broker", "ok", "detail", counts...}
  // The strategy service's; payload: JSON.
  Strategy = 40,  // {"event": "start"|"swap"|"fault"|"error"|"enabled"|..., "id", "version", ...}
  Signal = 41,    // what a strategy published with ctx:signal: {"strategy", "version", "symbol", ...}
};
// True for kinds whose payload is JSON text (shown as "data" by journalRecordJson).
bool isJsonJournalKind(uint16_t kind);

std::string_view journalKindName(uint16_t kind);
// The kind for a name ("bar"), or 0 when there is none.
uint16_t journalKindFromName(std::string_view name);

// The journal kind and payload for an event; nullopt for events that are not
// journalled (tasks). `source` is the plugin id that produced it. The event's
// time is not in the payload: it is the record's own ts (Event::timestamp(),
// the end of the period for a bar, whose payload keeps its start).
struct EncodedEvent {
  JournalKind kind;
  std::string payload;
};
std::optional<EncodedEvent> encodeEvent(const Event& event, std::string_view source);

// Records of one kind (0 = any) from `from_seq` on, at most `limit`, reading
// at most `scan_budget` records, so a filter over a long journal is bounded;
// `next_seq` is where a following read continues.
struct JournalPage {
  std::vector<JournalRecord> records;
  uint64_t next_seq = 1;
};
[[nodiscard]] Result<JournalPage> readJournalPage(const Store& store, uint64_t from_seq, size_t limit, uint16_t kind,
                                                  size_t scan_budget);

// Decodes a record into JSON text: {"seq", "kind", "ts", "source", ...fields}.
// A payload that does not decode yields {"seq", "kind", "error"}.
std::string journalRecordJson(const JournalRecord& record);

}  // namespace th
