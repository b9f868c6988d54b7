// Deterministic randomness for the synthetic market: a hash to derive seeds
// from (seed, symbol, date, purpose), the xoshiro256** generator, and samplers
// for uniform, normal, exponential and Poisson variates.
//
// Why not <random>: the std:: distributions are implementation-defined and
// differ between standard libraries and versions. Why not std::exp/std::log:
// libm results may differ in the last bit between C libraries, and the stream
// is promised byte-for-byte identical for a seed. Everything here uses only
// +, -, *, /, sqrt and exact binary scaling, which IEEE 754 defines exactly,
// so the same seed gives the same numbers on every conforming platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace th::synthetic {

// splitmix64's finaliser: a bijective 64-bit mixer with good avalanche.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Order-sensitive combination of hash inputs.
inline uint64_t hashCombine(uint64_t h, uint64_t value) { return mix64(h ^ mix64(value)); }

// FNV-1a over the bytes, then mixed: stable across platforms and runs.
inline uint64_t hashText(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

// Purposes keep the streams drawn for different things independent, so a
// change in how (say) quotes are drawn never shifts the prices.
enum class Purpose : uint64_t {
  SymbolParams = 1,
  DayPrices = 2,
  Intraday = 3,
  OptionActivity = 4,
};

inline uint64_t deriveSeed(uint64_t seed, std::string_view symbol, int64_t day, Purpose purpose) {
  uint64_t h = hashCombine(mix64(seed), hashText(symbol));
  h = hashCombine(h, static_cast<uint64_t>(day));
  return hashCombine(h, static_cast<uint64_t>(purpose));
}

// exp(x) from exact range reduction (x = k ln2 + r, |r| <= ln2/2, with ln2
// split so k*ln2 has no rounding error) and a Taylor polynomial of r.
inline double portableExp(double x) {
  if (x > 700.0) x = 700.0;
  if (x < -700.0) return 0.0;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits: k*hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  double k = std::floor(x * kInvLn2 + 0.5);
  double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // |r| <= 0.347: terms past r^14/14! are below 1e-17 relative.
  double sum = 1.0;
  for (int n = 14; n >= 1; --n) sum = 1.0 + sum * r / n;
  return std::ldexp(sum, static_cast<int>(k));
}

// log(x) for x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
// log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172, as an odd series.
inline double portableLog(double x) {
  if (!(x > 0.0)) return -745.0;  // callers never pass 0; this keeps the math finite
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double sum = 0.0;
  for (int n = 27; n >= 1; n -= 2) sum = 1.0 / n + s2 * sum;
  constexpr double kLn2 = 6.93147180559945309417e-01;
  return e * kLn2 + 2.0 * s * sum;
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64 as its authors
// recommend so any 64-bit seed gives a well-mixed state.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : state_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  uint64_t next() {
    uint64_t result = rotl(state_[1] * 5, 7) * 9;
    uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n > 0; the modulo bias is below 2^-40 for the
  // small ranges used here.
  uint64_t below(uint64_t n) { return next() % n; }

  bool chance(double p) { return uniform() < p; }

  // Standard normal by Marsaglia's polar method (the second variate is
  // dropped so the generator carries no hidden cached state).
  double normal() {
    for (;;) {
      double u = 2.0 * uniform() - 1.0;
      double v = 2.0 * uniform() - 1.0;
      double s = u * u + v * v;
      if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * portableLog(s) / s);
    }
  }

  // Exponential with the given mean.
  double exponential(double mean) { return -mean * portableLog(1.0 - uniform()); }

  // Poisson-distributed count: exact (Knuth) for small means, the rounded
  // normal approximation above 30 where it is indistinguishable for our use.
  int64_t poisson(double mean) {
    if (mean <= 0.0) return 0;
    if (mean < 30.0) {
      double limit = portableExp(-mean);
      double product = uniform();
      int64_t k = 0;
      while (product > limit) {
        ++k;
        product *= uniform();
      }
      return k;
    }
    double k = std::floor(mean + std::sqrt(mean) * normal() + 0.5);
    return k < 0.0 ? 0 : static_cast<int64_t>(k);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// Round half up to an integer, exactly (floor is exact in IEEE 754).
inline int64_t roundToInt(double x) { return static_cast<int64_t>(std::floor(x + 0.5)); }

}  // namespace th::synthetic
