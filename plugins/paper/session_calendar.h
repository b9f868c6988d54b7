// When DAY orders and option contracts expire: the closes of the host's
// exchange calendar (host API 1.4), holidays and 13:00 early closes included.
#pragma once

#include <th/plugin.hpp>

#include <cstdint>

namespace th::paper {

class SessionCalendar {
 public:
  // Throws th::Error(TH_ERR_NOT_SUPPORTED) when the host has no calendar.
  explicit SessionCalendar(const Host& host);

  // The close of the first session that closes strictly after
  // `submitted_ns`: today's while the market is open or before it opens,
  // else the next trading day's. kNever past the calendar's last session.
  int64_t dayOrderExpiry(int64_t submitted_ns) const;

  // The close of the session on `yyyymmdd` (an option's expiry day; 13:00
  // on an early close). On a day without a session, the close of the last
  // session before it: a contract dated on a holiday stops trading then.
  // kNever for a date the calendar does not cover.
  int64_t closeOn(int32_t yyyymmdd) const;

 private:
  Host host_;
};

}  // namespace th::paper
