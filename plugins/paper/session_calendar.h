// When DAY orders expire: the regular session closes at 16:00
// America/New_York (with DST, from the system tz database through
// Howard Hinnant's date/tz).
#pragma once

#include <cstdint>

namespace date {
class time_zone;
}

namespace th::paper {

class SessionCalendar {
 public:
  // Throws th::Error(TH_ERR_INTERNAL) when the tz database lacks the zone.
  SessionCalendar();

  // The first weekday 16:00 ET strictly after `submitted_ns`: the close of the
  // submit day, or of the next weekday for an order sent after the close or
  // on a weekend. Holidays are not known; a DAY order sent on one expires at
  // the first market event after its 16:00, which is the next session's open.
  int64_t dayOrderExpiry(int64_t submitted_ns) const;

  // 16:00 ET on the day `yyyymmdd` (an option's expiry day), or kNever for a
  // date that is not one.
  int64_t closeOn(int32_t yyyymmdd) const;

 private:
  const date::time_zone* zone_;
};

}  // namespace th::paper
