// AVX-512 kernel table with AVX512_BF16 and AVX512_VNNI (Cooper Lake, Sapphire
// Rapids, Zen 4 and later): bf16 weights through vdpbf16ps, int8 through
// vpdpbusd. f32 and everything else as the AVX-512 table.
#define CLIPCAER_KERNEL_NS isa_avx512_bf16
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
const KernelTable* table_avx512_bf16() {
  static const KernelTable table = isa_avx512_bf16::make_table<xsimd::avx512bw, LowpKind::dot>("avx512_bf16");
  return &table;
}
}  // namespace clipcaer::kernels
