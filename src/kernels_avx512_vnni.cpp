// AVX-512 kernel table with AVX512_VNNI but no AVX512_BF16 (Cascade Lake,
// Ice Lake, Tiger Lake, Rocket Lake): int8 weights through the zmm vpdpbusd,
// as the avx512_bf16 table; bf16 weights emulated and attention float32, as
// the AVX-512 table. Without it these CPUs ran int8 on pmaddwd, no faster
// than float32.
#define CLIPCAER_KERNEL_NS isa_avx512_vnni
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
#if defined(__AVX512VNNI__)
const KernelTable* table_avx512_vnni() {
  static const KernelTable table = isa_avx512_vnni::make_table<xsimd::avx512bw, LowpKind::int8_dot>("avx512_vnni");
  return &table;
}
#else
const KernelTable* table_avx512_vnni() { return nullptr; }  // the compiler lacks -mavx512vnni
#endif
}  // namespace clipcaer::kernels
