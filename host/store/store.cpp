#include "store/store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstring>
#include <filesystem>

namespace th {
namespace {

constexpr std::array<std::string_view, kFamilyCount> kFamilyNames = {
    "default", "orders", "fills", "positions", "strategy_state", "strategy_versions", "bars", "risk_state", "journal"};

// Journal value: kind (u16 LE), event time (i64 LE), then the payload.
constexpr size_t kJournalHeader = sizeof(uint16_t) + sizeof(int64_t);

uint64_t decodeSequence(std::string_view key) {
  uint64_t sequence = 0;
  for (unsigned char c : key.substr(0, 8)) sequence = (sequence << 8) | c;
  return sequence;
}

Error ioError(const std::string& what, const rocksdb::Status& status) {
  auto code = status.IsCorruption() ? ErrorCode::Corruption : ErrorCode::Io;
  return Error{code, fmt::format("{}: {}", what, status.ToString())};
}

}  // namespace

std::string_view familyName(Family family) { return kFamilyNames[static_cast<size_t>(family)]; }

std::string Store::sequenceKey(uint64_t sequence) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(sequence & 0xff);
    sequence >>= 8;
  }
  return key;
}

Batch::Batch(Store& store) : store_(&store), batch_(std::make_unique<rocksdb::WriteBatch>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::put(Family family, std::string_view key, std::string_view value) {
  batch_->Put(store_->handle(family), rocksdb::Slice(key.data(), key.size()),
              rocksdb::Slice(value.data(), value.size()));
  ++count_;
}

void Batch::erase(Family family, std::string_view key) {
  batch_->Delete(store_->handle(family), rocksdb::Slice(key.data(), key.size()));
  ++count_;
}

uint64_t Batch::journal(uint16_t kind, int64_t ts_ns, std::string_view payload) {
  uint64_t sequence;
  {
    sequence = store_->next_sequence_.fetch_add(1, std::memory_order_relaxed);
  }
  if (journal_count_ == 0) first_sequence_ = sequence;
  ++journal_count_;
  // Key and value are handed over in parts, so the record is copied once,
  // into the batch itself.
  auto key = Store::sequenceKey(sequence);
  char header[kJournalHeader];
  std::memcpy(header, &kind, sizeof kind);
  std::memcpy(header + sizeof kind, &ts_ns, sizeof ts_ns);
  rocksdb::Slice key_part(key),
      value_parts[] = {rocksdb::Slice(header, sizeof header), rocksdb::Slice(payload.data(), payload.size())};
  batch_->Put(store_->handle(Family::Journal), rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 2));
  ++count_;
  return sequence;
}

Store::~Store() {
  if (db_) {
    for (auto* h : handles_) {
      if (h) db_->DestroyColumnFamilyHandle(h);
    }
    for (auto* h : foreign_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, Durability durability) {
  return openWith(dir, false, durability);
}

Result<std::unique_ptr<Store>> Store::openReadOnly(const std::string& dir) {
  return openWith(dir, true, Durability::Durable);
}

Result<std::unique_ptr<Store>> Store::openWith(const std::string& dir, bool read_only, Durability durability) {
  std::error_code ec;
  if (read_only) {
    if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
      return fail(ErrorCode::NotFound, fmt::format("store {}: no database here (wrong --var or --store?)", dir));
    }
  } else {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(ErrorCode::Io, fmt::format("store {}: cannot create directory: {}", dir, ec.message()));
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  // Group commit: concurrent and back-to-back writes share one WAL sync.
  options.enable_pipelined_write = true;
  if (durability == Durability::Scratch) {
    // Nothing of a scratch store is read after its process: closing it need not write its memtables out.
    options.avoid_flush_during_shutdown = true;
    // Written far more than read (a backtest reads at start only): commits
    // append to an unsorted memtable, sorted when a read or a flush needs it.
    options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    options.allow_concurrent_memtable_write = false;
  }

  std::vector<std::string> existing;
  rocksdb::DB::ListColumnFamilies(options, dir, &existing);  // fails harmlessly on a new database

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (auto name : kFamilyNames) descriptors.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions(options));
  for (const auto& name : existing) {
    if (std::find(kFamilyNames.begin(), kFamilyNames.end(), name) == kFamilyNames.end()) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (read_only && existing.empty()) {
    return fail(ErrorCode::Corruption, fmt::format("store {}: cannot list column families", dir));
  }
  if (read_only) {
    // A read-only open must name exactly the families that exist.
    descriptors.clear();
    for (const auto& name : existing) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  auto status = read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(options), dir, descriptors, &handles, &raw)
                          : rocksdb::DB::Open(rocksdb::DBOptions(options), dir, descriptors, &handles, &raw);
  if (!status.ok()) return std::unexpected(ioError(fmt::format("store {}: cannot open", dir), status));

  std::unique_ptr<Store> store(new Store());
  store->dir_ = dir;
  store->db_.reset(raw);
  store->read_only_ = read_only;
  store->durability_ = durability;
  if (read_only) {
    // Map the opened families back to ours by name; an older store may lack some.
    store->handles_.assign(kFamilyCount, nullptr);
    for (auto* h : handles) {
      auto it = std::find(kFamilyNames.begin(), kFamilyNames.end(), h->GetName());
      if (it != kFamilyNames.end()) store->handles_[static_cast<size_t>(it - kFamilyNames.begin())] = h;
      else store->foreign_.push_back(h);
    }
    for (size_t i = 0; i < kFamilyCount; ++i) {
      if (!store->handles_[i]) {
        return fail(ErrorCode::Corruption, fmt::format("store {}: column family '{}' is missing", dir, kFamilyNames[i]));
      }
    }
  } else {
    store->handles_.assign(handles.begin(), handles.begin() + kFamilyCount);
    store->foreign_.assign(handles.begin() + kFamilyCount, handles.end());
  }

  // Continue the journal after its last record.
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), store->handle(Family::Journal)));
  it->SeekToLast();
  if (it->Valid()) {
    uint64_t last = decodeSequence(std::string_view(it->key().data(), it->key().size()));
    store->committed_sequence_.store(last);
    store->next_sequence_.store(last + 1);
  }
  if (!it->status().ok())
    return std::unexpected(ioError(fmt::format("store {}: reading the journal", dir), it->status()));
  return store;
}

