// AVX2 + FMA kernel table (compiled with -mavx2 -mfma).
#define CLIPCAER_KERNEL_NS isa_avx2
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
const KernelTable* table_avx2() {
  static const KernelTable table = isa_avx2::make_table<xsimd::fma3<xsimd::avx2>>("avx2");
  return &table;
}
}  // namespace clipcaer::kernels
