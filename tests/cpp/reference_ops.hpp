// Plain double-precision reference implementations the kernels are tested against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "clipcaer/core/dtype.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::test {

inline double ref_activation(double x, kernels::Activation act) {
  switch (act) {
    case kernels::Activation::quick_gelu: return x / (1.0 + std::exp(-1.702 * x));
    case kernels::Activation::gelu_tanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case kernels::Activation::none: break;
  }
  return x;
}

// y[m x n] = act(x[m x k] W[n x k]^T + b) + residual
inline std::vector<double> ref_linear(const std::vector<float>& x, const std::vector<float>& w, const float* bias,
                                      std::size_t m, std::size_t n, std::size_t k, kernels::Activation act,
                                      const std::vector<float>* residual) {
  std::vector<double> y(m * n);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = bias ? bias[j] : 0.0;
      for (std::size_t kk = 0; kk < k; ++kk) s += static_cast<double>(x[i * k + kk]) * w[j * k + kk];
      s = ref_activation(s, act);
      if (residual) s += (*residual)[i * n + j];
      y[i * n + j] = s;
    }
  return y;
}

// What a reduced-precision GEMM multiplies, per row of `rows` x `cols`
// values, by the rules of docs/performance.md "Reduced precision" (written out
// independently of the kernels): bf16 rounds to nearest even; int8 scales
// each row by max|x| / 127 and rounds x * 127 / max|x| to an integer.
inline std::vector<float> ref_effective(const std::vector<float>& x, std::size_t rows, std::size_t cols,
                                        kernels::WeightType type) {
  std::vector<float> out(x);
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = out.data() + r * cols;
    if (type == kernels::WeightType::bf16) {
      for (std::size_t c = 0; c < cols; ++c) row[c] = bf16_to_float(float_to_bf16(row[c]));
    } else if (type == kernels::WeightType::i8) {
      float amax = 0.0f;
      for (std::size_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f, scale = amax / 127.0f;
      for (std::size_t c = 0; c < cols; ++c) row[c] = static_cast<float>(std::nearbyint(row[c] * inv) * double(scale));
    }
  }
  return out;
}

inline std::vector<double> ref_layer_norm(const std::vector<float>& x, std::size_t rows, std::size_t dim,
                                          const std::vector<float>& g, const std::vector<float>& b, double eps) {
  std::vector<double> y(rows * dim);
  for (std::size_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < dim; ++i) mean += x[r * dim + i];
    mean /= dim;
    for (std::size_t i = 0; i < dim; ++i) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
    var /= dim;
    for (std::size_t i = 0; i < dim; ++i) y[r * dim + i] = (x[r * dim + i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
  }
  return y;
}

// One head: q, k, v are seq x d row-major. round_p: exp(s - max) rounded to
// bf16 before it weighs v, the sum of the unrounded exps as the divisor (int8
// models' attention on AVX512_BF16 tables, AttentionArgs::bf16; the caller
// rounds q, k and v).
inline std::vector<double> ref_attention(const std::vector<float>& q, const std::vector<float>& k,
                                         const std::vector<float>& v, std::size_t seq, std::size_t d, double scale,
                                         bool causal, bool round_p = false) {
  std::vector<double> out(seq * d, 0.0);
  for (std::size_t i = 0; i < seq; ++i) {
    std::size_t keys = causal ? i + 1 : seq;
    std::vector<double> s(keys);
    double mx = -1e300;
    for (std::size_t j = 0; j < keys; ++j) {
      double dot = 0;
      for (std::size_t c = 0; c < d; ++c) dot += static_cast<double>(q[i * d + c]) * k[j * d + c];
      s[j] = dot * scale;
      mx = std::max(mx, s[j]);
    }
    double total = 0;
    for (auto& e : s) total += (e = std::exp(e - mx));
    for (std::size_t j = 0; j < keys; ++j) {
      const double p = round_p ? bf16_to_float(float_to_bf16(static_cast<float>(s[j]))) : s[j];
      for (std::size_t c = 0; c < d; ++c) out[i * d + c] += p / total * v[j * d + c];
    }
  }
  return out;
}

}  // namespace clipcaer::test