Result<void> Store::commit(Batch& batch) {
  if (batch.empty()) return {};
  if (read_only_) return fail(ErrorCode::InvalidArgument, fmt::format("store {}: opened read-only", dir_));
  rocksdb::WriteOptions options;
  options.sync = batch.sync_ && durability_ == Durability::Durable;
  options.disableWAL = durability_ == Durability::Scratch;
  auto status = db_->Write(options, batch.batch_.get());
  if (!status.ok()) {
    // The batch is left whole, sequences included: the caller commits it
    // again (with whatever it adds meanwhile). Handing the sequences back
    // instead would reuse numbers that may already have been shown to
    // someone, and dropping the batch would lose the events.
    return std::unexpected(ioError("store commit", status));
  }
  {
    if (batch.journal_count_ > 0) {
      committed_sequence_.store(batch.first_sequence_ + batch.journal_count_ - 1, std::memory_order_release);
    }
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  journal_writes_.fetch_add(batch.journal_count_, std::memory_order_relaxed);
  if (options.sync) synced_commits_.fetch_add(1, std::memory_order_relaxed);
  batch.batch_->Clear();
  batch.count_ = 0;
  batch.journal_count_ = 0;
  batch.sync_ = false;
  return {};
}

uint64_t Store::lastSequence() const {
  return committed_sequence_.load(std::memory_order_acquire);
}

Result<std::optional<std::string>> Store::get(Family family, std::string_view key) const {
  std::string value;
  auto status = db_->Get(rocksdb::ReadOptions(), handle(family), rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return std::unexpected(ioError(fmt::format("store get {}", familyName(family)), status));
  return std::optional<std::string>(std::move(value));
}

Result<void> Store::scan(Family family, std::string_view prefix,
                         const std::function<bool(std::string_view, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(family)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (!key.starts_with(prefix)) break;
    if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  if (!it->status().ok())
    return std::unexpected(ioError(fmt::format("store scan {}", familyName(family)), it->status()));
  return {};
}

Result<std::vector<JournalRecord>> Store::readJournal(uint64_t from, size_t limit) const {
  std::vector<JournalRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle(Family::Journal)));
  for (it->Seek(sequenceKey(from)); it->Valid() && records.size() < limit; it->Next()) {
    auto value = it->value();
    if (value.size() < kJournalHeader) {
      return fail(ErrorCode::Corruption,
                  fmt::format("journal record {} is {} bytes, shorter than its header",
                              decodeSequence({it->key().data(), it->key().size()}), value.size()));
    }
    JournalRecord record;
    record.sequence = decodeSequence({it->key().data(), it->key().size()});
    std::memcpy(&record.kind, value.data(), sizeof record.kind);
    std::memcpy(&record.ts_ns, value.data() + sizeof record.kind, sizeof record.ts_ns);
    record.payload.assign(value.data() + kJournalHeader, value.size() - kJournalHeader);
    records.push_back(std::move(record));
  }
  if (!it->status().ok()) return std::unexpected(ioError("store journal read", it->status()));
  return records;
}

}  // namespace th
