// Fills a KernelTable from the kernel templates for one xsimd architecture.
#pragma once

#include "clipcaer/kernels/impl/attention.hpp"
#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_bf16_tile.hpp"
#include "clipcaer/kernels/impl/gemm_f32.hpp"
#include "clipcaer/kernels/impl/gemm_i8_tile.hpp"
#include "clipcaer/kernels/impl/gemm_lowp.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

// One GEMM entry per weight type. Bf16Dot / Vnni: the TU is compiled for
// AVX512_BF16 / AVX512_VNNI and uses them; otherwise those types are emulated
// with the table's own instructions (same packed layout, same products).
template <class Arch, bool Bf16Dot, bool Vnni>
struct GemmByType {
  using F32 = GemmF32<Arch>;
  using Bf16 = GemmBf16Tile<Arch, Bf16Dot>;
  using I8 = GemmI8Tile<Arch, Vnni>;

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
      case WeightType::bf16: return GemmLowp<Arch, Bf16>::gemm(g, m0, m1, n0, n1);
      case WeightType::i8: return GemmLowp<Arch, I8>::gemm(g, m0, m1, n0, n1);
      case WeightType::f32: break;
    }
    F32::gemm(g, m0, m1, n0, n1);
  }
};

template <class Arch, bool Bf16Dot = false, bool Vnni = false>
KernelTable make_table(const char* name) {
  using E = Elementwise<Arch>;
  using G = GemmF32<Arch>;
  using A = AttentionF32<Arch>;
  using T = GemmByType<Arch, Bf16Dot, Vnni>;
  KernelTable t{};
  t.name = name;
  t.pack_weights = &T::pack;
  t.gemm = &T::gemm;
  t.gemm_m_step = G::MB;
  t.gemm_n_step = G::NR;
  t.gemm_mr = G::MR;
  t.attention = &A::run;
  t.attention_scratch_floats = &A::scratch_floats;
  t.layer_norm = &E::layer_norm;
  t.softmax = &E::softmax;
  t.activate = &E::activate;
  t.add = &E::add;
  t.scale = &E::scale;
  t.dot = &E::dot;
  t.all_finite = &E::all_finite;
  t.min_max = &E::min_max;
  return t;
}

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
