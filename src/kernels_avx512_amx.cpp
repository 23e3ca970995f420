// AVX-512 kernel table with AMX (Sapphire Rapids and later): bf16 and int8
// GEMMs on AMX tiles; f32 and everything else as the AVX-512 table.
#define CLIPCAER_KERNEL_NS isa_avx512_amx
#include "clipcaer/kernels/impl/make_table.hpp"

namespace clipcaer::kernels {
#if defined(CLIPCAER_HAVE_AMX)
const KernelTable* table_avx512_amx() {
  static const KernelTable table = isa_avx512_amx::make_table<xsimd::avx512bw, LowpKind::amx>("avx512_amx");
  return &table;
}
#else
const KernelTable* table_avx512_amx() { return nullptr; }  // the compiler lacks the flags
#endif
}  // namespace clipcaer::kernels
