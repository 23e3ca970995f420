// Peak loops with target attributes in per-ISA namespaces (the ISA-leak test
// allows AVX-512 code only under a name containing isa_avx512); the bf16 and
// int8 dot-product loops live in dot_peak_avx512.cpp (its own flags).
#include "fma_peak.hpp"

#include <immintrin.h>

#if defined(__GNUC__) || defined(__clang__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <chrono>

#include "clipcaer/kernels/dispatch.hpp"

namespace clipcaer::bench {

#ifdef CLIPCAER_BENCH_DOT_PEAK
namespace isa_avx512_dot {
void bf16_loop(std::uint64_t iters, float* out);         // out: 256 floats
void int8_loop(std::uint64_t iters, std::int32_t* out);  // out: 256 int32
}  // namespace isa_avx512_dot
#endif
#ifdef CLIPCAER_BENCH_AMX_PEAK
namespace isa_avx512_amx {
void bf16_loop(std::uint64_t iters, const void* a, const void* b, float* out);         // out: 1024 floats
void int8_loop(std::uint64_t iters, const void* a, const void* b, std::int32_t* out);  // out: 1024 int32
}  // namespace isa_avx512_amx
#endif

namespace {

// AVX512_BF16 / AVX512_VNNI on top of cpu_features().avx512 (F + DQ + BW with
// the zmm and opmask state enabled by the OS).
struct DotFeatures {
  bool bf16 = false;
  bool vnni = false;
};

DotFeatures dot_features() {
  DotFeatures f;
#if defined(__GNUC__) || defined(__clang__)
  if (!kernels::cpu_features().avx512) return f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const unsigned max_subleaf = a;
  f.vnni = (c >> 11) & 1;  // leaf 7.0 ECX bit 11
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) f.bf16 = (a >> 5) & 1;  // leaf 7.1 EAX bit 5
#endif
  return f;
}

const DotFeatures& cpu_dot() {
  static const DotFeatures f = dot_features();
  return f;
}

// AMX tile + bf16 + int8 with the tile state enabled, and Linux's permission
// to use it (asked once per process, as the avx512_amx table does).
bool amx_usable() {
  static const bool ok = kernels::cpu_features().amx && kernels::request_amx_permission();
  return ok;
}

}  // namespace

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

// AVX-VNNI (the avx2_vnni table's int8 GEMMs): 12 chains of the VEX ymm vpdpbusd.
#if defined(__x86_64__) && (defined(__clang__) ? __clang_major__ >= 12 : (defined(__GNUC__) && __GNUC__ >= 11))
#define CLIPCAER_BENCH_AVX_VNNI_PEAK 1
namespace isa_avx2_vnni {
// acc += u8 x s8 in groups of 4 (int32 wrap-around is harmless).
__attribute__((target("avx2,avxvnni"))) static void loop(std::uint64_t iters, std::int32_t* out) {
#define CLIPCAER_SET1(v) _mm256_set1_epi32(static_cast<int>((v) * 10.0f))
#define CLIPCAER_STORE(p, v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v)
  const __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-2);
  __m256i a0 = CLIPCAER_SET1(1), a1 = CLIPCAER_SET1(2), a2 = CLIPCAER_SET1(3), a3 = CLIPCAER_SET1(4);
  __m256i a4 = CLIPCAER_SET1(5), a5 = CLIPCAER_SET1(6), a6 = CLIPCAER_SET1(7), a7 = CLIPCAER_SET1(8);
  __m256i a8 = CLIPCAER_SET1(9), a9 = CLIPCAER_SET1(10), a10 = CLIPCAER_SET1(11), a11 = CLIPCAER_SET1(12);
  for (std::uint64_t i = 0; i < iters; ++i) {
    a0 = _mm256_dpbusd_avx_epi32(a0, x, y); a1 = _mm256_dpbusd_avx_epi32(a1, x, y);
    a2 = _mm256_dpbusd_avx_epi32(a2, x, y); a3 = _mm256_dpbusd_avx_epi32(a3, x, y);
    a4 = _mm256_dpbusd_avx_epi32(a4, x, y); a5 = _mm256_dpbusd_avx_epi32(a5, x, y);
    a6 = _mm256_dpbusd_avx_epi32(a6, x, y); a7 = _mm256_dpbusd_avx_epi32(a7, x, y);
    a8 = _mm256_dpbusd_avx_epi32(a8, x, y); a9 = _mm256_dpbusd_avx_epi32(a9, x, y);
    a10 = _mm256_dpbusd_avx_epi32(a10, x, y); a11 = _mm256_dpbusd_avx_epi32(a11, x, y);
  }
  __m256i s = a0;
  for (__m256i v : {a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11}) s = _mm256_add_epi32(s, v);
  CLIPCAER_STORE(out, s);
#undef CLIPCAER_STORE
#undef CLIPCAER_SET1
}
}  // namespace isa_avx2_vnni
#endif

