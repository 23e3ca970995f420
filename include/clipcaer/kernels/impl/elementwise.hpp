// Element-wise kernels: LayerNorm, softmax, activations, vector helpers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "clipcaer/kernels/impl/namespace.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {
inline namespace CLIPCAER_KERNEL_NS {

template <class Arch>
struct Elementwise {
  using B = xsimd::batch<float, Arch>;
  static constexpr std::size_t W = B::size;

  // xsimd 8 has no max / min reducers: shuffles per ISA, scalar elsewhere.
  static float hmax(B v) {
#if defined(__AVX512F__)
    if constexpr (W == 16) return _mm512_reduce_max_ps(v);
#endif
#if defined(__AVX__)
    if constexpr (W == 8) return reduce4_max(_mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
#endif
#if defined(__SSE2__)
    if constexpr (W == 4) return reduce4_max(v);
#endif
    alignas(64) float t[W];
    v.store_aligned(t);
    float m = t[0];
    for (std::size_t i = 1; i < W; ++i) m = std::max(m, t[i]);
    return m;
  }
  static float hmin(B v) {
    alignas(64) float t[W];
    v.store_aligned(t);
    float m = t[0];
    for (std::size_t i = 1; i < W; ++i) m = std::min(m, t[i]);
    return m;
  }
#if defined(__SSE2__)
  static float reduce4_max(__m128 m) {
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
  }
#endif

  static float sum(const float* x, std::size_t n) {
    B acc0(0.0f), acc1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      acc0 += B::load_unaligned(x + i);
      acc1 += B::load_unaligned(x + i + W);
    }
    for (; i + W <= n; i += W) acc0 += B::load_unaligned(x + i);
    float s = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) s += x[i];
    return s;
  }

  static void layer_norm(const float* x, std::size_t ldx, float* y, std::size_t ldy, std::size_t rows,
                         std::size_t dim, const float* gamma, const float* beta, float eps) {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * ldx;
      float* yr = y + r * ldy;
      const float mean = sum(xr, dim) / static_cast<float>(dim);
      const B vmean(mean);
      B acc(0.0f);
      std::size_t i = 0;
      for (; i + W <= dim; i += W) {
        B d = B::load_unaligned(xr + i) - vmean;
        acc = xsimd::fma(d, d, acc);
      }
      float var = xsimd::hadd(acc);
      for (; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= static_cast<float>(dim);
      const float inv = 1.0f / std::sqrt(var + eps);
      const B vinv(inv);
      i = 0;
      for (; i + W <= dim; i += W) {
        B d = (B::load_unaligned(xr + i) - vmean) * vinv;
        xsimd::fma(d, B::load_unaligned(gamma + i), B::load_unaligned(beta + i)).store_unaligned(yr + i);
      }
      for (; i < dim; ++i) yr[i] = (xr[i] - mean) * inv * gamma[i] + beta[i];
    }
  }

  // e^x for the activations: 2^n * p(f), degree-6 polynomial on |f| <= 1/2
  // (relative error ~1e-7), x clamped to the normal range. About half the
  // instructions of xsimd::exp, which is exact at the edges (0 for -inf) and
  // stays in use where that matters (softmax).
  static B exp_fast(B x) {
    using I = xsimd::batch<xsimd::as_integer_t<float>, Arch>;
    x = xsimd::min(xsimd::max(x, B(-87.0f)), B(88.0f));
    const B t = x * B(1.44269504088896341f);  // log2(e)
    const B n = xsimd::nearbyint(t);
    const B f = t - n;
    B p(1.5403530393381609e-4f);  // ln(2)^k / k!, k = 6 .. 0
    p = xsimd::fma(p, f, B(1.3333558146428443e-3f));
    p = xsimd::fma(p, f, B(9.6181291076284772e-3f));
    p = xsimd::fma(p, f, B(5.5504108664821580e-2f));
    p = xsimd::fma(p, f, B(2.4022650695910071e-1f));
    p = xsimd::fma(p, f, B(6.9314718055994531e-1f));
    p = xsimd::fma(p, f, B(1.0f));
    const I bits = xsimd::bitwise_cast<I>(p) + (xsimd::to_int(n) << 23);
    return xsimd::bitwise_cast<B>(bits);
  }
  static B quick_gelu(B x) {
#if defined(__AVX512F__)
    if constexpr (W == 16) return B(quick_gelu_avx512(x));
#endif
    // x / d as x * (1/d): approximate reciprocal plus one Newton step (d >= 1 and
    // finite here, so ~1e-7 relative) instead of a division (10+ cycles per zmm).
    const B d = B(1.0f) + exp_fast(x * B(-1.702f));
    const B r = xsimd::reciprocal(d);
    return x * (r * xsimd::fnma(d, r, B(2.0f)));
  }
#if defined(__AVX512F__)
  // The same function in 17 instead of 21 instructions (~20 % less time; it
  // is ~15 % of an int8 c_fc GEMM): one multiply by -1.702 log2(e), 2^t as
  // vscalefps(p(f), n) with a degree-5 polynomial fitted for relative error on
  // f in [-0.5, 0.5] (9e-8, as the degree-6 Taylor one), so no integer
  // exponent arithmetic. t is clamped to [-126, 125]: 1 + 2^t stays finite and
  // its reciprocal normal. Same accuracy as the generic path (tested), other bits.
  static __m512 quick_gelu_avx512(__m512 x) {
    __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(-1.702f * 1.44269504088896341f));
    t = _mm512_min_ps(_mm512_max_ps(t, _mm512_set1_ps(-126.0f)), _mm512_set1_ps(125.0f));
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.326472731307149e-3f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.671512991189957e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550733581185341e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022242426872253e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931470036506653e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    const __m512 d = _mm512_add_ps(_mm512_scalef_ps(p, n), _mm512_set1_ps(1.0f));
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(x, _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f))));
  }
