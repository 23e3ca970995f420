// One attention head over one sequence, row by row: scores, softmax, sum of V.
#pragma once

#include <cstddef>

#include "clipcaer/kernels/impl/elementwise.hpp"
#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
struct AttentionF32 {
  using B = xsimd::batch<float, Arch>;
  using E = Elementwise<Arch>;
  static constexpr std::size_t W = B::size;

  static std::size_t scratch_floats(std::size_t seq_len, std::size_t /*head_dim*/) { return seq_len; }

  static void run(const AttentionArgs& a) {
    float* scores = a.scratch;
    const std::size_t d = a.head_dim;
    for (std::size_t i = 0; i < a.seq_len; ++i) {
      const float* qi = a.q + i * a.ld_qkv;
      const std::size_t keys = a.causal ? i + 1 : a.seq_len;
      for (std::size_t j = 0; j < keys; ++j) scores[j] = E::dot(qi, a.k + j * a.ld_qkv, d) * a.scale;
      E::softmax(scores, keys);
      float* out = a.out + i * a.ld_out;
      std::size_t c = 0;
      for (; c + W <= d; c += W) {
        B acc(0.0f);
        for (std::size_t j = 0; j < keys; ++j)
          acc = xsimd::fma(B(scores[j]), B::load_unaligned(a.v + j * a.ld_qkv + c), acc);
        acc.store_unaligned(out + c);
      }
      for (; c < d; ++c) {
        float acc = 0.0f;
        for (std::size_t j = 0; j < keys; ++j) acc += scores[j] * a.v[j * a.ld_qkv + c];
        out[c] = acc;
      }
    }
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
