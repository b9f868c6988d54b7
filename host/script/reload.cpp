// Versions, reload, rollback, enable/disable and the dev-mode file watch.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/text.h"
#include "core/json.h"
#include "core/time.h"
#include "script/instance.h"
#include "script/strategy_service.h"

namespace th {
namespace {

// strategy_versions keys: id, NUL, big-endian number → ordered by number.
std::string versionKey(const std::string& id, uint64_t number) {
  std::string key = id;
  key.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((number >> shift) & 0xff));
  return key;
}

int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------- versions --

Result<std::vector<std::pair<uint64_t, nlohmann::json>>> StrategyService::versions(const std::string& id) const {
  std::vector<std::pair<uint64_t, nlohmann::json>> out;
  std::string prefix = id;
  prefix.push_back('\0');
  std::string corrupt;
  auto scanned = store_.scan(Family::StrategyVersions, prefix, [&](std::string_view key, std::string_view value) {
    auto json = nlohmann::json::parse(value, nullptr, false);
    if (json.is_discarded() || key.size() != prefix.size() + 8) {
      corrupt = std::string(key.substr(0, id.size()));
      return false;
    }
    uint64_t number = 0;
    for (size_t i = prefix.size(); i < key.size(); ++i) number = (number << 8) | static_cast<unsigned char>(key[i]);
    out.emplace_back(number, std::move(json));
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  if (!corrupt.empty()) return fail(ErrorCode::Corruption, fmt::format("strategy_versions/{}: a record is corrupt", id));
  // Versions recorded in the group not yet committed.
  for (const auto& [number, json] : unsaved_versions_) {
    bool stored = std::any_of(out.begin(), out.end(), [n = number](const auto& v) { return v.first == n; });
    if (!stored && json.value("id", std::string()) == id) out.emplace_back(number, json);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<uint64_t> StrategyService::recordVersion(const StrategySource& source, const StrategyDefinition& definition) {
  auto known = versions(definition.id);
  if (!known) return std::unexpected(known.error());
  uint64_t last = 0;
  for (const auto& [number, json] : *known) {
    if (json.value("sha256", std::string()) == source.sha256) return number;
    last = std::max(last, number);
  }
  uint64_t number = last + 1;
  nlohmann::json record = {{"id", definition.id},
                           {"number", number},
                           {"version", definition.version},
                           {"sha256", source.sha256},
                           {"recorded_at", formatExchangeTime(host_.nowNs())},
                           {"definition", source.definition_name},
                           {"files", source.files}};
  host_.batch().put(Family::StrategyVersions, versionKey(definition.id, number), jsonText(record));
  unsaved_versions_.emplace_back(number, std::move(record));
  spdlog::info("strategy {} version {} recorded as #{} ({})", definition.id, definition.version, number,
               source.sha256.substr(0, 12));
  return number;
}

Result<StrategySource> StrategyService::storedVersion(const std::string& id, uint64_t number) const {
  auto known = versions(id);
  if (!known) return std::unexpected(known.error());
  for (const auto& [n, json] : *known) {
    if (n != number) continue;
    StrategySource source;
    source.id = id;
    try {
      source.definition_name = json.at("definition").get<std::string>();
      source.files = json.at("files").get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorCode::Corruption, fmt::format("strategy_versions/{}#{}: {}", id, number, e.what()));
    }
    source.sha256 = sourceDigest(source.files);
    if (source.sha256 != json.value("sha256", std::string()) || !source.files.contains(source.definition_name)) {
      return fail(ErrorCode::Corruption, fmt::format("strategy_versions/{}#{}: content does not match its sha256", id, number));
    }
    return source;
  }
  return fail(ErrorCode::NotFound, fmt::format("strategy {} has no recorded version #{}", id, number));
}

Result<std::string> StrategyService::historyJson(const std::string& id) const {
  auto* entry = find(id);
  auto known = versions(id);
  if (!known) return std::unexpected(known.error());
  if (!entry && known->empty()) return fail(ErrorCode::NotFound, fmt::format("no strategy '{}'", id));
  auto list = nlohmann::json::array();
  for (const auto& [number, json] : *known) {
    auto files = nlohmann::json::array();
    const auto stored_files = json.value("files", nlohmann::json::object());
    for (const auto& [name, text] : stored_files.items()) files.push_back(name);
    list.push_back({{"number", number},
                    {"version", json.value("version", "")},
                    {"sha256", json.value("sha256", "")},
                    {"recorded_at", json.value("recorded_at", "")},
                    {"files", files},
                    {"active", entry && entry->version_number == number}});
  }
  return jsonText(nlohmann::json{{"id", id}, {"versions", std::move(list)}});
}

// ------------------------------------------------------------------ reload --

void StrategyService::reload(const std::string& id, Done done) {
  if (!isSafeId(id)) return done(fail(ErrorCode::InvalidArgument, fmt::format("'{}' is not a strategy id", id)));
  auto folder = (std::filesystem::path(options_.dir) / id).string();
  bool posted = host_.postOffCore([this, id, folder, done] {
    auto source = readStrategyFolder(folder);
    bool queued = host_.postToCore([this, id, source = std::move(source), done]() mutable {
      beginSwap(id, std::move(source), "reload", done);
    });
    if (!queued) done(fail(ErrorCode::Unavailable, "the host is stopping"));
  });
  if (!posted) done(fail(ErrorCode::Unavailable, "the host is stopping"));
}

void StrategyService::rollback(const std::string& id, const std::string& version, Done done) {
  bool posted = host_.postToCore([this, id, version, done] {
    auto* entry = find(id);
    if (!entry) return done(fail(ErrorCode::NotFound, fmt::format("no strategy '{}'", id)));
    auto known = versions(id);
    if (!known) return done(std::unexpected(known.error()));
    uint64_t target = 0;
    if (version.empty()) {
      target = entry->previous_number;
      if (target == 0) {
        // No swap since the start: the latest version recorded before the active one.
        for (const auto& [number, json] : *known) {
          if (number < entry->version_number) target = number;
        }
      }
      if (target == 0) {
        return done(fail(ErrorCode::NotFound, fmt::format("strategy {} has no version before #{} to roll back to", id,
                                                          entry->version_number)));
      }
    } else {
      for (const auto& [number, json] : *known) {
        auto semver = json.value("version", std::string());
        auto sha = json.value("sha256", std::string());
        if (semver == version || (version.size() >= 6 && sha.starts_with(version)) ||
            fmt::format("#{}", number) == version) {
          target = number;  // the latest recorded with that semver
        }
      }
      if (target == 0) {
        return done(fail(ErrorCode::NotFound,
                         fmt::format("strategy {} has no recorded version '{}' (see `tradehost strategy history {}`)",
                                     id, version, id)));
      }
    }
    beginSwap(id, storedVersion(id, target), "rollback", done);
  });
  if (!posted) done(fail(ErrorCode::Unavailable, "the host is stopping"));
}

void StrategyService::beginSwap(const std::string& id, Result<StrategySource> source, std::string action, Done done) {
  auto* entry = find(id);
  if (!source) return done(std::unexpected(source.error()));
  bool created = false;
  if (!entry) {
    // A folder added while the host runs: the reload starts it.
    auto fresh = std::make_unique<StrategyEntry>();
    fresh->id = id;
    entry = fresh.get();
    entries_.emplace(id, std::move(fresh));
    created = true;
  }
  if (entry->reloading) {
    return done(fail(ErrorCode::AlreadyExists, fmt::format("a reload of {} is already in progress", id)));
  }
  auto snapshot = std::make_shared<WarmupSnapshot>();
  snapshot->action = std::move(action);
  snapshot->source = std::move(*source);
  if (auto ok = prepare(*entry, *snapshot); !ok) {
    ++stats_.failed_reloads;
    journal("reload_failed", *entry, {{"action", snapshot->action}, {"error", ok.error().message}});
    spdlog::error("strategy {}: {} refused, {} keeps running: {}", id, snapshot->action,
                  entry->instance ? entry->definition.version : "nothing", ok.error().message);
    if (created) entries_.erase(id);
    return done(std::unexpected(ok.error()));
  }
  if (snapshot->action == "reload" && entry->instance && snapshot->source.sha256 == entry->source.sha256) {
    return done(jsonText(nlohmann::json{{"id", id},
                                        {"changed", false},
                                        {"version", entry->definition.version},
                                        {"sha256", entry->source.sha256},
                                        {"detail", "the files are those of the running version"}}));
  }
  if (auto ok = fillSnapshot(*entry, *snapshot); !ok) return done(std::unexpected(ok.error()));
  snapshot->requested_steady_ns = steadyNs();
  entry->reloading = snapshot;
  bool posted = host_.postOffCore([this, id, snapshot, done] {
    Watchdog watchdog;  // this thread's calls, apart from the core thread's
    auto warmed = warmUp(*snapshot, watchdog);
    bool queued = host_.postToCore([this, id, snapshot, warmed, done] { finishSwap(id, snapshot, warmed, done); });
    if (!queued) return done(fail(ErrorCode::Unavailable, "the host is stopping"));
    if (!warmed) return;
    // Until the swap begins on the core thread, catch up here on what the
    // running version handles meanwhile, so the swap itself has little left.
    std::vector<std::variant<BarEvent, TradeEvent, QuoteEvent>> batch;
    for (;;) {
      {
        std::unique_lock lock(snapshot->queue_mutex);
        snapshot->queue_changed.wait_for(lock, std::chrono::microseconds(500),
                                         [&] { return snapshot->swapping || !snapshot->queued.empty(); });
        if (snapshot->swapping || snapshot->catch_up_error) return;
        batch.swap(snapshot->queued);
        snapshot->worker_busy = !batch.empty();
      }
      if (batch.empty()) continue;
      auto ok = catchUp(*snapshot->instance, *snapshot, batch);
      {
        std::lock_guard lock(snapshot->queue_mutex);
        snapshot->worker_busy = false;
        snapshot->caught_up += batch.size();
        if (!ok) snapshot->catch_up_error = ok.error();
      }
      snapshot->queue_changed.notify_all();
      batch.clear();
    }
  });
  if (!posted) {
    entry->reloading.reset();
    done(fail(ErrorCode::Unavailable, "the host is stopping"));
  }
}

void StrategyService::finishSwap(const std::string& id, std::shared_ptr<WarmupSnapshot> snapshot, Result<void> warmed,
                                 Done done) {
  auto* entry = find(id);
  if (!entry || entry->reloading != snapshot) {
    {
      std::lock_guard lock(snapshot->queue_mutex);
      snapshot->swapping = true;  // releases the worker
    }
    snapshot->queue_changed.notify_all();
    return done(fail(ErrorCode::Unavailable, fmt::format("the {} of {} was superseded", snapshot->action, id)));
  }
  snapshot->pause_started_ns = steadyNs();
  {
    // The worker finishes the batch it is on and stops; the rest is ours.
    std::unique_lock lock(snapshot->queue_mutex);
    snapshot->swapping = true;
    snapshot->queue_changed.notify_all();
    snapshot->queue_changed.wait(lock, [&] { return !snapshot->worker_busy; });
    if (snapshot->catch_up_error) warmed = std::unexpected(*snapshot->catch_up_error);
  }
  entry->reloading.reset();
  auto swapped = warmed ? swapIn(*entry, *snapshot) : warmed;
  if (!swapped) {
    ++stats_.failed_reloads;
    journal("reload_failed", *entry,
            {{"action", snapshot->action},
             {"to_version", snapshot->definition.version},
             {"error", swapped.error().message}});
    spdlog::error("strategy {}: {} to {} ({}) refused; {}: {}", id, snapshot->action, snapshot->definition.version,
                  snapshot->source.sha256.substr(0, 12),
                  entry->instance ? fmt::format("the running {} ({}) keeps trading", entry->definition.version,
                                                entry->source.sha256.substr(0, 12))
                                  : "it is not running",
                  swapped.error().message);
    if (!entry->instance && entry->status != StrategyStatus::Faulted) {
      entry->status = StrategyStatus::Failed;
      entry->reason = swapped.error().message;
    }
    return done(std::unexpected(swapped.error()));
  }
  auto result = strategyJson(id);
  if (!result) return done(result);
  auto json = nlohmann::json::parse(*result);
  json["changed"] = true;
  json["action"] = snapshot->action;
  json["swap_pause_us"] = last_swap_pause_us_;
  json["total_ms"] = static_cast<double>(steadyNs() - snapshot->requested_steady_ns) / 1e6;
  done(jsonText(json));
}

// ---------------------------------------------------------- enable/disable --

Result<std::string> StrategyService::setEnabled(const std::string& id, bool enabled, const std::string& reason) {
  auto* entry = find(id);
  if (!entry) return fail(ErrorCode::NotFound, fmt::format("no strategy '{}'", id));
  bool was_enabled = entry->enabled;
  entry->enabled = enabled;
  entry->dirty = true;
  if (!enabled) {
    if (entry->status == StrategyStatus::Running) entry->status = StrategyStatus::Disabled;
    journal("disabled", *entry, {{"reason", reason}});
    spdlog::warn("strategy {} disabled: {} (its open orders stay)", id, reason);
  } else if (entry->status == StrategyStatus::Disabled && entry->instance) {
    entry->status = StrategyStatus::Running;
    rescheduleTimers();
    journal("enabled", *entry, {{"reason", reason}});
    spdlog::info("strategy {} enabled: {}", id, reason);
  } else if (entry->status != StrategyStatus::Running) {
    // Faulted or failed: the active version starts afresh, with its state.
    if (entry->reloading) return fail(ErrorCode::AlreadyExists, fmt::format("a reload of {} is in progress", id));
    auto snapshot = std::make_shared<WarmupSnapshot>();
    snapshot->action = "enable";
    auto source = entry->version_number ? storedVersion(id, entry->version_number)
                                        : readStrategyFolder((std::filesystem::path(options_.dir) / id).string());
    if (!source) return std::unexpected(source.error());
    snapshot->source = std::move(*source);
    if (auto ok = prepare(*entry, *snapshot); !ok) return std::unexpected(ok.error());
    if (auto ok = fillSnapshot(*entry, *snapshot); !ok) return std::unexpected(ok.error());
    snapshot->pause_started_ns = steadyNs();
    std::string old_fault = entry->fault;
    entry->fault.clear();
    entry->error_times.clear();
    entry->consecutive_errors = 0;
    auto ok = warmUp(*snapshot, *watchdog_);
    if (ok) ok = swapIn(*entry, *snapshot);
    if (!ok) {
      entry->fault = old_fault;
      entry->enabled = was_enabled;
      return std::unexpected(ok.error());
    }
    journal("enabled", *entry, {{"reason", reason}, {"cleared_fault", old_fault}});
    spdlog::info("strategy {} {} started again: {}", id, entry->definition.version, reason);
  }
  saveState(*entry);
  return strategyJson(id);
}

// ------------------------------------------------------- dev-mode watching --

void StrategyService::checkWatch() {
  if (watch_fd_ < 0) {
    watch_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watch_fd_ < 0) {
      spdlog::warn("strategies: the file watch is unavailable: {}", std::strerror(errno));
      options_.watch = false;
      return;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& item : fs::directory_iterator(options_.dir, ec)) {
      std::error_code item_ec;
      if (!item.is_directory(item_ec)) continue;
      int wd = inotify_add_watch(watch_fd_, item.path().c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_CREATE);
      if (wd >= 0) watched_[wd] = item.path().filename().string();
    }
    spdlog::info("strategies: watching {} folder(s) under {} for changes (dev mode)", watched_.size(), options_.dir);
  }
  alignas(inotify_event) char buffer[4096];
  int64_t now = steadyNs();
  for (;;) {
    ssize_t n = ::read(watch_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      auto it = watched_.find(event->wd);
      std::string name = event->len ? event->name : "";
      if (it != watched_.end() && (name.ends_with(".lua") || name.ends_with(".yaml"))) changed_[it->second] = now;
      p += sizeof(inotify_event) + event->len;
    }
  }
  // An editor writes in bursts: a folder reloads once it is quiet for 300 ms.
  for (auto it = changed_.begin(); it != changed_.end();) {
    if (now - it->second < 300'000'000) {
      ++it;
      continue;
    }
    auto id = it->first;
    it = changed_.erase(it);
    spdlog::info("strategies: {} changed on disk; reloading (dev mode)", id);
    reload(id, [id](Result<std::string> result) {
      if (!result) spdlog::error("strategies: dev-mode reload of {} refused: {}", id, result.error().message);
    });
  }
}

}  // namespace th
