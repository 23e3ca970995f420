// How a CPU runs a Haar cascade over a row of detection windows
// (KernelTable::haar_row; detect/cascade.hpp decides what is evaluated where).
// The arithmetic is OpenCV 4.6's (HaarEvaluator, predictOrdered): 32-bit
// wrapping corner sums, float feature values with every product rounded on
// its own (OpenCV's x86-64 build has no FMA), double stage sums, the variance
// normalisation in double. The AVX2 form runs 8 neighbouring windows in the
// lanes of one register, each lane the scalar form's operations in its order,
// so both give the same windows (tested against each other and against cv2).
#pragma once

#include <cmath>
#include <cstdint>

#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

namespace haar {

// A product kept from fusing with the add that uses it (these tables are
// built with FMA, OpenCV's scalar code without).
template <class T>
inline T unfused(T v) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(v));
  return v;
#else
  volatile T kept = v;
  return kept;
#endif
}

inline std::int32_t corner_sum(const std::uint32_t* p, const int* o) noexcept {
  return static_cast<std::int32_t>(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

// HaarEvaluator::setWindow: false rejects a flat window.
inline bool variance_norm(const HaarRowArgs& a, const std::uint32_t* win, const std::uint32_t* sq,
                          float& norm) noexcept {
  const std::int32_t valsum = corner_sum(win, a.norm_ofs);
  const auto valsqsum = static_cast<std::uint32_t>(corner_sum(sq, a.norm_ofs));
  double nf = unfused(a.norm_area * valsqsum) - unfused(static_cast<double>(valsum) * valsum);
  if (nf > 0.) {
    nf = std::sqrt(nf);
    norm = static_cast<float>(1. / nf);
    return a.norm_area * norm < 1e-1;
  }
  norm = 1.f;
  return false;
}

inline float feature_value(const HaarFeatureOffsets& f, const std::uint32_t* win, float norm) noexcept {
  float v = unfused(f.weight[0] * static_cast<float>(corner_sum(win, f.ofs))) +
            unfused(f.weight[1] * static_cast<float>(corner_sum(win, f.ofs + 4)));
  if (f.weight[2] != 0.0f) v += unfused(f.weight[2] * static_cast<float>(corner_sum(win, f.ofs + 8)));
  return v * norm;
}

// Where the next stage's trees, nodes and leaves start.
struct Cursor {
  std::size_t tree = 0, node = 0, leaf = 0;
};

// One window through every stage: 1 accepted, -k rejected by stage k (0 the first).
inline int run_window(const HaarRowArgs& a, const std::uint32_t* win, float norm) noexcept {
  Cursor c;
  for (std::size_t si = 0; si < a.num_stages; ++si) {
    const HaarStage& stage = a.stages[si];
    double total = 0;
    for (int t = 0; t < stage.num_trees; ++t, ++c.tree) {
      const int count = a.tree_sizes[c.tree];
      int idx = 0;
      do {
        const HaarNode& node = a.nodes[c.node + static_cast<std::size_t>(idx)];
        idx = feature_value(a.features[node.feature], win, norm) < node.threshold ? node.left : node.right;
      } while (idx > 0);
      total += a.leaves[c.leaf + static_cast<std::size_t>(-idx)];
      c.node += static_cast<std::size_t>(count);
      c.leaf += static_cast<std::size_t>(count) + 1;
    }
    if (total < stage.threshold) return -static_cast<int>(si);
  }
  return 1;
}

inline int row_scalar(const HaarRowArgs& a, int* accepted) noexcept {
  int n = 0;
  for (int i = 0; i < a.windows; ++i) {
    float norm = 1.f;
    const int r = variance_norm(a, a.sum + i, a.sq + i, norm) ? run_window(a, a.sum + i, norm) : -1;
    if (r > 0) accepted[n++] = i;
    if (r == 0) ++i;  // rejected by the first stage: the next window is skipped
  }
  return n;
}

#if defined(__AVX2__)
// 8 windows side by side: lane l is window i0 + l.
struct Lanes8 {
  static __m256i load(const std::uint32_t* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static __m256i corner_sum(const std::uint32_t* p, const int* o) noexcept {
    __m256i s = _mm256_sub_epi32(load(p + o[0]), load(p + o[1]));
    s = _mm256_sub_epi32(s, load(p + o[2]));
    return _mm256_add_epi32(s, load(p + o[3]));
  }
  // Lanes passing the variance test (bits) and their norm factors.
  static int variance_norm(const HaarRowArgs& a, const std::uint32_t* win, const std::uint32_t* sq,
                           __m256& norm) noexcept {
    const __m256i s = corner_sum(win, a.norm_ofs), q = corner_sum(sq, a.norm_ofs);
    const __m256d area = _mm256_set1_pd(a.norm_area), two32 = _mm256_set1_pd(4294967296.0),
                  zero = _mm256_setzero_pd(), tenth = _mm256_set1_pd(1e-1);
    auto half = [&](__m128i sh, __m128i qh, __m128& nh) {
      const __m256d sd = _mm256_cvtepi32_pd(sh);
      __m256d qd = _mm256_cvtepi32_pd(qh);  // as unsigned: + 2^32 where the int is negative
      qd = _mm256_add_pd(qd, _mm256_and_pd(_mm256_cmp_pd(qd, zero, _CMP_LT_OQ), two32));
      const __m256d nf = _mm256_sub_pd(unfused(_mm256_mul_pd(area, qd)), unfused(_mm256_mul_pd(sd, sd)));
      const __m256d positive = _mm256_cmp_pd(nf, zero, _CMP_GT_OQ);
      nh = _mm256_cvtpd_ps(_mm256_div_pd(_mm256_set1_pd(1.0), _mm256_sqrt_pd(nf)));
      const __m256d flat = _mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(nh)), tenth, _CMP_LT_OQ);
      return _mm256_movemask_pd(_mm256_and_pd(positive, flat));
    };
    __m128 lo, hi;
    const int pass = half(_mm256_castsi256_si128(s), _mm256_castsi256_si128(q), lo) |
                     half(_mm256_extracti128_si256(s, 1), _mm256_extracti128_si256(q, 1), hi) << 4;
    norm = _mm256_set_m128(hi, lo);
    return pass;
  }
  static __m256 feature_value(const HaarFeatureOffsets& f, const std::uint32_t* win, __m256 norm) noexcept {
    auto term = [&](int r) {
      return unfused(_mm256_mul_ps(_mm256_set1_ps(f.weight[r]), _mm256_cvtepi32_ps(corner_sum(win, f.ofs + 4 * r))));
    };
    __m256 v = _mm256_add_ps(term(0), term(1));
    if (f.weight[2] != 0.0f) v = _mm256_add_ps(v, term(2));
    return _mm256_mul_ps(v, norm);
  }
  // The leaf each lane's walk down one tree ends at.
  static __m256 tree(const HaarRowArgs& a, const Cursor& c, int count, const std::uint32_t* win, __m256 norm) noexcept {
    const HaarNode* nodes = a.nodes + c.node;
    const float* leaves = a.leaves + c.leaf;
    if (count == 1) {  // a stump: both children are leaves
      const __m256 lt = _mm256_cmp_ps(feature_value(a.features[nodes[0].feature], win, norm),
                                      _mm256_set1_ps(nodes[0].threshold), _CMP_LT_OQ);
      return _mm256_blendv_ps(_mm256_set1_ps(leaves[-nodes[0].right]), _mm256_set1_ps(leaves[-nodes[0].left]), lt);
    }
    // Children come after their parent, so one pass over the nodes in order
    // moves every lane down to its leaf; a node no lane is at costs a compare.
    __m256i idx = _mm256_setzero_si256();
    for (int k = 0; k < count; ++k) {
      const __m256i at = _mm256_cmpeq_epi32(idx, _mm256_set1_epi32(k));
      if (_mm256_testz_si256(at, at)) continue;
      const HaarNode& node = nodes[k];
      const __m256 lt = _mm256_cmp_ps(feature_value(a.features[node.feature], win, norm),
                                      _mm256_set1_ps(node.threshold), _CMP_LT_OQ);
      const __m256i next = _mm256_blendv_epi8(_mm256_set1_epi32(node.right), _mm256_set1_epi32(node.left),
                                              _mm256_castps_si256(lt));
      idx = _mm256_blendv_epi8(idx, next, at);
    }
    __m256 leaf = _mm256_set1_ps(leaves[0]);
    for (int j = 1; j <= count; ++j)
      leaf = _mm256_blendv_ps(leaf, _mm256_set1_ps(leaves[j]),
                              _mm256_castsi256_ps(_mm256_cmpeq_epi32(idx, _mm256_set1_epi32(-j))));
    return leaf;
  }
  // One stage for all lanes; returns the lanes it accepts (bits). Advances c.
  static int stage(const HaarRowArgs& a, std::size_t si, Cursor& c, const std::uint32_t* win, __m256 norm) noexcept {
    const HaarStage& st = a.stages[si];
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (int t = 0; t < st.num_trees; ++t, ++c.tree) {
      const int count = a.tree_sizes[c.tree];
      const __m256 leaf = tree(a, c, count, win, norm);
      lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
      hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(leaf, 1)));
      c.node += static_cast<std::size_t>(count);
      c.leaf += static_cast<std::size_t>(count) + 1;
    }
    const __m256d thr = _mm256_set1_pd(static_cast<double>(st.threshold));
    const int below = _mm256_movemask_pd(_mm256_cmp_pd(lo, thr, _CMP_LT_OQ)) |
                      _mm256_movemask_pd(_mm256_cmp_pd(hi, thr, _CMP_LT_OQ)) << 4;
    return ~below & 0xff;
  }

  static int row(const HaarRowArgs& a, int* accepted) noexcept {
    int n = 0;
    bool skip = false;  // the last window visited was rejected by the first stage
    for (int i0 = 0; i0 < a.windows; i0 += 8) {
      const int lanes = a.windows - i0 < 8 ? a.windows - i0 : 8;
      const std::uint32_t* win = a.sum + i0;
      __m256 norm;
      const int pass = variance_norm(a, win, a.sq + i0, norm) & ((1 << lanes) - 1);
      Cursor c;
      const int first = pass ? stage(a, 0, c, win, norm) & pass : 0;
      // Which windows OpenCV's scan visits: all but those after a window the
      // first stage rejected (having passed the variance test).
      int visited = 0;
      for (int l = 0; l < lanes; ++l) {
        if (skip) {
          skip = false;
          continue;
        }
        visited |= 1 << l;
        skip = ((pass & ~first) >> l) & 1;
      }
      int alive = visited & first;
      for (std::size_t si = 1; si < a.num_stages && alive; ++si) alive &= stage(a, si, c, win, norm);
      for (int l = 0; l < lanes; ++l)
        if ((alive >> l) & 1) accepted[n++] = i0 + l;
    }
    return n;
  }
};
#endif

}  // namespace haar

template <class Arch>
struct HaarCascade {
  static int row(const HaarRowArgs& a, int* accepted) noexcept {
#if defined(__AVX2__)
    return haar::Lanes8::row(a, accepted);
#else
    return haar::row_scalar(a, accepted);
#endif
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