namespace isa_sse2 {
static inline __m128 mul_add(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
static void loop(std::uint64_t iters, float* out) {
  CLIPCAER_PEAK_BODY(__m128, _mm_set1_ps, mul_add, _mm_storeu_ps)
}
}  // namespace isa_sse2

#undef CLIPCAER_PEAK_BODY

// The f32 GEMM register tile's instruction mix (gemm_f32_tile.hpp, one k step
// of an MR x NV-vector tile: NV aligned W loads, MR vbroadcastss of A, MR x NV
// FMAs into as many accumulators) with nothing else and no dependency between
// the loads and the FMAs: the loads read a few L1-resident lines, the FMAs
// multiply two constant registers into independent accumulators (feeding the
// loaded values into the FMAs, as the tile does, measured the same here).
// Inline asm because the mix must be exact: with intrinsics GCC 12 -O3 kept
// the loads but, depending on the loop form and inlining, turned a broadcast
// into vmovss + a register broadcast (one more port-5 uop, 0.87 of the FMA
// peak instead of 0.92).
#if defined(__GNUC__) && defined(__x86_64__)
#define CLIPCAER_BENCH_MIX_PEAK 1
// What the loads read (4 zmm of W, A values); [0] is also both FMA factors:
// 2^-10, so the sums stay normal and finite.
alignas(64) static const float g_mix_lines[64] = {1.0f / 1024};

// Two FMAs: C += A * B, D += A * B.
#define CLIPCAER_MIX_FMA2(A, B, C, D) \
  "vfmadd231ps %%" #A ", %%" #B ", %%" #C "\n\t vfmadd231ps %%" #A ", %%" #B ", %%" #D "\n\t"

namespace isa_avx512 {
// 6 x 64 tile: 4 zmm loads + 6 vbroadcastss + 24 FMA per k step.
__attribute__((target("avx512f"))) static void gemm_mix_loop(std::uint64_t iters) {
  if (iters == 0) return;
  const float* p = g_mix_lines;
  asm volatile(
      "vbroadcastss %[c], %%zmm30\n\t"
      "vmovaps %%zmm30, %%zmm31\n\t"
      "vxorps %%xmm0, %%xmm0, %%xmm0\n\t"
      "vmovaps %%zmm0, %%zmm1\n\t vmovaps %%zmm0, %%zmm2\n\t vmovaps %%zmm0, %%zmm3\n\t vmovaps %%zmm0, %%zmm4\n\t"
      "vmovaps %%zmm0, %%zmm5\n\t vmovaps %%zmm0, %%zmm6\n\t vmovaps %%zmm0, %%zmm7\n\t vmovaps %%zmm0, %%zmm8\n\t"
      "vmovaps %%zmm0, %%zmm9\n\t vmovaps %%zmm0, %%zmm10\n\t vmovaps %%zmm0, %%zmm11\n\t vmovaps %%zmm0, %%zmm12\n\t"
      "vmovaps %%zmm0, %%zmm13\n\t vmovaps %%zmm0, %%zmm14\n\t vmovaps %%zmm0, %%zmm15\n\t vmovaps %%zmm0, %%zmm16\n\t"
      "vmovaps %%zmm0, %%zmm17\n\t vmovaps %%zmm0, %%zmm18\n\t vmovaps %%zmm0, %%zmm19\n\t vmovaps %%zmm0, %%zmm20\n\t"
      "vmovaps %%zmm0, %%zmm21\n\t vmovaps %%zmm0, %%zmm22\n\t vmovaps %%zmm0, %%zmm23\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vmovaps (%[p]), %%zmm24\n\t vmovaps 64(%[p]), %%zmm25\n\t"
      "vmovaps 128(%[p]), %%zmm26\n\t vmovaps 192(%[p]), %%zmm27\n\t"
      "vbroadcastss (%[p]), %%zmm28\n\t vbroadcastss 4(%[p]), %%zmm29\n\t vbroadcastss 8(%[p]), %%zmm28\n\t"
      "vbroadcastss 12(%[p]), %%zmm29\n\t vbroadcastss 16(%[p]), %%zmm28\n\t vbroadcastss 20(%[p]), %%zmm29\n\t"
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm0, zmm1) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm2, zmm3)
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm4, zmm5) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm6, zmm7)
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm8, zmm9) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm10, zmm11)
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm12, zmm13) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm14, zmm15)
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm16, zmm17) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm18, zmm19)
      CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm20, zmm21) CLIPCAER_MIX_FMA2(zmm30, zmm31, zmm22, zmm23)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [p] "r"(p), [c] "m"(g_mix_lines[0])
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}
}  // namespace isa_avx512

