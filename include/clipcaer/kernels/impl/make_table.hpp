// Fills a KernelTable from the kernel templates for one xsimd architecture.
#pragma once

#include "clipcaer/kernels/impl/attention.hpp"
#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/gemm_f32.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
KernelTable make_table(const char* name) {
  using E = Elementwise<Arch>;
  using G = GemmF32<Arch>;
  using A = AttentionF32<Arch>;
  KernelTable t{};
  t.name = name;
  t.pack_weights = [](const float* w, std::size_t n, std::size_t k, WeightType type, PackedMatrix& out) {
    G::pack(w, n, k, type, out);
  };
  t.gemm = &G::gemm;
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
