// Floating-point steps that must round exactly as the Python / C reference
// does. Compilers may fuse `a * b + c` into one FMA (GCC does by default with
// -mfma or -march=native), which rounds once instead of twice and can move a
// coordinate across a pixel boundary; `mul_rounded` forbids that fusion.
#pragma once

#include <cmath>

namespace clipcaer::preprocess::detail {

// a * b rounded to double on its own, never fused with a following add.
inline double mul_rounded(double a, double b) noexcept {
  volatile double p = a * b;
  return p;
}

// Python's round(x) for a float: nearest integer, ties to even (independent
// of the FPU rounding mode). |x| must be well below 2^52.
inline double round_half_even(double x) noexcept {
  const double fl = std::floor(x);
  const double diff = x - fl;  // exact
  if (diff > 0.5) return fl + 1.0;
  if (diff < 0.5) return fl;
  return std::fmod(fl, 2.0) == 0.0 ? fl : fl + 1.0;
}

}  // namespace clipcaer::preprocess::detail
