// The contract between model code and CPU kernels: a table of function
// pointers, one table per instruction set. Model code (nn/, models/) only
// calls through a table; kernels/impl/ holds the templates that fill one.
// Tables are picked at run time (dispatch.hpp), so one binary runs on AVX2
// and AVX-512 machines alike.
#pragma once

#include <cstddef>
#include <cstdint>

#include "clipcaer/core/aligned_buffer.hpp"

namespace clipcaer::kernels {

enum class Activation : int { none = 0, quick_gelu = 1, gelu_tanh = 2 };

// Storage type of packed weights. Activations are always float.
enum class WeightType : int { f32 = 0, bf16 = 1, i8 = 2 };

inline const char* weight_type_name(WeightType t) noexcept {
  switch (t) {
    case WeightType::f32: return "float32";
    case WeightType::bf16: return "bfloat16";
    case WeightType::i8: return "int8";
  }
  return "?";
}

struct KernelTable;

// A Linear layer's weight W (n x k, PyTorch layout, y = x W^T + b) repacked
// once, at load, into the layout of the table that packed it.
struct PackedMatrix {
  std::size_t n = 0;
  std::size_t k = 0;
  WeightType type = WeightType::f32;
  AlignedBuffer<unsigned char> data;  // layout private to `packer` (int8: scales and sums too)
  const KernelTable* packer = nullptr;
};

// C[m x n] = act(A[m x k] * W^T + bias) + residual, row-major with leading dims.
// residual may equal c (in-place residual add); a must not overlap c.
struct GemmArgs {
  const float* a = nullptr;
  std::size_t lda = 0;
  const PackedMatrix* b = nullptr;
  const float* bias = nullptr;  // b->n floats or null
  Activation act = Activation::none;
  const float* residual = nullptr;  // null or m x n with leading dim ldr
  std::size_t ldr = 0;
  float* c = nullptr;
  std::size_t ldc = 0;
  std::size_t m = 0;
};

// One attention head over one sequence: out_i = sum_j softmax_j(scale q_i.k_j) v_j,
// j <= i when causal. Rows of q, k, v, out are head_dim floats at the given strides.
struct AttentionArgs {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  std::size_t ld_qkv = 0;  // stride between consecutive tokens in q, k and v
  float* out = nullptr;
  std::size_t ld_out = 0;
  std::size_t seq_len = 0;
  std::size_t head_dim = 0;
  float scale = 1.0f;
  bool causal = false;
  // Query rows computed: [0, queries) of q and out, against every key; 0
  // means all seq_len. A tower's last block only needs its first token's row.
  std::size_t queries = 0;
  float* scratch = nullptr;  // at least attention_scratch_floats(seq_len, head_dim) floats
  // Optional hint: q of the head this thread runs next (same strides and
  // shape, k and v at the same offsets from q as here). The kernel pulls its
  // rows toward the cache while computing this head. Never dereferenced for
  // results; null means none.
  const float* next_q = nullptr;
  // int8 models: Q K^T and P V as bf16 dot products (Q, K, V and P rounded
  // to bf16, float sums) where the table's attention_bf16 says so and
  // head_dim is a multiple of 32; float32 otherwise.
  bool bf16 = false;
};

// A Haar cascade (detect/cascade.hpp) over one row of detection windows of
// one pyramid scale. The caller lays the integral images out so that window
// i's top-left corner is sum[i] / sq[i] (at a step of 2, the even and odd
// columns in two planes), and gives every feature's corners as offsets from
// there. Both arrays must be readable kHaarRowPadding elements past the
// highest corner of the last window: kernels evaluate windows in blocks.
struct HaarStage {
  int first_tree = 0, num_trees = 0;
  float threshold = 0;  // already less OpenCV's THRESHOLD_EPS
};
struct HaarNode {
  int feature = 0;
  float threshold = 0;
  int left = 0, right = 0;  // > 0: a later node of the same tree; <= 0: leaf -value
};
struct HaarFeatureOffsets {
  int ofs[12];  // up to 3 rectangles x 4 corners
  float weight[3];  // weight[2] == 0: two rectangles
};
constexpr std::size_t kHaarRowPadding = 16;
struct HaarRowArgs {
  const HaarStage* stages = nullptr;
  std::size_t num_stages = 0;
  const int* tree_sizes = nullptr;  // nodes per tree, all stages' trees in order
  const HaarNode* nodes = nullptr;  // every tree's nodes, in order
  const float* leaves = nullptr;    // every tree's leaves (nodes + 1 each), in order
  const HaarFeatureOffsets* features = nullptr;
  const std::uint32_t* sum = nullptr;  // integral image at window 0's corner (32-bit, wrapping)
  const std::uint32_t* sq = nullptr;   // integral of squares, same layout
  int norm_ofs[4] = {0, 0, 0, 0};      // the variance rectangle's corners (OpenCV's window less a 1-pixel border)
  double norm_area = 0;
  int windows = 0;
};

struct KernelTable {
  const char* name;  // "avx512", "avx2", "sse2", ... as in CLIPCAER_ISA

  // --- GEMM ---------------------------------------------------------------
  // Packs w (n x k row-major). Throws clipcaer::Error if `type` is unsupported.
  void (*pack_weights)(const float* w, std::size_t n, std::size_t k, WeightType type, PackedMatrix& out);
  // Computes the block rows [m0, m1) x columns [n0, n1) of GemmArgs. Callers
  // split columns on multiples of gemm_n_step (n1 may also be n); rows may be
  // split anywhere. Results are bitwise independent of the split (the K loop
  // order never changes). Thread-safe; uses a per-thread scratch buffer.
  void (*gemm)(const GemmArgs& args, std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1);
  std::size_t gemm_m_step;  // rows per cache block: a thread's row range should be at least this
  std::size_t gemm_n_step;  // column split granularity (packed panel width)
  std::size_t gemm_mr;      // register tile rows: row splits on multiples of it keep tiles full

  // --- attention -------------------------------------------------------------
  void (*attention)(const AttentionArgs& args);
  std::size_t (*attention_scratch_floats)(std::size_t seq_len, std::size_t head_dim);
  bool attention_bf16;  // AttentionArgs::bf16 runs vdpbf16ps (AVX512_BF16 tables)

  // --- element-wise, one call per row range ------------------------------------
  // y[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta, biased variance. y may equal x.
  void (*layer_norm)(const float* x, std::size_t ldx, float* y, std::size_t ldy, std::size_t rows, std::size_t dim,
                     const float* gamma, const float* beta, float eps);
  void (*softmax)(float* x, std::size_t n);                  // in place, max-subtracted
  void (*activate)(float* x, std::size_t n, Activation act);  // in place
  void (*add)(float* y, const float* x, std::size_t n);      // y += x
  void (*scale)(float* x, float s, std::size_t n);           // x *= s
  float (*dot)(const float* a, const float* b, std::size_t n);
  // Any non-finite value in x? (input validation)
  bool (*all_finite)(const float* x, std::size_t n);
  // min and max over x (input validation); n > 0
  void (*min_max)(const float* x, std::size_t n, float* lo, float* hi);

  // --- cascade detection ---------------------------------------------------------
  // OpenCV's Haar evaluation of args.windows windows in order, a window
  // rejected by the first stage skipping the next (as OpenCV's scan does):
  // writes the indices of the windows every stage accepts to `accepted`
  // (room for args.windows), returns how many. Same answers on every table.
  int (*haar_row)(const HaarRowArgs& args, int* accepted);
};

}  // namespace clipcaer::kernels
