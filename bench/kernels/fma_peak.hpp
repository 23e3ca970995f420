// Measured arithmetic peak of one core, per instruction: independent FMA /
// dot-product chains (enough to cover latency x ports), so GEMM results can be
// given as a fraction of what this machine really does, measured in the same run.
#pragma once

#include <cstdint>
#include <string>

#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::bench {

// Peak loops, by name:
//   "avx512"     zmm FMA (vfmadd), f32                       flops
//   "avx2"       ymm FMA, f32                                flops
//   "sse2"       xmm mul + add, f32                          flops
//   "bf16_dot"   zmm vdpbf16ps (AVX512_BF16), 32 MACs each   flops (2 per MAC)
//   "int8_vnni"  zmm vpdpbusd (AVX512_VNNI), 64 MACs each    ops (2 per MAC)
//   "int8_avxvnni" ymm vpdpbusd (AVX-VNNI), 32 MACs each     ops (2 per MAC)
//   "int8_pmaddwd_avx512", "int8_pmaddwd_avx2", "int8_pmaddwd_sse2"
//                pmaddwd + paddd on zmm / ymm / xmm (the int8 tile of the
//                tables without VNNI), 2 MACs per 32-bit lane   ops (2 per MAC)
//   "gemm_mix_avx512"  the avx512 f32 GEMM tile's mix per k step: 4 zmm loads
//                + 6 vbroadcastss + 24 FMA, from L1               flops
//   "gemm_mix_avx2"    the avx2 tile's: 2 ymm loads + 6 broadcasts + 12 FMA  flops
// Runs `iters` iterations of the loop and returns the flops (ops) performed;
// 0 if this CPU, OS or build cannot run it.
std::uint64_t peak_loop(const std::string& isa, std::uint64_t iters);

// Why peak_loop(isa) returns 0 here ("" if it runs).
std::string peak_unavailable_reason(const std::string& isa);

// The counter unit of a peak: "OPS" for the int8_* loops, else "FLOPS".
const char* peak_unit(const std::string& isa);

// Best-of-`reps` single-thread flop/s (op/s) of peak_loop over about `seconds` each.
double measure_peak_flops(const std::string& isa, double seconds = 0.05, int reps = 5);

// The f32 FMA peak loop of a kernel table ("avx512_bf16" -> "avx512").
std::string fma_peak_isa(const std::string& table);

// The instruction-mix ceiling of the f32 GEMM tile of `table` ("gemm_mix_avx512"
// for the avx512 family, "gemm_mix_avx2" for avx2); "" for other tables and
// for bf16 / int8 weights.
std::string gemm_mix_isa(const std::string& table, kernels::WeightType type);

// The peak a GEMM of `type` on `table` is compared with: the dot-product
// instruction for the table that uses it ("avx512_bf16": bf16 -> bf16_dot,
// int8 -> int8_vnni; "avx512_vnni": int8 -> int8_vnni; "avx2_vnni": int8 ->
// int8_avxvnni); int8 on "avx512", "avx2"
// and "sse2" -> int8_pmaddwd_<table>; else the table's FMA peak (bf16 there
// runs the f32 tile).
std::string gemm_peak_isa(const std::string& table, kernels::WeightType type);

}  // namespace clipcaer::bench