#endif
  static float quick_gelu(float x) { return x / (1.0f + std::exp(-1.702f * x)); }
  static B gelu_tanh(B x) {
    const B k(0.7978845608028654f);  // sqrt(2 / pi)
    B inner = k * xsimd::fma(B(0.044715f) * x, x * x, x);
    return B(0.5f) * x * (B(1.0f) + xsimd::tanh(inner));
  }
  static float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  }
  static B apply(B x, Activation act) {
    switch (act) {
      case Activation::quick_gelu: return quick_gelu(x);
      case Activation::gelu_tanh: return gelu_tanh(x);
      case Activation::none: break;
    }
    return x;
  }
  static float apply(float x, Activation act) {
    switch (act) {
      case Activation::quick_gelu: return quick_gelu(x);
      case Activation::gelu_tanh: return gelu_tanh(x);
      case Activation::none: break;
    }
    return x;
  }

  static void activate(float* x, std::size_t n, Activation act) {
    if (act == Activation::none) return;
    std::size_t i = 0;
    for (; i + W <= n; i += W) apply(B::load_unaligned(x + i), act).store_unaligned(x + i);
    for (; i < n; ++i) x[i] = apply(x[i], act);
  }

  static void softmax(float* x, std::size_t n) {
    if (n == 0) return;
    float mx = x[0];
    std::size_t i = 0;
    if (n >= W) {
      B vmax = B::load_unaligned(x);
      for (i = W; i + W <= n; i += W) vmax = xsimd::max(vmax, B::load_unaligned(x + i));
      mx = hmax(vmax);
    }
    for (; i < n; ++i) mx = std::max(mx, x[i]);
    const B vm(mx);
    B acc(0.0f);
    i = 0;
    for (; i + W <= n; i += W) {
      B e = xsimd::exp(B::load_unaligned(x + i) - vm);
      e.store_unaligned(x + i);
      acc += e;
    }
    float total = xsimd::hadd(acc);
    for (; i < n; ++i) {
      x[i] = std::exp(x[i] - mx);
      total += x[i];
    }
    scale(x, 1.0f / total, n);
  }

  static void add(float* y, const float* x, std::size_t n) {
    std::size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(y + i) + B::load_unaligned(x + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += x[i];
  }

  static void scale(float* x, float s, std::size_t n) {
    const B vs(s);
    std::size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(x + i) * vs).store_unaligned(x + i);
    for (; i < n; ++i) x[i] *= s;
  }

  static float dot(const float* a, const float* b, std::size_t n) {
    B acc0(0.0f), acc1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      acc0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), acc0);
      acc1 = xsimd::fma(B::load_unaligned(a + i + W), B::load_unaligned(b + i + W), acc1);
    }
    for (; i + W <= n; i += W) acc0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), acc0);
    float s = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }

  static bool all_finite(const float* x, std::size_t n) {
    // x - x is 0 for finite x and NaN for inf / NaN; NaN poisons the sum.
    B acc(0.0f);
    std::size_t i = 0;
    for (; i + W <= n; i += W) {
      B v = B::load_unaligned(x + i);
      acc += v - v;
    }
    float s = xsimd::hadd(acc);
    for (; i < n; ++i) s += x[i] - x[i];
    return s == 0.0f;
  }

  static void min_max(const float* x, std::size_t n, float* lo, float* hi) {
    float mn = x[0], mx = x[0];
    std::size_t i = 0;
    if (n >= W) {
      B vmin = B::load_unaligned(x), vmax = vmin;
      for (i = W; i + W <= n; i += W) {
        B v = B::load_unaligned(x + i);
        vmin = xsimd::min(vmin, v);
        vmax = xsimd::max(vmax, v);
      }
      mn = hmin(vmin);
      mx = hmax(vmax);
    }
    for (; i < n; ++i) {
      mn = std::min(mn, x[i]);
      mx = std::max(mx, x[i]);
    }
    *lo = mn;
    *hi = mx;
  }
};

}  // namespace CLIPCAER_KERNEL_NS
}  // namespace clipcaer::kernels
