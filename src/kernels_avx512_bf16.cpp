// AVX-512 kernel table with AVX512_BF16 and AVX512_VNNI (Cooper Lake, Sapphire
// Rapids, Zen 4 and later): bf16 weights through vdpbf16ps, int8 through
// vpdpbusd. f32 and everything else as the AVX-512 table.
#define CLIPCAER_KERNEL_NS isa_avx512_bf16
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
#if defined(__AVX512BF16__) && defined(__AVX512VNNI__)
const KernelTable* table_avx512_bf16() {
  static const KernelTable table = isa_avx512_bf16::make_table<xsimd::avx512bw, LowpKind::dot>("avx512_bf16");
  return &table;
}
#else
const KernelTable* table_avx512_bf16() { return nullptr; }  // the compiler lacks the flags
#endif
}  // namespace clipcaer::kernels