namespace isa_avx2 {
// 6 x 16 tile: 2 ymm loads + 6 vbroadcastss + 12 FMA per k step (16 ymm
// registers: 12 accumulators, 2 constants, 2 load targets).
__attribute__((target("avx2,fma"))) static void gemm_mix_loop(std::uint64_t iters) {
  if (iters == 0) return;
  const float* p = g_mix_lines;
  asm volatile(
      "vbroadcastss %[c], %%ymm14\n\t"
      "vmovaps %%ymm14, %%ymm15\n\t"
      "vxorps %%xmm0, %%xmm0, %%xmm0\n\t"
      "vmovaps %%ymm0, %%ymm1\n\t vmovaps %%ymm0, %%ymm2\n\t vmovaps %%ymm0, %%ymm3\n\t vmovaps %%ymm0, %%ymm4\n\t"
      "vmovaps %%ymm0, %%ymm5\n\t vmovaps %%ymm0, %%ymm6\n\t vmovaps %%ymm0, %%ymm7\n\t vmovaps %%ymm0, %%ymm8\n\t"
      "vmovaps %%ymm0, %%ymm9\n\t vmovaps %%ymm0, %%ymm10\n\t vmovaps %%ymm0, %%ymm11\n\t"
      ".p2align 5\n"
      "1:\n\t"
      "vmovaps (%[p]), %%ymm12\n\t vmovaps 32(%[p]), %%ymm13\n\t"
      "vbroadcastss (%[p]), %%ymm12\n\t vbroadcastss 4(%[p]), %%ymm13\n\t vbroadcastss 8(%[p]), %%ymm12\n\t"
      "vbroadcastss 12(%[p]), %%ymm13\n\t vbroadcastss 16(%[p]), %%ymm12\n\t vbroadcastss 20(%[p]), %%ymm13\n\t"
      CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm0, ymm1) CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm2, ymm3)
      CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm4, ymm5) CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm6, ymm7)
      CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm8, ymm9) CLIPCAER_MIX_FMA2(ymm14, ymm15, ymm10, ymm11)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [p] "r"(p), [c] "m"(g_mix_lines[0])
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
}  // namespace isa_avx2

#undef CLIPCAER_MIX_FMA2

// The int8 tile of the tables without VNNI (gemm_i8_tile.hpp): per 16-bit
// pair lane, pmaddwd then paddd into an int32 accumulator. 12 chains of
// that pair, no loads; two constant factors, two temporaries (16 ymm).
// Inline asm: with intrinsics GCC merges the equal products of constant
// factors into one.
#define CLIPCAER_MADD_ADD(R, T, A) \
  "vpmaddwd %%" #R "14, %%" #R "15, %%" #R #T "\n\t vpaddd %%" #R #T ", %%" #R #A ", %%" #R #A "\n\t"
