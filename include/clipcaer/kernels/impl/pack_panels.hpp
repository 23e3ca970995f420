// Weight packing shared by the f32, bf16 and int8 GEMMs. Every packed layout
// is panels of NR output columns, [unit][NR], where a unit is 32 bits of one
// column (a float, a bf16 pair of k, an int8 quad of k), zero past n and past
// a row's units. Rows are converted W at a time into units (the caller's
// function, contiguous writes), then moved into their panel by W x W register
// transposes; each packed byte is written once. Writing each unit straight to
// its panel slot instead (a 256-byte stride per unit on AVX-512), after a
// memset of the whole buffer, was ~40 % of a model's load time
// (docs/performance.md, "Load time").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/kernels/impl/transpose.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// W: the table's float vector width (NR is a multiple of it).
template <std::size_t W>
struct PackPanels {
  // Rows [row0, row0 + rows) (rows <= W, all in one panel) of `units` units
  // each, row r at src[r * lds], into dst = the packed panels.
  static void place(const std::uint32_t* src, std::size_t lds, std::size_t row0, std::size_t rows,
                    std::size_t units, std::size_t NR, std::uint32_t* dst) {
    std::uint32_t* base = dst + (row0 / NR) * units * NR + row0 % NR;
    std::size_t u = 0;
    // 32-bit units move through float registers bit for bit (no arithmetic).
    for (; u + W <= units; u += W)
      transpose_tile<W>(reinterpret_cast<const float*>(src + u), lds, rows, reinterpret_cast<float*>(base + u * NR),
                        NR);
    for (; u < units; ++u)
      for (std::size_t r = 0; r < W; ++r) base[u * NR + r] = r < rows ? src[r * lds + u] : 0;
  }

  // Zeroes the columns of the last panel past the W-blocks that place() wrote
  // (the rest of the buffer is written once; a memset of all of it first was a
  // second pass over every packed byte).
  static void zero_last_panel(std::size_t n, std::size_t units, std::size_t NR, std::uint32_t* dst) {
    if (n == 0) return;
    const std::size_t last = (n - 1) / NR, j0 = (n + W - 1) / W * W - last * NR;
    if (j0 >= NR) return;
    std::uint32_t* base = dst + last * units * NR;
    for (std::size_t u = 0; u < units; ++u) std::memset(base + u * NR + j0, 0, (NR - j0) * 4);
  }

  // n rows of f32 weights (k floats each, row-major) as f32 units.
  static void floats(const float* w, std::size_t n, std::size_t k, std::size_t NR, unsigned char* out) {
    auto* dst = reinterpret_cast<std::uint32_t*>(out);
    for (std::size_t row0 = 0; row0 < n; row0 += W)
      place(reinterpret_cast<const std::uint32_t*>(w + row0 * k), k, row0, n - row0 < W ? n - row0 : W, k, NR, dst);
    zero_last_panel(n, k, NR, dst);
  }

  // n rows converted by to_units(row, std::uint32_t* units) into `units`
  // units each (the function writes all of them, padding included).
  template <class ToUnits>
  static void converted(std::size_t n, std::size_t units, std::size_t NR, unsigned char* out, ToUnits&& to_units) {
    auto* dst = reinterpret_cast<std::uint32_t*>(out);
    auto* buf = reinterpret_cast<std::uint32_t*>(thread_scratch(W * units));
    for (std::size_t row0 = 0; row0 < n; row0 += W) {
      const std::size_t rows = n - row0 < W ? n - row0 : W;
      for (std::size_t r = 0; r < rows; ++r) to_units(row0 + r, buf + r * units);
      place(buf, units, row0, rows, units, NR, dst);
    }
    zero_last_panel(n, units, NR, dst);
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
