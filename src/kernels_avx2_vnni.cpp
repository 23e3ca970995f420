// AVX2 + FMA kernel table with AVX-VNNI (Alder Lake, Raptor Lake, Meteor Lake,
// Arrow Lake, Sierra Forest: VNNI without AVX-512): int8 weights through the
// VEX ymm vpdpbusd; f32, bf16 (emulated) and everything else as the AVX2 table.
#define CLIPCAER_KERNEL_NS isa_avx2_vnni
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
#if defined(__AVXVNNI__)
const KernelTable* table_avx2_vnni() {
  static const KernelTable table =
      isa_avx2_vnni::make_table<xsimd::fma3<xsimd::avx2>, LowpKind::int8_dot>("avx2_vnni");
  return &table;
}
#else
const KernelTable* table_avx2_vnni() { return nullptr; }  // the compiler lacks -mavxvnni
#endif
}  // namespace clipcaer::kernels
