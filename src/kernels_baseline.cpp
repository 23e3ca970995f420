// Baseline kernel table: the target's default instruction set (SSE2 on
// x86-64, NEON on AArch64), correct everywhere and the last resort.
#define CLIPCAER_KERNEL_NS isa_baseline
// This TU also defines the kernels' allocation and error helpers (support.hpp).
#define CLIPCAER_KERNEL_SUPPORT_IMPL
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
const KernelTable* table_baseline() {
  static const KernelTable table = isa_baseline::make_table<xsimd::default_arch>(xsimd::default_arch::name());
  return &table;
}
}  // namespace clipcaer::kernels
