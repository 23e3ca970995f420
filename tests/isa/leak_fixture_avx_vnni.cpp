// Compiled with -mavx2 -mavxvnni: an inline function in an AVX2-allowed
// namespace that uses AVX-VNNI. The checker must call it a leak: AVX2 CPUs
// without AVX-VNNI run isa_avx2 code.
#include <immintrin.h>

namespace clipcaer_fixture::isa_avx2 {
inline int dot_u8s8(const unsigned char* a, const signed char* b) {
  __m256i s = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)));
  return _mm256_extract_epi32(s, 0);
}
int use(const unsigned char* a, const signed char* b) { return dot_u8s8(a, b); }
}  // namespace clipcaer_fixture::isa_avx2

int main(int argc, char**) {
  unsigned char a[32] = {};
  signed char b[32] = {};
  // Never executed (argc is 1): the binary only exists to be disassembled.
  return argc > 5 ? clipcaer_fixture::isa_avx2::use(a, b) : 0;
}