#define CLIPCAER_MADD_ADD12(R)                                                                            \
  CLIPCAER_MADD_ADD(R, 12, 0) CLIPCAER_MADD_ADD(R, 13, 1) CLIPCAER_MADD_ADD(R, 12, 2)                     \
  CLIPCAER_MADD_ADD(R, 13, 3) CLIPCAER_MADD_ADD(R, 12, 4) CLIPCAER_MADD_ADD(R, 13, 5)                     \
  CLIPCAER_MADD_ADD(R, 12, 6) CLIPCAER_MADD_ADD(R, 13, 7) CLIPCAER_MADD_ADD(R, 12, 8)                     \
  CLIPCAER_MADD_ADD(R, 13, 9) CLIPCAER_MADD_ADD(R, 12, 10) CLIPCAER_MADD_ADD(R, 13, 11)
#define CLIPCAER_MADD_LOOP(R)                                                                            \
  asm volatile("vpbroadcastd %[c], %%" #R "14\n\t vpbroadcastd %[c], %%" #R "15\n\t"                    \
               "vpxor %%xmm0, %%xmm0, %%xmm0\n\t"                                                       \
               ".p2align 5\n"                                                                            \
               "1:\n\t" CLIPCAER_MADD_ADD12(R) "dec %[n]\n\t jnz 1b\n\t vzeroupper\n\t"                 \
               : [n] "+r"(iters)                                                                         \
               : [c] "m"(kMaddFactors)                                                                   \
               : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
                 "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")
// 16-bit factors 3 and -2: sums wrap harmlessly.
static const std::int32_t kMaddFactors = static_cast<std::int32_t>(0xfffe0003u);

namespace isa_avx512 {
__attribute__((target("avx512f,avx512bw"))) static void madd16_loop(std::uint64_t iters) {
  if (iters == 0) return;
  CLIPCAER_MADD_LOOP(zmm);
}
}  // namespace isa_avx512

namespace isa_avx2 {
__attribute__((target("avx2"))) static void madd16_loop(std::uint64_t iters) {
  if (iters == 0) return;
  CLIPCAER_MADD_LOOP(ymm);
}
}  // namespace isa_avx2

