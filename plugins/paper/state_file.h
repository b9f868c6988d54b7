// The paper account's own state file: everything a restarted host needs to
// reconcile against (cash, positions, every order including final ones, every
// fill with its id and time, the id counters) as one JSON document. Saves are
// atomic (temp file, fsync, rename, fsync of the directory), so a crash
// leaves either the old or the new state, never a torn file. A file that
// exists but cannot be read is an error naming the file and the problem: the
// broker never silently starts an empty account over a real one. A lock file
// next to it keeps two instances from writing the same account.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "account.h"
#include "paper_types.h"

namespace th::paper {

struct PaperState {
  std::string account_id;
  // Part of every fill id, so a fresh account file never repeats the fill ids
  // of an earlier one the host may still have in its journal.
  std::string account_epoch;
  Account account;
  std::vector<Order> orders;  // every order ever submitted, in submit order
  std::vector<Fill> fills;    // every fill, in the order it happened
  SymbolFeeds symbols;        // last prices and data sources, saved along with the rest
  uint64_t next_order_number = 1;
  uint64_t next_fill_number = 1;
};

class StateFile {
 public:
  // Creates the parent directories and takes the lock; throws th::Error
  // (TH_ERR_IO) when either fails or another instance holds the lock. An
  // empty path is an in-memory account: nothing is loaded or saved.
  explicit StateFile(std::string path);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // The saved state, or nothing when the file does not exist yet. Throws
  // th::Error(TH_ERR_IO, "paper: state file '<path>' is corrupt: <what>").
  std::optional<PaperState> load() const;

  // Throws th::Error(TH_ERR_IO) naming the file and the system error.
  void save(const PaperState& state) const;

  const std::string& path() const { return path_; }
  bool persistent() const { return !path_.empty(); }

  // A new account's epoch: the creation time in base 36.
  static std::string newEpoch();

 private:
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace th::paper
