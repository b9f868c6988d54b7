// A day of 1-minute bars written by hand, in the replay plugin's native CSV
// format (ts_ms,symbol,open,high,low,close,volume), from 09:30 on.
#pragma once

#include <fmt/format.h>

#include <string>

#include "core/time.h"

namespace th::test {

class CsvDay {
 public:
  CsvDay(std::string symbol, int32_t yyyymmdd)
      : symbol_(std::move(symbol)), date_(yyyymmdd), now_(fromExchangeTime(yyyymmdd, 9, 30)) {}

  void bar(double o, double h, double l, double c, double volume = 100000) {
    rows_ += fmt::format("{},{},{},{},{},{},{}\n", now_ / 1'000'000, symbol_, o, h, l, c, volume);
    now_ += 60'000'000'000;
  }
  // Quiet bars at `price` (high +0.2, low -0.2) until the clock reads hh:mm.
  void quietUntil(int hh, int mm, double price) {
    const int64_t until = fromExchangeTime(date_, hh, mm);
    while (now_ < until) bar(price, price + 0.2, price - 0.2, price);
  }
  std::string csv() const { return "ts_ms,symbol,open,high,low,close,volume\n" + rows_; }

 private:
  std::string symbol_;
  int32_t date_;
  int64_t now_;
  std::string rows_;
};

}  // namespace th::test
