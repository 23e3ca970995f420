// Targets other than x86-64 build no AVX tables.
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
const KernelTable* table_avx512_amx() { return nullptr; }
const KernelTable* table_avx512_bf16() { return nullptr; }
const KernelTable* table_avx512_vnni() { return nullptr; }
const KernelTable* table_avx512() { return nullptr; }
const KernelTable* table_avx2_vnni() { return nullptr; }
const KernelTable* table_avx2() { return nullptr; }
}  // namespace clipcaer::kernels
