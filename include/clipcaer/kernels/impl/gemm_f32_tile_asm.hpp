// The AVX-512 f32 register tile (6 rows x 64 columns, gemm_f32_tile.hpp) as
// one GNU inline-asm loop, for x86-64 with GCC or Clang. Same operations in
// the same order as the intrinsics tile (the same bits, tested), scheduled
// by hand: per k step the 4 W vectors are loaded first, then each row's
// broadcast feeds its 4 FMAs. GCC's own schedule of the intrinsics (register
// rotation through the W registers, the prefetch loop between k steps) ran
// the ViT GEMMs at ~192 GFLOP/s on one Sapphire Rapids core; this loop at
// ~204 (0.85 of the FMA peak, ~0.92 of what the tile's instruction mix
// allows there). Other compilers, and every other tile, use the intrinsics.
#pragma once

#include <cstddef>

#include "clipcaer/kernels/impl/namespace.hpp"

#if defined(__GNUC__) && defined(__x86_64__) && defined(__AVX512F__)
#define CLIPCAER_GEMM_F32_ASM_6X64 1

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

#define CLIPCAER_A6_ROW(OFF, B, R0, R1, R2, R3)                                           \
  "vbroadcastss " OFF ", %%zmm" B "\n\t"                                                  \
  "vfmadd231ps %%zmm24, %%zmm" B ", %%zmm" R0 "\n\t"                                      \
  "vfmadd231ps %%zmm25, %%zmm" B ", %%zmm" R1 "\n\t"                                      \
  "vfmadd231ps %%zmm26, %%zmm" B ", %%zmm" R2 "\n\t"                                      \
  "vfmadd231ps %%zmm27, %%zmm" B ", %%zmm" R3 "\n\t"
// One k step: A values at byte offset KO of each row, W vectors at byte offset WO.
#define CLIPCAER_A6_STEP(KO, WO)                                                          \
  "vmovaps " WO "(%[w]), %%zmm24\n\t"                                                     \
  "vmovaps " WO "+64(%[w]), %%zmm25\n\t"                                                  \
  "vmovaps " WO "+128(%[w]), %%zmm26\n\t"                                                 \
  "vmovaps " WO "+192(%[w]), %%zmm27\n\t"                                                 \
  CLIPCAER_A6_ROW(KO "(%[a])", "28", "0", "1", "2", "3")                                  \
  CLIPCAER_A6_ROW(KO "(%[a],%[l1])", "29", "4", "5", "6", "7")                            \
  CLIPCAER_A6_ROW(KO "(%[a],%[l1],2)", "30", "8", "9", "10", "11")                        \
  CLIPCAER_A6_ROW(KO "(%[a3])", "31", "12", "13", "14", "15")                             \
  CLIPCAER_A6_ROW(KO "(%[a3],%[l1])", "28", "16", "17", "18", "19")                       \
  CLIPCAER_A6_ROW(KO "(%[a3],%[l1],2)", "29", "20", "21", "22", "23")
#define CLIPCAER_A6_LOAD_ROW(R0, R1, R2, R3)                                              \
  "vmovaps (%[t0]), %%zmm" R0 "\n\t vmovaps 64(%[t0]), %%zmm" R1 "\n\t"                  \
  "vmovaps 128(%[t0]), %%zmm" R2 "\n\t vmovaps 192(%[t0]), %%zmm" R3 "\n\t add %[t1], %[t0]\n\t"
#define CLIPCAER_A6_STORE_ROW(R0, R1, R2, R3)                                             \
  "vmovaps %%zmm" R0 ", (%[t0])\n\t vmovaps %%zmm" R1 ", 64(%[t0])\n\t"                  \
  "vmovaps %%zmm" R2 ", 128(%[t0])\n\t vmovaps %%zmm" R3 ", 192(%[t0])\n\t add %[t1], %[t0]\n\t"

