// Picks the kernel table for this CPU.
//
// Built with CLIPCAER_MULTIARCH (the clipcaer::runtime target, which the CLI,
// Python module and C library use), one table per instruction set is compiled
// in its own translation unit (src/kernels_<isa>.cpp) and the best one the CPU
// supports is chosen at run time. Header-only users get one table compiled for
// whatever -march their translation unit uses (xsimd::default_arch).
// The environment variable CLIPCAER_ISA (e.g. "avx2", "baseline") forces a table.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifndef CLIPCAER_MULTIARCH
#include "clipcaer/kernels/impl/make_table.hpp"
#endif

namespace clipcaer::kernels {

// What this CPU and OS can run (CPUID plus XGETBV: the OS must save the
// ymm / zmm state, which a VM or kernel may not).
struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3, ymm state enabled
  bool avx_vnni = false;  // AVX-VNNI on top of avx2_fma (the VEX vpdpbusd)
  bool avx512 = false;    // AVX-512 F + DQ + BW on top, zmm and opmask state enabled
  bool avx512_vnni = false;  // AVX512_VNNI on top (the zmm int8 dot product)
  bool avx512_bf16 = false;  // AVX512_BF16 and AVX512_VNNI on top (bf16 and int8 dot products)
  bool amx = false;          // AMX tile, bf16 and int8 on top, tile state enabled in XCR0
};

inline CpuFeatures cpu_features() noexcept {
  CpuFeatures f;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return f;
  unsigned xcr0 = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1;
  f.avx2_fma = ymm_state && avx2 && fma;
  f.avx512 = f.avx2_fma && zmm_state && avx512f && avx512dq && avx512bw;
  const bool vnni = (c >> 11) & 1;
  f.avx512_vnni = f.avx512 && vnni;  // leaf 7.0 ECX bit 11
  const bool amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1, amx_int8 = (d >> 25) & 1;
  const bool tile_state = ((xcr0 >> 17) & 3) == 3;
  const unsigned max_subleaf = a;
  if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = f.avx2_fma && ((a >> 4) & 1);         // leaf 7.1 EAX bit 4
    f.avx512_bf16 = f.avx512 && vnni && ((a >> 5) & 1);  // leaf 7.1 EAX bit 5
  }
  f.amx = f.avx512_bf16 && amx_bf16 && amx_tile && amx_int8 && tile_state;
#endif
  return f;
}

// Linux hands out the AMX tile data state only on request, once per process
// (arch_prctl ARCH_REQ_XCOMP_PERM); without it the first tile instruction
// faults. False where the kernel refuses (older than 5.16, or a VM without it).
inline bool request_amx_permission() noexcept {
#if defined(__linux__) && defined(__x86_64__) && defined(SYS_arch_prctl)
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

#ifdef CLIPCAER_MULTIARCH
// Defined in src/kernels_<isa>.cpp; a table not built for this target returns
// null. Each is compiled with its ISA's flags (even building the table may use
// those instructions), so call one only on a CPU that cpu_features() says runs it.
const KernelTable* table_avx512_amx();
const KernelTable* table_avx512_bf16();
const KernelTable* table_avx512_vnni();
const KernelTable* table_avx512();
const KernelTable* table_avx2_vnni();
const KernelTable* table_avx2();
const KernelTable* table_baseline();

// Every table this CPU can run, best first.
inline std::vector<const KernelTable*> usable_tables() {
  static const std::vector<const KernelTable*> tables = [] {
    const CpuFeatures cpu = cpu_features();
    std::vector<const KernelTable*> out;
    if (cpu.amx && request_amx_permission())
      if (const KernelTable* t = table_avx512_amx()) out.push_back(t);
    if (cpu.avx512_bf16)
      if (const KernelTable* t = table_avx512_bf16()) out.push_back(t);
    if (cpu.avx512_vnni)
      if (const KernelTable* t = table_avx512_vnni()) out.push_back(t);
    if (cpu.avx512)
      if (const KernelTable* t = table_avx512()) out.push_back(t);
    if (cpu.avx_vnni)
      if (const KernelTable* t = table_avx2_vnni()) out.push_back(t);
    if (cpu.avx2_fma)
      if (const KernelTable* t = table_avx2()) out.push_back(t);
    out.push_back(table_baseline());
    return out;
  }();
  return tables;
}
#else
inline std::vector<const KernelTable*> usable_tables() {
  static const KernelTable table = make_table<xsimd::default_arch>(xsimd::default_arch::name());
  return {&table};
}
#endif

// The usable table called `name`; "baseline" names the last resort (sse2 on x86-64).
inline const KernelTable* find_table(const std::string& name) {
  const auto tables = usable_tables();
  if (name == "baseline") return tables.back();
  for (const KernelTable* t : tables)
    if (name == t->name) return t;
  return nullptr;
}

// The usable tables' names, best first, as "avx2, sse2" (messages, `clipcaer --version`).
inline std::string usable_table_list() {
  std::string names;
  for (const KernelTable* t : usable_tables()) names += std::string(names.empty() ? "" : ", ") + t->name;
  return names;
}

namespace detail {
inline const KernelTable& choose_table() {
  if (const char* forced = std::getenv("CLIPCAER_ISA"); forced && *forced) {
    if (const KernelTable* t = find_table(forced)) return *t;
    throw_error(ErrorCode::unsupported, "CLIPCAER_ISA='", forced, "' is not a kernel set this CPU and build can run (",
                usable_table_list(), ")");
  }
  return *usable_tables().front();
}
}  // namespace detail

// The table model code uses; chosen once per process.
inline const KernelTable& best_table() {
  static const KernelTable& table = detail::choose_table();
  return table;
}

}  // namespace clipcaer::kernels
