// The store: everything that must survive a crash, in one RocksDB database.
//
// Column families hold orders, fills, positions, strategy state, strategy
// versions, bars, risk state and the journal. The journal is append-only,
// keyed by a big-endian sequence number so keys sort in order; sequences are
// dense (no gaps) across restarts, including after a kill -9, because the
// next sequence is read back from the last key on open and a failed commit
// keeps its batch for a retry.
//
// Writes go through a Batch: the effects of one or more whole events,
// committed atomically with one RocksDB WriteBatch. A batch that carries an
// order event is synced (fsync of the WAL) before commit returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace th {

enum class Family : uint8_t {
  Meta,
  Orders,
  Fills,
  Positions,
  StrategyState,
  StrategyVersions,
  Bars,
  RiskState,
  Journal,
};
inline constexpr size_t kFamilyCount = 9;
std::string_view familyName(Family family);

struct JournalRecord {
  uint64_t sequence = 0;
  uint16_t kind = 0;  // what the payload is; defined by the writer (see journal_codec.h)
  int64_t ts_ns = 0;  // event time
  std::string payload;
};

class Store;

class Batch {
 public:
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void put(Family family, std::string_view key, std::string_view value);
  void erase(Family family, std::string_view key);
  // Appends a journal record and returns its sequence number.
  uint64_t journal(uint16_t kind, int64_t ts_ns, std::string_view payload);
  // Forces an fsync of the write-ahead log on commit.
  void requireSync() { sync_ = true; }
  bool syncRequired() const { return sync_; }
  bool empty() const { return count_ == 0; }
  size_t journalCount() const { return journal_count_; }

 private:
  friend class Store;
  explicit Batch(Store& store);
  Store* store_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  uint64_t first_sequence_ = 0;
  size_t journal_count_ = 0;
  size_t count_ = 0;
  bool sync_ = false;
};

// What a commit promises. A Durable store writes every commit to its
// write-ahead log (synced when the batch asks); a Scratch store, one that is
// thrown away when its process ends (a backtest's), keeps commits in memory
// until RocksDB flushes them and loses what it had not flushed if the process dies.
enum class Durability : uint8_t { Durable, Scratch };

class Store {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens (creating when missing) the database in `dir`.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const std::string& dir,
                                                           Durability durability = Durability::Durable);
  // Opens an existing database for reading only, without its lock, so it
  // works while a running host has it open (it sees what was committed up to
  // the moment it opened). Fails when there is no database at `dir`.
  [[nodiscard]] static Result<std::unique_ptr<Store>> openReadOnly(const std::string& dir);

  Batch batch() { return Batch(*this); }
  // Writes the batch atomically and empties it. On failure the batch is left
  // as it was, its journal sequences still allocated: commit it again later
  // (more may be added to it first). Never drop a failed batch — that would
  // lose its events and leave a gap.
  [[nodiscard]] Result<void> commit(Batch& batch);

  [[nodiscard]] Result<std::optional<std::string>> get(Family family, std::string_view key) const;
  // Visits keys starting with `prefix` in order until `visit` returns false.
  [[nodiscard]] Result<void> scan(Family family, std::string_view prefix,
                                  const std::function<bool(std::string_view key, std::string_view value)>& visit) const;
  // Journal records with sequence >= from, oldest first, at most `limit`.
  [[nodiscard]] Result<std::vector<JournalRecord>> readJournal(uint64_t from, size_t limit) const;

  // The last committed journal sequence (0 when the journal is empty).
  uint64_t lastSequence() const;
  uint64_t commits() const { return commits_; }
  uint64_t journalWrites() const { return journal_writes_; }
  uint64_t syncedCommits() const { return synced_commits_; }
  const std::string& dir() const { return dir_; }

  static std::string sequenceKey(uint64_t sequence);

 private:
  friend class Batch;
  Store() = default;
  [[nodiscard]] static Result<std::unique_ptr<Store>> openWith(const std::string& dir, bool read_only,
                                                               Durability durability);
  rocksdb::ColumnFamilyHandle* handle(Family family) const { return handles_[static_cast<size_t>(family)]; }

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Family
  std::vector<rocksdb::ColumnFamilyHandle*> foreign_;  // families a newer host created
  std::atomic<uint64_t> next_sequence_{1};
  bool read_only_ = false;
  Durability durability_ = Durability::Durable;
  std::atomic<uint64_t> committed_sequence_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> journal_writes_{0};
  std::atomic<uint64_t> synced_commits_{0};
};

}  // namespace th