// acc = init (6 rows of 64 floats, row stride init_ld floats, 64-byte
// aligned) + sum over k < kc of a[r * lda + k] * w[k * 64 + c], stored to dst
// (row stride dst_ld floats, aligned). Every 4 k steps, up to prefetch_per_step
// lines of [prefetch, prefetch_end) are pulled toward L2.
inline void gemm_f32_6x64_asm(const float* a, std::size_t lda, const float* w, std::size_t kc, const float* init,
                              std::size_t init_ld, float* dst, std::size_t dst_ld, const char* prefetch,
                              const char* prefetch_end, std::size_t prefetch_per_step) {
  const float* a3 = a + 3 * lda;
  const std::size_t l1 = lda * 4, init_bytes = init_ld * 4, dst_bytes = dst_ld * 4;
  const std::size_t tail = kc % 4, per_step = prefetch_per_step > 0 ? prefetch_per_step : 1;
  std::size_t quads = kc / 4, t0, t1;
  const char* pf = prefetch;
  // t0, t1 are early-clobbered, so no input (nor the address of a memory
  // operand) shares their registers.
  asm volatile(
      "mov %[init], %[t0]\n\t"
      "mov %[init_bytes], %[t1]\n\t"
      CLIPCAER_A6_LOAD_ROW("0", "1", "2", "3") CLIPCAER_A6_LOAD_ROW("4", "5", "6", "7")
      CLIPCAER_A6_LOAD_ROW("8", "9", "10", "11") CLIPCAER_A6_LOAD_ROW("12", "13", "14", "15")
      CLIPCAER_A6_LOAD_ROW("16", "17", "18", "19") CLIPCAER_A6_LOAD_ROW("20", "21", "22", "23")
      "test %[quads], %[quads]\n\t"
      "jz 3f\n\t"
      ".p2align 4\n"
      "1:\n\t"
      "mov %[per_step], %[t1]\n"
      "2:\n\t"
      "cmp %[pf_end], %[pf]\n\t"
      "jae 4f\n\t"
      "prefetcht1 (%[pf])\n\t"
      "add $64, %[pf]\n\t"
      "dec %[t1]\n\t"
      "jnz 2b\n"
      "4:\n\t"
      CLIPCAER_A6_STEP("0", "0") CLIPCAER_A6_STEP("4", "256") CLIPCAER_A6_STEP("8", "512")
      CLIPCAER_A6_STEP("12", "768")
      "add $16, %[a]\n\t"
      "add $16, %[a3]\n\t"
      "add $1024, %[w]\n\t"
      "dec %[quads]\n\t"
      "jnz 1b\n"
      "3:\n\t"
      "mov %[tail], %[t1]\n\t"
      "test %[t1], %[t1]\n\t"
      "jz 6f\n"
      "5:\n\t"
      CLIPCAER_A6_STEP("0", "0")
      "add $4, %[a]\n\t"
      "add $4, %[a3]\n\t"
      "add $256, %[w]\n\t"
      "dec %[t1]\n\t"
      "jnz 5b\n"
      "6:\n\t"
      "mov %[dst], %[t0]\n\t"
      "mov %[dst_bytes], %[t1]\n\t"
      CLIPCAER_A6_STORE_ROW("0", "1", "2", "3") CLIPCAER_A6_STORE_ROW("4", "5", "6", "7")
      CLIPCAER_A6_STORE_ROW("8", "9", "10", "11") CLIPCAER_A6_STORE_ROW("12", "13", "14", "15")
      CLIPCAER_A6_STORE_ROW("16", "17", "18", "19") CLIPCAER_A6_STORE_ROW("20", "21", "22", "23")
      : [a] "+r"(a), [a3] "+r"(a3), [w] "+r"(w), [quads] "+r"(quads), [pf] "+r"(pf), [t0] "=&r"(t0), [t1] "=&r"(t1)
      : [l1] "r"(l1), [pf_end] "r"(prefetch_end), [per_step] "m"(per_step), [tail] "m"(tail), [init] "m"(init),
        [init_bytes] "m"(init_bytes), [dst] "m"(dst), [dst_bytes] "m"(dst_bytes)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

#undef CLIPCAER_A6_STORE_ROW
#undef CLIPCAER_A6_LOAD_ROW
#undef CLIPCAER_A6_STEP
#undef CLIPCAER_A6_ROW

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
#endif
