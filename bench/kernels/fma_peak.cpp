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
  return "this CPU or build cannot run the " + isa + " peak loop";
}

const char* peak_unit(const std::string& isa) { return isa.compare(0, 5, "int8_") == 0 ? "OPS" : "FLOPS"; }

std::string fma_peak_isa(const std::string& table) {
  if (table.compare(0, 6, "avx512") == 0) return "avx512";
  if (table.compare(0, 4, "avx2") == 0) return "avx2";
  return table;
}

std::string gemm_peak_isa(const std::string& table, kernels::WeightType type) {
  const bool bf16 = type == kernels::WeightType::bf16, i8 = type == kernels::WeightType::i8;
  if (table == "avx512_bf16" && (bf16 || i8)) return bf16 ? "bf16_dot" : "int8_vnni";
  if (table == "avx512_amx" && (bf16 || i8)) return bf16 ? "bf16_amx" : "int8_amx";
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
