#include "options.h"

#include <th/occ.hpp>
#include <th/plugin.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "market.h"
#include "random.h"

namespace th::synthetic {
namespace {

constexpr double kSecondsPerYear = 365.0 * 86'400.0;
constexpr double kMinYears = 60.0 / kSecondsPerYear;  // one minute: keeps expiring options finite

double normalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normalPdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }

// Volatility smile: base volatility, a little higher for short expiries, with
// a skew (puts below spot dearer) and curvature in standardised
// log-moneyness x. Moneyness is measured against at least a day of
// volatility, and x saturates smoothly towards +-4, so 0-DTE wings stay
// finite while IV still rises strictly into the put wing.
double smileVol(const Config& config, double base, double spot, double strike, double years) {
  double term = 0.95 + 0.1 / (1.0 + years * 365.0 / 10.0);
  double scale = base * std::sqrt(std::max(years, 1.0 / 365.0));
  double raw = std::log(strike / spot) / scale;
  double x = raw / std::sqrt(1.0 + raw * raw / 16.0);
  double vol = base * term * (1.0 - config.smile_skew * x + config.smile_curvature * x * x);
  return std::clamp(vol, 0.05, 3.0);
}

}  // namespace

std::optional<OccContract> parseOcc(std::string_view symbol) {
  const std::optional<OccSymbol> occ = parseOccSymbol(symbol);
  if (!occ) return std::nullopt;
  // The SDK's parser checks the digits; a day that does not exist (02-30) is refused here.
  const int32_t expiry = occ->expiry_yyyymmdd;
  std::optional<int64_t> day = realDay(expiry / 10000, expiry / 100 % 100, expiry % 100);
  if (!day) return std::nullopt;
  return OccContract{std::string(occ->root), *day, occ->right, occ->strike_milli};
}

bool isOccSymbol(std::string_view symbol) { return parseOcc(symbol).has_value(); }

std::string occSymbol(std::string_view root, int64_t expiry_day, int32_t right, int64_t strike_milli) {
  CivilDate c = civilFromDays(expiry_day);
  // Written digit by digit: a chain names hundreds of contracts, and a
  // backtest holding one asks for the chain every minute.
  std::string out;
  out.reserve(root.size() + 15);
  out += root;
  auto two = [&out](int value) {
    out += static_cast<char>('0' + value / 10 % 10);
    out += static_cast<char>('0' + value % 10);
  };
  two(c.year % 100);
  two(c.month);
  two(c.day);
  out += right == TH_OPTION_CALL ? 'C' : 'P';
  if (strike_milli < 0 || strike_milli > 99'999'999) {
    out += std::to_string(strike_milli);  // past the format's 8 digits, as printf would write it
    return out;
  }
  char digits[8];
  for (int i = 7; i >= 0; --i, strike_milli /= 10) digits[i] = static_cast<char>('0' + strike_milli % 10);
  out.append(digits, sizeof digits);
  return out;
}

BlackScholesValue blackScholes(int32_t right, double spot, double strike, double years, double vol) {
  double root_t = std::sqrt(years);
  double d1 = (std::log(spot / strike) + 0.5 * vol * vol * years) / (vol * root_t);
  double d2 = d1 - vol * root_t;
  double pdf = normalPdf(d1);
  BlackScholesValue v{};
  if (right == TH_OPTION_CALL) {
    v.price = spot * normalCdf(d1) - strike * normalCdf(d2);
    v.delta = normalCdf(d1);
  } else {
    v.price = strike * normalCdf(-d2) - spot * normalCdf(-d1);
    v.delta = normalCdf(d1) - 1.0;
  }
  v.price = std::max(v.price, 0.0);
  v.gamma = pdf / (spot * vol * root_t);
  v.vega = spot * pdf * root_t;
  // With r = 0 the call and put thetas coincide.
  v.theta = -spot * pdf * vol / (2.0 * root_t) / 365.0;
  return v;
}

