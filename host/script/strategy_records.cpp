// The strategy service's records in the store: each strategy's state record
// (ctx.state, the active version, its timers and fault), saved at the end of
// each group of events and before every order, read back at start; and the
// journal records of what happened to a strategy.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/json.h"
#include "script/instance.h"
#include "script/strategy_service.h"
#include "store/journal_codec.h"

namespace th {

Result<void> StrategyService::loadStoredState(StrategyEntry& entry) {
  auto text = store_.get(Family::StrategyState, entry.id);
  if (!text) return std::unexpected(text.error());
  if (!*text) return {};
  auto json = nlohmann::json::parse(**text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(ErrorCode::Corruption, fmt::format("strategy_state/{}: not a record this host wrote", entry.id));
  }
  try {
    entry.version_number = json.value("version_number", uint64_t{0});
    entry.previous_number = json.value("previous_number", uint64_t{0});
    entry.pinned = json.value("pinned", false);
    entry.enabled = json.value("enabled", true);
    entry.fault = json.value("fault", std::string());
    for (const auto& t : json.value("timers", nlohmann::json::array())) {
      entry.timers.push_back(StrategyTimer{t.at("id").get<uint64_t>(), t.at("at_ns").get<int64_t>(),
                                           t.at("tag").get<std::string>()});
      next_timer_ = std::max(next_timer_.load(), entry.timers.back().id + 1);
      next_timer_due_ = std::min(next_timer_due_, entry.timers.back().at_ns);
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::Corruption, fmt::format("strategy_state/{}: {}", entry.id, e.what()));
  }
  entry.saved = **text;  // the state itself is read from here by fillSnapshot
  return {};
}

void StrategyService::endGroup() {
  unsaved_versions_.clear();  // the group's batch is committed next
  for (auto& [id, entry] : entries_) {
    if (entry->dirty) saveState(*entry);
  }
}

void StrategyService::saveState(StrategyEntry& entry) {
  if (!entry.dirty) return;
  entry.dirty = false;
  // The record's text is written directly, keys in order (it is stored
  // before every order): byte for byte what jsonText prints for it.
  std::string state, version;
  state.reserve(entry.saved.size());
  bool has_state = false;
  if (entry.instance) {
    if (auto ok = entry.instance->stateText(state); !ok) {
      // Not plain data: the last good state stays stored, and it counts as an error.
      callbackFailed(entry, Error{ErrorCode::InvalidArgument, "saving ctx.state: " + ok.error().message});
      return;
    }
    has_state = true;
    version = entry.definition.version;
  } else if (!entry.saved.empty()) {
    // Not running (faulted, failed): the state last saved stays as it was.
    auto previous = nlohmann::json::parse(entry.saved, nullptr, false);
    if (previous.is_object() && previous.contains("state")) {
      state = jsonText(previous["state"]);
      has_state = true;
      version = previous.value("version", std::string());
    }
  }
  std::string timers = "[";
  for (const auto& t : entry.timers) {
    if (timers.size() > 1) timers += ',';
    timers += JsonObjectWriter()
                  .integer("at_ns", t.at_ns)
                  .integer("id", static_cast<int64_t>(t.id))
                  .text("tag", t.tag)
                  .finish();
  }
  timers += ']';
  JsonObjectWriter record(state.size() + timers.size() + 256);
  record.boolean("enabled", entry.enabled).text("fault", entry.fault).boolean("pinned", entry.pinned);
  record.integer("previous_number", static_cast<int64_t>(entry.previous_number)).text("sha256", entry.source.sha256);
  if (has_state) record.raw("state", state);
  record.raw("timers", timers);
  if (has_state) record.text("version", version);
  record.integer("version_number", static_cast<int64_t>(entry.version_number));
  auto text = record.finish();
  if (text == entry.saved) return;
  host_.batch().put(Family::StrategyState, entry.id, text);
  entry.saved = std::move(text);
}

void StrategyService::journal(std::string_view what, const StrategyEntry& entry, nlohmann::json detail) {
  detail["event"] = what;
  detail["id"] = entry.id;
  if (!entry.definition.version.empty() && !detail.contains("version")) detail["version"] = entry.definition.version;
  auto text = jsonText(detail);
  host_.batch().journal(static_cast<uint16_t>(JournalKind::Strategy), host_.nowNs(), text);
  if (what != "error") host_.notify(fmt::format(R"({{"type":"strategy","strategy":{}}})", text));
}

}  // namespace th
