// AVX-512 kernel table (compiled with -mavx512f -mavx512bw -mavx512dq -mfma, no -mavx512vl:
// 256-bit helpers shared with the AVX2 table then stay VEX-encoded).
#define CLIPCAER_KERNEL_NS isa_avx512
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
const KernelTable* table_avx512() {
  static const KernelTable table = isa_avx512::make_table<xsimd::avx512bw>("avx512");
  return &table;
}
}  // namespace clipcaer::kernels