int64_t strikeStepMilli(double spot) {
  if (spot < 25.0) return 500;
  if (spot < 100.0) return 1'000;
  if (spot < 250.0) return 2'500;
  if (spot < 1'000.0) return 5'000;
  return 10'000;
}

std::vector<int64_t> listedExpiries(const TradingCalendar& calendar, int64_t as_of_ns, int daily, int monthly) {
  std::vector<int64_t> days;
  int64_t today = calendar.exchangeDay(as_of_ns);
  std::optional<int64_t> day = calendar.nextSessionDay(today);
  if (day && *day == today && calendar.closeNs(today) <= as_of_ns) day = calendar.nextSessionDay(today + 1);
  for (int i = 0; i < daily && day; ++i) {
    days.push_back(*day);
    day = calendar.nextSessionDay(*day + 1);
  }
  CivilDate c = civilFromDays(today);
  int year = c.year, month = c.month;
  for (int found = 0; found < monthly && year <= kLastYear;) {
    int64_t friday = nthWeekdayOfMonth(year, month, 5, 3);
    std::optional<int64_t> expiry = calendar.isSessionDay(friday) ? friday : calendar.previousSessionDay(friday);
    if (expiry && calendar.closeNs(*expiry) > as_of_ns) {
      days.push_back(*expiry);
      ++found;
    }
    if (++month > 12) {
      month = 1;
      ++year;
    }
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

ChainSnapshot buildChain(const Config& config, const TradingCalendar& calendar, const MarketModel& model,
                         std::string_view underlying, int64_t as_of_ns) {
  ChainSnapshot chain{static_cast<double>(model.priceAt(underlying, as_of_ns)) / 100.0, as_of_ns, {}};
  const double spot = chain.spot;
  const SymbolParams params = model.params(underlying);
  const double reference = static_cast<double>(model.referencePrice(underlying, as_of_ns)) / 100.0;
  const int64_t today = calendar.exchangeDay(as_of_ns);

  // Share of today's session elapsed: today's option volume accrues with it.
  double elapsed = 0.0;
  if (auto hours = calendar.hours(today)) {
    double open = static_cast<double>(hours->first);
    double close = static_cast<double>(hours->second);
    elapsed = std::clamp((static_cast<double>(as_of_ns) - open) / (close - open), 0.0, 1.0);
  }

  const int64_t step = strikeStepMilli(spot);
  const int64_t center = roundToInt(spot * 1000.0 / static_cast<double>(step)) * step;
  // Open interest scales with how actively the underlying trades.
  const double base_open_interest = params.volume * 390.0 / 1000.0;

  for (int64_t expiry : listedExpiries(calendar, as_of_ns, config.expiry_days, config.monthly_expiries)) {
    const double years =
        std::max(static_cast<double>(calendar.closeNs(expiry) - as_of_ns) / 1e9 / kSecondsPerYear, kMinYears);
    const bool zero_dte = expiry == today;
    const CivilDate ec = civilFromDays(expiry);
    const bool standard_monthly = weekday(expiry) == 5 && ec.day >= 15 && ec.day <= 21;

    for (int i = -config.strike_count; i <= config.strike_count; ++i) {
      const int64_t strike_milli = center + i * step;
      if (strike_milli <= 0) continue;
      const double strike = static_cast<double>(strike_milli) / 1000.0;
      const double vol = smileVol(config, params.volatility, spot, strike, years);

      for (int32_t right : {TH_OPTION_CALL, TH_OPTION_PUT}) {
        OptionRow row{};
        row.symbol = occSymbol(underlying, expiry, right, strike_milli);
        row.right = right;
        row.expiry_day = expiry;
        row.strike = strike;
        row.implied_vol = vol;
        BlackScholesValue bs = blackScholes(right, spot, strike, years, vol);
        row.theoretical = bs.price;
        row.delta = bs.delta;
        row.gamma = bs.gamma;
        row.theta = bs.theta;
        row.vega = bs.vega;

        // Quotes centre on the theoretical value rounded to the cent, with a
        // half-spread that grows with the premium (relatively wider for cheap
        // contracts). Both sides are monotone in the premium, so prices stay
        // ordered across strikes; the bid floors at zero.
        const double theo_cents = bs.price * 100.0;
        const int64_t mid = roundToInt(theo_cents);
        const int64_t half = 1 + static_cast<int64_t>(std::floor(theo_cents * 0.015));
        row.bid = static_cast<double>(std::max<int64_t>(0, mid - half)) / 100.0;
        row.ask = static_cast<double>(mid + half) / 100.0;

        // Activity is fixed per (seed, contract, date), anchored to the
        // previous close so it does not jump with the intraday spot.
        Rng rng(deriveSeed(config.seed, row.symbol, today, Purpose::OptionActivity));
        // The spread of interest widens with time to expiry, but only up to a
        // month's worth: far expiries still concentrate around the money.
        double anchor_scale = params.volatility * std::sqrt(std::clamp(years, 5.0 / 365.0, 30.0 / 365.0));
        double distance = std::log(strike / reference) / anchor_scale;
        double near_money = std::exp(-0.5 * distance * distance);
        double expiry_weight = standard_monthly ? 1.5 : 0.5;
        row.open_interest = static_cast<double>(
            roundToInt(base_open_interest * expiry_weight * near_money * (0.7 + 0.6 * rng.uniform())));
        double turnover = (zero_dte ? 1.5 : 0.3) * (0.5 + rng.uniform());
        double daily_volume = (row.open_interest + 10.0 * near_money) * turnover;
        row.volume = std::floor(daily_volume * elapsed);
        double last_draw = rng.uniform();
        if (row.volume > 0.0) {
          int64_t bid_cents = roundToInt(row.bid * 100.0), ask_cents = roundToInt(row.ask * 100.0);
          int64_t last_cents = bid_cents + roundToInt(last_draw * static_cast<double>(ask_cents - bid_cents));
          row.last = static_cast<double>(std::max<int64_t>(1, last_cents)) / 100.0;
        }
        chain.rows.push_back(std::move(row));
      }
    }
  }
  return chain;
}

}  // namespace th::synthetic
