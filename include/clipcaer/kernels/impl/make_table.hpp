// Fills a KernelTable from the kernel templates for one xsimd architecture.
#pragma once

#include "clipcaer/kernels/impl/attention.hpp"
#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_amx.hpp"
#include "clipcaer/kernels/impl/gemm_bf16_tile.hpp"
#include "clipcaer/kernels/impl/gemm_f32.hpp"
#include "clipcaer/kernels/impl/gemm_i8_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/haar_cascade.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// How a table runs bf16 and int8 GEMMs: emulated with its own instructions,
// int8 with a dot product and bf16 emulated (AVX-VNNI: vpdpbusd on ymm, no
// bf16 counterpart), both with the AVX-512 dot products (vdpbf16ps,
// vpdpbusd), or on AMX tiles. Same products and (int8) the same bits
// whichever; the TU's flags must enable the instructions the choice names.
enum class LowpKind { emulated, int8_dot, dot, amx };

// The bf16 and int8 GEMMs of a kind: register tiles, emulated or with the dot products ...
template <class Arch, LowpKind Kind>
struct LowpGemms {
  using Bf16 = GemmLowp<Arch, GemmBf16Tile<Arch, Kind == LowpKind::dot>>;
  using I8 = GemmLowp<Arch, GemmI8Tile<Arch, Kind != LowpKind::emulated>>;
};
#if defined(CLIPCAER_HAVE_AMX)
// ... or AMX tiles.
template <class Arch>
struct LowpGemms<Arch, LowpKind::amx> {
  using Bf16 = GemmAmx<Arch, false>;
  using I8 = GemmAmx<Arch, true>;
};
#endif

template <class Arch, LowpKind Kind>
struct GemmByType {
  using F32 = GemmF32<Arch>;
  using Bf16 = typename LowpGemms<Arch, Kind>::Bf16;
  using I8 = typename LowpGemms<Arch, Kind>::I8;

  static void pack(const float* w, std::size_t n, std::size_t k, WeightType type, PackedMatrix& out) {
    switch (type) {
      case WeightType::bf16: return Bf16::pack(w, n, k, out);
      case WeightType::i8: return I8::pack(w, n, k, out);
      case WeightType::f32: break;
    }
    F32::pack(w, n, k, type, out);
  }
  static void gemm(const GemmArgs& g, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
    switch (g.b->type) {
      case WeightType::bf16: return Bf16::gemm(g, m0, m1, n0, n1);
      case WeightType::i8: return I8::gemm(g, m0, m1, n0, n1);
      case WeightType::f32: break;
    }
    F32::gemm(g, m0, m1, n0, n1);
  }
};

template <class Arch, LowpKind Kind = LowpKind::emulated>
KernelTable make_table(const char* name) {
  using E = Elementwise<Arch>;
  using G = GemmF32<Arch>;
  using A = AttentionF32<Arch>;
  using T = GemmByType<Arch, Kind>;
  KernelTable t{};
  t.name = name;
  t.pack_weights = &T::pack;
  t.gemm = &T::gemm;
  t.gemm_m_step = G::MB;
  t.gemm_n_step = G::NR;
  t.gemm_mr = G::MR;
  t.attention = &A::run;
  t.attention_scratch_floats = &A::scratch_floats;
  t.attention_bf16 = A::kBf16;
  t.layer_norm = &E::layer_norm;
  t.softmax = &E::softmax;
  t.activate = &E::activate;
  t.add = &E::add;
  t.scale = &E::scale;
  t.dot = &E::dot;
  t.all_finite = &E::all_finite;
  t.min_max = &E::min_max;
  t.haar_row = &HaarCascade<Arch>::row;
  return t;
}

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
