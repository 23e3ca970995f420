// A GPU GEMM as the image tower asks for it (row-major, like the rest of
// clipcaer), and the column-major call cuBLAS gets for it. The emulated
// device runs the column-major call through a plain BLAS-definition GEMM, so
// the parity tests check the very arguments the CUDA backend passes.
#pragma once

#include <climits>
#include <algorithm>
#include <cstddef>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::gpu {

// C = alpha * A * op(B) + beta * C, row-major, batch times at the strides
// (in floats). A is m x k (lda); B is k x n (ldb), or n x k with
// b_transposed (a Linear weight, out x in: C = A * B^T).
struct GemmArgs {
  std::size_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  std::size_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  std::size_t ldb = 0, stride_b = 0;
  bool b_transposed = false;
  float* c = nullptr;
  std::size_t ldc = 0, stride_c = 0;
  std::size_t batch = 1;
  float alpha = 1.0f, beta = 0.0f;
};

// cublasSgemmStridedBatched's arguments (column-major).
struct ColumnMajorGemm {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int lda = 0;
  long long stride_a = 0;
  const float* b = nullptr;
  int ldb = 0;
  long long stride_b = 0;
  float* c = nullptr;
  int ldc = 0;
  long long stride_c = 0;
  int batch = 1;
  float alpha = 1.0f, beta = 0.0f;
};

inline int gemm_int(std::size_t v, const char* what) {
  require(v <= static_cast<std::size_t>(INT_MAX), ErrorCode::invalid_argument, "GPU GEMM: ", what, " = ", v,
          " does not fit cuBLAS's int");
  return static_cast<int>(v);
}

// Row-major C (m x n) = A * op(B) is column-major C^T (n x m) = op(B)^T * A^T:
// the same memory read with the operands swapped. Row-major B (k x n, ldb)
// read column-major is B^T (n x k): no transpose; row-major n x k read
// column-major is k x n: transpose. Row-major A (m x k) read column-major is
// A^T (k x m), as needed.
inline ColumnMajorGemm to_column_major(const GemmArgs& g) {
  ColumnMajorGemm c;
  c.trans_a = g.b_transposed;
  c.trans_b = false;
  c.m = gemm_int(g.n, "n");
  c.n = gemm_int(g.m, "m");
  c.k = gemm_int(g.k, "k");
  c.a = g.b;
  c.lda = gemm_int(g.ldb, "ldb");
  c.stride_a = static_cast<long long>(g.stride_b);
  c.b = g.a;
  c.ldb = gemm_int(g.lda, "lda");
  c.stride_b = static_cast<long long>(g.stride_a);
  c.c = g.c;
  c.ldc = gemm_int(g.ldc, "ldc");
  c.stride_c = static_cast<long long>(g.stride_c);
  c.batch = gemm_int(g.batch, "batch");
  c.alpha = g.alpha;
  c.beta = g.beta;
  return c;
}

// The checks cuBLAS makes (CUBLAS_STATUS_INVALID_VALUE), as clear errors:
// leading dimensions at least the stored rows of each operand.
inline void check_column_major(const ColumnMajorGemm& g) {
  const int rows_a = g.trans_a ? g.k : g.m, rows_b = g.trans_b ? g.n : g.k;
  require(g.m >= 0 && g.n >= 0 && g.k >= 0 && g.batch >= 0, ErrorCode::invalid_argument,
          "GPU GEMM: negative size");
  require(g.lda >= (rows_a > 1 ? rows_a : 1), ErrorCode::invalid_argument, "GPU GEMM: lda ", g.lda, " < ", rows_a);
  require(g.ldb >= (rows_b > 1 ? rows_b : 1), ErrorCode::invalid_argument, "GPU GEMM: ldb ", g.ldb, " < ", rows_b);
  require(g.ldc >= (g.m > 1 ? g.m : 1), ErrorCode::invalid_argument, "GPU GEMM: ldc ", g.ldc, " < ", g.m);
}

// op(B)(p, j) of a column-major call.
inline float b_at(const ColumnMajorGemm& g, const float* b, long long p, long long j) {
  return g.trans_b ? b[j + p * g.ldb] : b[p + j * g.ldb];
}

// BLAS's definition, column-major: C(i, j) = alpha * sum_p op(A)(i, p) *
// op(B)(p, j) + beta * C(i, j); op(X)(r, c) is X[r + c*ld], or X[c + r*ld]
// transposed. beta == 0 overwrites C without reading it (as cuBLAS does).
// Loops ordered so the innermost one runs over contiguous memory (the
// emulated device runs full-size models through it).
inline void column_major_gemm_reference(const ColumnMajorGemm& g) {
  check_column_major(g);
  std::vector<float> col(static_cast<std::size_t>(g.m));
  for (long long bi = 0; bi < g.batch; ++bi) {
    const float* a = g.a + bi * g.stride_a;
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    for (long long j = 0; j < g.n; ++j) {
      if (g.trans_a) {  // op(A) row i is contiguous: one dot product per (i, j)
        for (long long i = 0; i < g.m; ++i) {
          const float* ar = a + i * g.lda;
          float acc[4] = {0, 0, 0, 0};
          long long p = 0;
          for (; p + 4 <= g.k; p += 4)
            for (int u = 0; u < 4; ++u) acc[u] += ar[p + u] * b_at(g, b, p + u, j);
          for (; p < g.k; ++p) acc[0] += ar[p] * b_at(g, b, p, j);
          col[static_cast<std::size_t>(i)] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
      } else {  // op(A) column p is contiguous: C(:, j) += A(:, p) * B(p, j)
        std::fill(col.begin(), col.end(), 0.0f);
        for (long long p = 0; p < g.k; ++p) {
          const float bv = b_at(g, b, p, j);
          const float* ac = a + p * g.lda;
          for (long long i = 0; i < g.m; ++i) col[static_cast<std::size_t>(i)] += ac[i] * bv;
        }
      }
      float* cc = c + j * g.ldc;
      for (long long i = 0; i < g.m; ++i)
        cc[i] = g.beta == 0.0f ? g.alpha * col[static_cast<std::size_t>(i)]
                               : g.alpha * col[static_cast<std::size_t>(i)] + g.beta * cc[i];
    }
  }
}

}  // namespace clipcaer::gpu
