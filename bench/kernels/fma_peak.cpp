// Peak loops with target attributes in per-ISA namespaces (the ISA-leak test
// allows AVX-512 code only under a name containing isa_avx512).
#include "fma_peak.hpp"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "clipcaer/kernels/dispatch.hpp"

namespace clipcaer::bench {

// 12 chains: FMA latency 4 x 2 ports needs 8; 12 leaves slack for the loop.
#define CLIPCAER_PEAK_BODY(T, SET1, OP, STORE)                                                           \
  T a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f), a4 = SET1(1.4f), a5 = SET1(1.5f); \
  T a6 = SET1(1.6f), a7 = SET1(1.7f), a8 = SET1(1.8f), a9 = SET1(1.9f), a10 = SET1(2.0f), a11 = SET1(2.1f); \
  const T x = SET1(0.999999f), y = SET1(1e-6f);                                                          \
  for (std::uint64_t i = 0; i < iters; ++i) {                                                            \
    a0 = OP(a0, x, y); a1 = OP(a1, x, y); a2 = OP(a2, x, y); a3 = OP(a3, x, y);                          \
    a4 = OP(a4, x, y); a5 = OP(a5, x, y); a6 = OP(a6, x, y); a7 = OP(a7, x, y);                          \
    a8 = OP(a8, x, y); a9 = OP(a9, x, y); a10 = OP(a10, x, y); a11 = OP(a11, x, y);                      \
  }                                                                                                      \
  T s = a0;                                                                                              \
  for (T v : {a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11}) s = OP(s, x, v);                            \
  STORE(out, s);

namespace isa_avx512 {
__attribute__((target("avx512f"))) static void loop(std::uint64_t iters, float* out) {
  CLIPCAER_PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
}
}  // namespace isa_avx512

namespace isa_avx2 {
__attribute__((target("avx2,fma"))) static void loop(std::uint64_t iters, float* out) {
  CLIPCAER_PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps)
}
}  // namespace isa_avx2

namespace isa_sse2 {
static inline __m128 mul_add(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
static void loop(std::uint64_t iters, float* out) {
  CLIPCAER_PEAK_BODY(__m128, _mm_set1_ps, mul_add, _mm_storeu_ps)
}
}  // namespace isa_sse2

#undef CLIPCAER_PEAK_BODY

volatile float g_peak_sink;

std::uint64_t peak_loop(const std::string& isa, std::uint64_t iters) {
  static const kernels::CpuFeatures cpu = kernels::cpu_features();
  float out[16];
  if (isa == "avx512" && cpu.avx512) {
    isa_avx512::loop(iters, out);
    g_peak_sink = out[0];
    return iters * 12 * 16 * 2;
  }
  if (isa == "avx2" && cpu.avx2_fma) {
    isa_avx2::loop(iters, out);
    g_peak_sink = out[0];
    return iters * 12 * 8 * 2;
  }
  if (isa == "sse2") {
    isa_sse2::loop(iters, out);
    g_peak_sink = out[0];
    return iters * 12 * 4 * 2;
  }
  return 0;
}

double measure_peak_flops(const std::string& isa, double seconds, int reps) {
  using clock = std::chrono::steady_clock;
  if (peak_loop(isa, 1000) == 0) return 0;
  std::uint64_t iters = 1 << 16;
  // Calibrate to about `seconds` per repetition.
  for (;;) {
    auto t0 = clock::now();
    peak_loop(isa, iters);
    double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (1ull << 40)) {
      iters = static_cast<std::uint64_t>(static_cast<double>(iters) * seconds / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = clock::now();
    std::uint64_t flops = peak_loop(isa, iters);
    double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, static_cast<double>(flops) / dt);
  }
  return best;
}

}  // namespace clipcaer::bench
