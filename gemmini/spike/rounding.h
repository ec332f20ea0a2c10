// Gemmini's integer conversions, bit-exact with upstream's functional model (libgemmini) for
// the default configuration. Pure functions: also compiled into a host library for tests.
#pragma once

#include <cmath>
#include <cstdint>

namespace gemmini {

constexpr int32_t kElemMin = -128;
constexpr int32_t kElemMax = 127;

inline int8_t saturate_elem(int64_t v) {
  return static_cast<int8_t>(v > kElemMax ? kElemMax : (v < kElemMin ? kElemMin : v));
}

// fp32 product, round half to even, saturate to int8. The product is formed in fp32, as
// upstream's `x * scale` with an int32 x and a float scale is (x is rounded to fp32 first).
// Infinities saturate by sign. A NaN product (a NaN scale, or 0 x inf) gives the maximum, as the
// RTL does: hardfloat's RecFNToIN treats NaN as a positive overflow. (Upstream's C model goes
// through an out-of-range float -> long long conversion there, which is undefined behaviour
// and gives -128 on x86.)
inline int8_t scale_to_elem(int32_t x, float scale) {
  const float product = static_cast<float>(x) * scale;
  if (std::isnan(product)) return static_cast<int8_t>(kElemMax);
  if (product >= 128.0f) return static_cast<int8_t>(kElemMax);
  if (product <= -129.0f) return static_cast<int8_t>(kElemMin);
  // |product| < 129: adding and removing 1.5 * 2^23 leaves the nearest integer, ties to even
  // (the default rounding mode), without a libm call.
  constexpr float kMagic = 12582912.0f;
  volatile float shifted = product + kMagic;  // volatile: keep the two roundings apart
  return saturate_elem(static_cast<int64_t>(shifted - kMagic));
}

// mvout from the accumulator to int8 (ACC_SCALE) and mvin of int8 with a scale (MVIN_SCALE).
inline int8_t acc_scale(int32_t x, float scale) { return scale_to_elem(x, scale); }
inline int8_t mvin_scale(int8_t x, float scale) { return scale_to_elem(x, scale); }

// Arithmetic right shift by `shift` (0..31) rounding half to even, then saturate to int8: the
// output-stationary path from the mesh to the scratchpad.
inline int8_t rounding_shift_to_elem(int32_t x, unsigned shift) {
  int64_t v = x;
  if (shift > 0) {
    const int64_t q = v >> shift;
    const int64_t half = (v >> (shift - 1)) & 1;
    const int64_t rest = shift > 1 ? (v & ((int64_t{1} << (shift - 1)) - 1)) != 0 : 0;
    v = q + (half & (rest | (q & 1)));
  }
  return saturate_elem(v);
}

// Upstream's integer GELU polynomial (I-BERT style), evaluated with 32-bit wrap-around.
inline int32_t igelu(int32_t q, int32_t qb, int32_t qc) {
  const uint32_t uq = static_cast<uint32_t>(q);
  const int64_t mag = q < 0 ? -static_cast<int64_t>(q) : q;
  const int64_t clip = mag > -static_cast<int64_t>(qb) ? -static_cast<int64_t>(qb) : mag;
  const uint32_t t = static_cast<uint32_t>(clip + qb);
  const uint32_t poly = t * t + static_cast<uint32_t>(qc);
  const uint32_t erf = q < 0 ? 0u - poly : poly;
  return static_cast<int32_t>(uq * (erf + static_cast<uint32_t>(qc)));
}

}  // namespace gemmini
