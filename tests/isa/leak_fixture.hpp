// A deliberate ISA leak, to prove check_isa_leaks.py sees one: an inline
// function compiled in two TUs with different flags. The linker keeps one
// copy; with the AVX-512 TU first on the link line it keeps that one.
#pragma once

#include <cstddef>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace clipcaer_fixture {

__attribute__((noinline)) inline float shared_sum(const float* x, std::size_t n) {
  float s = 0.0f;
  std::size_t i = 0;
#if defined(__AVX512F__)
  __m512 acc = _mm512_setzero_ps();
  for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(x + i));
  s = _mm512_reduce_add_ps(acc);
#endif
  for (; i < n; ++i) s += x[i];
  return s;
}

float sum_avx512(const float* x, std::size_t n);

}  // namespace clipcaer_fixture
