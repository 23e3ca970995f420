// bf16 and int8 dot-product peak loops. This TU is compiled with
// -mavx512f -mavx512bw -mavx512dq -mavx512bf16 -mavx512vnni (only when the
// compiler takes them) and called by fma_peak.cpp only after CPUID says the
// CPU runs them. It includes no std:: or clipcaer headers, so it instantiates
// no inline function shared with the rest of the program (the ISA leak check
// allows AVX-512 code only under names containing isa_avx512).
#include <immintrin.h>

#include <cstdint>

namespace clipcaer::bench::isa_avx512_dot {

// 16 chains: latency ~5 x 2 ports needs ~10; 16 leaves slack for the loop
// and uses 18 of the 32 zmm registers.
#define CLIPCAER_DOT_PEAK_BODY(T, INIT, OP, STORE)                                                           \
  T a0 = INIT(0), a1 = INIT(1), a2 = INIT(2), a3 = INIT(3), a4 = INIT(4), a5 = INIT(5), a6 = INIT(6);        \
  T a7 = INIT(7), a8 = INIT(8), a9 = INIT(9), a10 = INIT(10), a11 = INIT(11), a12 = INIT(12);                \
  T a13 = INIT(13), a14 = INIT(14), a15 = INIT(15);                                                        \
  for (std::uint64_t i = 0; i < iters; ++i) {                                                              \
    a0 = OP(a0, x, y); a1 = OP(a1, x, y); a2 = OP(a2, x, y); a3 = OP(a3, x, y);                            \
    a4 = OP(a4, x, y); a5 = OP(a5, x, y); a6 = OP(a6, x, y); a7 = OP(a7, x, y);                            \
    a8 = OP(a8, x, y); a9 = OP(a9, x, y); a10 = OP(a10, x, y); a11 = OP(a11, x, y);                        \
    a12 = OP(a12, x, y); a13 = OP(a13, x, y); a14 = OP(a14, x, y); a15 = OP(a15, x, y);                    \
  }                                                                                                        \
  STORE(out, a0); STORE(out + 16, a1); STORE(out + 32, a2); STORE(out + 48, a3);                           \
  STORE(out + 64, a4); STORE(out + 80, a5); STORE(out + 96, a6); STORE(out + 112, a7);                     \
  STORE(out + 128, a8); STORE(out + 144, a9); STORE(out + 160, a10); STORE(out + 176, a11);                \
  STORE(out + 192, a12); STORE(out + 208, a13); STORE(out + 224, a14); STORE(out + 240, a15);

// out: 256 floats. acc += x.y per pair of bf16; x = 1, y = 2^-10 keep the sums
// finite and normal for any run length.
void bf16_loop(std::uint64_t iters, float* out) {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0f), _mm512_set1_ps(1.0f));
  const __m512bh y = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0x1p-10f), _mm512_set1_ps(0x1p-10f));
#define CLIPCAER_INIT(i) _mm512_set1_ps(static_cast<float>(i))
  CLIPCAER_DOT_PEAK_BODY(__m512, CLIPCAER_INIT, _mm512_dpbf16_ps, _mm512_storeu_ps)
#undef CLIPCAER_INIT
}

// out: 256 int32. acc += u8 x s8 in groups of 4 (int32 wrap-around is harmless).
void int8_loop(std::uint64_t iters, std::int32_t* out) {
  const __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-2);
#define CLIPCAER_INIT(i) _mm512_set1_epi32(i)
#define CLIPCAER_STORE(p, v) _mm512_storeu_si512(static_cast<void*>(p), v)
  CLIPCAER_DOT_PEAK_BODY(__m512i, CLIPCAER_INIT, _mm512_dpbusd_epi32, CLIPCAER_STORE)
#undef CLIPCAER_STORE
#undef CLIPCAER_INIT
}

#undef CLIPCAER_DOT_PEAK_BODY

}  // namespace clipcaer::bench::isa_avx512_dot
