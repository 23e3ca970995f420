// Picks the kernel table for this CPU.
//
// Built with CLIPCAER_MULTIARCH (the clipcaer::runtime target, which the CLI,
// Python module and C library use), one table per instruction set is compiled
// in its own translation unit (src/kernels_<isa>.cpp) and the best one the CPU
// supports is chosen at run time. Header-only users get one table compiled for
// whatever -march their translation unit uses (xsimd::default_arch).
// The environment variable CLIPCAER_ISA (e.g. "avx2") forces a table.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#ifndef CLIPCAER_MULTIARCH
#include "clipcaer/kernels/impl/make_table.hpp"
#else
#include <xsimd/config/xsimd_config.hpp>
#include <xsimd/config/xsimd_cpuid.hpp>
#endif

namespace clipcaer::kernels {

#ifdef CLIPCAER_MULTIARCH
// Defined in src/kernels_<isa>.cpp; a table not built for this target returns null.
const KernelTable* table_avx512();
const KernelTable* table_avx2();
const KernelTable* table_baseline();

namespace detail {
inline bool cpu_supports(const KernelTable* t) {
  if (!t) return false;
  const auto cpu = xsimd::available_architectures();
  const std::string name = t->name;
  if (name == "avx512") return cpu.avx512bw && cpu.avx512dq && cpu.fma3_avx2;
  if (name == "avx2") return cpu.fma3_avx2;
  return true;
}
}  // namespace detail

// Every table this CPU can run, best first.
inline std::vector<const KernelTable*> usable_tables() {
  std::vector<const KernelTable*> out;
  for (const KernelTable* t : {table_avx512(), table_avx2(), table_baseline()})
    if (detail::cpu_supports(t)) out.push_back(t);
  return out;
}
#else
inline std::vector<const KernelTable*> usable_tables() {
  static const KernelTable table = make_table<xsimd::default_arch>(xsimd::default_arch::name());
  return {&table};
}
#endif

inline const KernelTable* find_table(const std::string& name) {
  for (const KernelTable* t : usable_tables())
    if (name == t->name) return t;
  return nullptr;
}

namespace detail {
inline const KernelTable& choose_table() {
  const auto tables = usable_tables();
  if (const char* forced = std::getenv("CLIPCAER_ISA"); forced && *forced) {
    if (const KernelTable* t = find_table(forced)) return *t;
    std::string names;
    for (const KernelTable* t : tables) names += std::string(names.empty() ? "" : ", ") + t->name;
    throw_error(ErrorCode::unsupported, "CLIPCAER_ISA='", forced, "' is not a kernel set this CPU and build can run (",
                names, ")");
  }
  return *tables.front();
}
}  // namespace detail

// The table model code uses; chosen once per process.
inline const KernelTable& best_table() {
  static const KernelTable& table = detail::choose_table();
  return table;
}

}  // namespace clipcaer::kernels