namespace isa_sse2 {
// Two-operand SSE2: each product first copies a factor (movdqa), as the
// compiled sse2 tile does.
#define CLIPCAER_MADD_ADD_SSE(T, A) \
  "movdqa %%xmm14, %%xmm" #T "\n\t pmaddwd %%xmm15, %%xmm" #T "\n\t paddd %%xmm" #T ", %%xmm" #A "\n\t"
static void madd16_loop(std::uint64_t iters) {
  if (iters == 0) return;
  asm volatile("movd %[c], %%xmm14\n\t pshufd $0, %%xmm14, %%xmm14\n\t movdqa %%xmm14, %%xmm15\n\t"
               "pxor %%xmm0, %%xmm0\n\t"
               ".p2align 5\n"
               "1:\n\t" CLIPCAER_MADD_ADD_SSE(12, 0) CLIPCAER_MADD_ADD_SSE(13, 1) CLIPCAER_MADD_ADD_SSE(12, 2)
               CLIPCAER_MADD_ADD_SSE(13, 3) CLIPCAER_MADD_ADD_SSE(12, 4) CLIPCAER_MADD_ADD_SSE(13, 5)
               CLIPCAER_MADD_ADD_SSE(12, 6) CLIPCAER_MADD_ADD_SSE(13, 7) CLIPCAER_MADD_ADD_SSE(12, 8)
               CLIPCAER_MADD_ADD_SSE(13, 9) CLIPCAER_MADD_ADD_SSE(12, 10) CLIPCAER_MADD_ADD_SSE(13, 11)
               "dec %[n]\n\t jnz 1b\n\t"
               : [n] "+r"(iters)
               : [c] "m"(kMaddFactors)
               : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                 "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
#undef CLIPCAER_MADD_ADD_SSE
}  // namespace isa_sse2

#undef CLIPCAER_MADD_LOOP
#undef CLIPCAER_MADD_ADD12
#undef CLIPCAER_MADD_ADD
#endif  // __GNUC__ && __x86_64__

volatile float g_peak_sink;

std::uint64_t peak_loop(const std::string& isa, std::uint64_t iters) {
  static const kernels::CpuFeatures cpu = kernels::cpu_features();
  float out[16];
#ifdef CLIPCAER_BENCH_DOT_PEAK
  if (isa == "bf16_dot" && cpu_dot().bf16) {
    float acc[256];
    isa_avx512_dot::bf16_loop(iters, acc);
    g_peak_sink = acc[0] + acc[255];
    return iters * 16 * 32 * 2;  // 16 instructions of 32 MACs
  }
  if (isa == "int8_vnni" && cpu_dot().vnni) {
    std::int32_t acc[256];
    isa_avx512_dot::int8_loop(iters, acc);
    g_peak_sink = static_cast<float>(acc[0] ^ acc[255]);
    return iters * 16 * 64 * 2;  // 16 instructions of 64 MACs
  }
#endif
#ifdef CLIPCAER_BENCH_AMX_PEAK
  // 16 x 64-byte A and B tiles: bf16 2^-6 (small sums stay finite), int8 1.
  alignas(64) static const auto tiles = [] {
    struct {
      std::uint16_t bf16[512];
      std::uint8_t int8[1024];
    } t{};
    for (auto& v : t.bf16) v = 0x3C80;
    for (auto& v : t.int8) v = 1;
    return t;
  }();
  if ((isa == "bf16_amx" || isa == "int8_amx") && amx_usable()) {
    alignas(64) std::int32_t acc[1024];
    if (isa == "bf16_amx") {
      isa_avx512_amx::bf16_loop(iters, tiles.bf16, tiles.bf16, reinterpret_cast<float*>(acc));
      g_peak_sink = static_cast<float>(acc[0]);
      return iters * 4 * 16 * 16 * 32 * 2;  // 4 tdpbf16ps of 16 x 16 x 32 MACs
    }
    isa_avx512_amx::int8_loop(iters, tiles.int8, tiles.int8, acc);
    g_peak_sink = static_cast<float>(acc[0]);
    return iters * 4 * 16 * 16 * 64 * 2;  // 4 tdpbusd of 16 x 16 x 64 MACs
  }
#endif
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
#ifdef CLIPCAER_BENCH_MIX_PEAK
  if (isa == "gemm_mix_avx512" && cpu.avx512) {
    isa_avx512::gemm_mix_loop(iters);
    return iters * 24 * 16 * 2;
  }
  if (isa == "gemm_mix_avx2" && cpu.avx2_fma) {
    isa_avx2::gemm_mix_loop(iters);
    return iters * 12 * 8 * 2;
  }
  // 12 pmaddwd of 2 MACs per 32-bit lane.
  if (isa == "int8_pmaddwd_avx512" && cpu.avx512) {
    isa_avx512::madd16_loop(iters);
    return iters * 12 * 32 * 2;
  }
  if (isa == "int8_pmaddwd_avx2" && cpu.avx2_fma) {
    isa_avx2::madd16_loop(iters);
    return iters * 12 * 16 * 2;
  }
  if (isa == "int8_pmaddwd_sse2") {
    isa_sse2::madd16_loop(iters);
    return iters * 12 * 8 * 2;
  }
#endif
#ifdef CLIPCAER_BENCH_AVX_VNNI_PEAK
  if (isa == "int8_avxvnni" && cpu.avx_vnni) {
    std::int32_t acc[8];
    isa_avx2_vnni::loop(iters, acc);
    g_peak_sink = static_cast<float>(acc[0] ^ acc[7]);
    return iters * 12 * 32 * 2;  // 12 instructions of 32 MACs
  }
#endif
  if (isa == "sse2") {
    isa_sse2::loop(iters, out);
    g_peak_sink = out[0];
    return iters * 12 * 4 * 2;
  }
  return 0;
}

std::string peak_unavailable_reason(const std::string& isa) {
  if (peak_loop(isa, 1) > 0) return "";
  if (isa == "bf16_amx" || isa == "int8_amx") {
    if (!kernels::cpu_features().amx) return "this CPU or OS does not run AMX (tile, bf16, int8 with tile state)";
    if (!amx_usable()) return "Linux refused the AMX tile permission (arch_prctl ARCH_REQ_XCOMP_PERM)";
    return "this build has no AMX peak loop (the compiler lacks -mamx-tile -mamx-bf16 -mamx-int8)";
  }
  const bool dot = isa == "bf16_dot" || isa == "int8_vnni";
  const char* what = isa == "bf16_dot" ? "AVX512_BF16" : isa == "int8_vnni" ? "AVX512_VNNI" : isa.c_str();
  if (dot) {
    if (!kernels::cpu_features().avx512)
      return std::string("this CPU or OS does not run AVX-512 F/DQ/BW with zmm state, needed for ") + what;
    if (!(isa == "bf16_dot" ? cpu_dot().bf16 : cpu_dot().vnni)) return std::string("this CPU lacks ") + what;
    return std::string("this build has no ") + what + " peak loop (the compiler lacks -mavx512bf16 / -mavx512vnni)";
  }
  if (isa == "int8_avxvnni") {
    if (!kernels::cpu_features().avx_vnni) return "this CPU or OS does not run AVX-VNNI (with AVX2 + FMA, ymm state)";
    return "this build has no int8_avxvnni peak loop (needs GCC >= 11 or clang >= 12 on x86-64)";
  }
#ifndef CLIPCAER_BENCH_MIX_PEAK
  if (isa == "gemm_mix_avx512" || isa == "gemm_mix_avx2" || isa.compare(0, 13, "int8_pmaddwd_") == 0)
    return "this build has no " + isa + " loop (GNU inline asm on x86-64)";
#endif
  if (isa == "int8_pmaddwd_avx512" && !kernels::cpu_features().avx512)
    return "this CPU or OS does not run AVX-512 F/DQ/BW with zmm state, needed for int8_pmaddwd_avx512";
  if (isa == "int8_pmaddwd_avx2" && !kernels::cpu_features().avx2_fma)
    return "this CPU or OS does not run AVX2 + FMA with ymm state, needed for int8_pmaddwd_avx2";
  if (isa == "gemm_mix_avx512" && !kernels::cpu_features().avx512)
    return "this CPU or OS does not run AVX-512 F/DQ/BW with zmm state, needed for gemm_mix_avx512";
  if (isa == "gemm_mix_avx2" && !kernels::cpu_features().avx2_fma)
    return "this CPU or OS does not run AVX2 + FMA with ymm state, needed for gemm_mix_avx2";
  return "this CPU or build cannot run the " + isa + " peak loop";
}

const char* peak_unit(const std::string& isa) { return isa.compare(0, 5, "int8_") == 0 ? "OPS" : "FLOPS"; }

std::string fma_peak_isa(const std::string& table) {
  if (table.compare(0, 6, "avx512") == 0) return "avx512";
  if (table.compare(0, 4, "avx2") == 0) return "avx2";
  return table;
}

std::string gemm_mix_isa(const std::string& table, kernels::WeightType type) {
  if (type != kernels::WeightType::f32) return "";
  const std::string fma = fma_peak_isa(table);
  return fma == "avx512" || fma == "avx2" ? "gemm_mix_" + fma : "";
}

std::string gemm_peak_isa(const std::string& table, kernels::WeightType type) {
  const bool bf16 = type == kernels::WeightType::bf16, i8 = type == kernels::WeightType::i8;
  if (table == "avx512_bf16" && (bf16 || i8)) return bf16 ? "bf16_dot" : "int8_vnni";
  if (table == "avx512_amx" && (bf16 || i8)) return bf16 ? "bf16_amx" : "int8_amx";
  if (table == "avx512_vnni" && i8) return "int8_vnni";
  if (table == "avx2_vnni" && i8) return "int8_avxvnni";
  // Without a dot product the int8 tile runs pmaddwd + paddd, not FMAs.
  if ((table == "avx512" || table == "avx2" || table == "sse2") && i8) return "int8_pmaddwd_" + table;
  return fma_peak_isa(table);
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
