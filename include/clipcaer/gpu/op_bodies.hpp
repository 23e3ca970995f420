// The image tower's non-GEMM steps on a GPU device, one struct per op. An
// element op says what one GPU thread computes for index i of count(); a
// row op (LayerNorm, softmax) says what each lane of the warp that owns a
// row computes, phase by phase. The CUDA backend runs them as kernels; the
// emulated device (emulated_device.hpp) loops over indices and lanes on the
// host. Both run this very code, so the emulated parity tests check the
// CUDA backend's math and indexing. Kept free of the standard library: it
// compiles under nvcc.
#pragma once

#include <math.h>
#include <stddef.h>

#if defined(__CUDACC__)
#define CLIPCAER_HD __host__ __device__
#else
#define CLIPCAER_HD
#endif

namespace clipcaer::gpu {

// Each op lists its device pointers for the emulated device's checks.
#define CLIPCAER_GPU_POINTERS(...) \
  template <class F>               \
  void pointers(F&& f) const {     \
    f(__VA_ARGS__);                \
  }

enum class GpuActivation : int { none = 0, quick_gelu = 1 };

// One im2col row of 3*P*P pixels (c, ky, kx) per patch: (n, G*G, 3*P*P)
// from (n, 3, S, S), as conv1's (W, 3, P, P) weight reads them.
struct Im2colOp {
  const float* images;
  float* cols;
  size_t n, image_size, patch, grid;
  CLIPCAER_HD size_t count() const { return n * grid * grid * 3 * patch * patch; }
  CLIPCAER_HD void operator()(size_t i) const {
    const size_t kdim = 3 * patch * patch, patches = grid * grid;
    const size_t col = i % kdim, row = i / kdim;
    const size_t img = row / patches, p = row % patches, gy = p / grid, gx = p % grid;
    const size_t c = col / (patch * patch), ky = (col / patch) % patch, kx = col % patch;
    cols[i] = images[((img * 3 + c) * image_size + gy * patch + ky) * image_size + gx * patch + kx];
  }
  CLIPCAER_GPU_POINTERS(images, cols)
};

// x (n, tokens, w) = [class_embedding, patch rows...] + positional_embedding.
struct EmbedTokensOp {
  const float* patches;  // (n, tokens - 1, w)
  const float* class_embedding;
  const float* positional;  // (tokens, w)
  float* x;
  size_t n, tokens, width;
  CLIPCAER_HD size_t count() const { return n * tokens * width; }
  CLIPCAER_HD void operator()(size_t i) const {
    const size_t c = i % width, t = (i / width) % tokens, img = i / (width * tokens);
    const float v = t == 0 ? class_embedding[c] : patches[(img * (tokens - 1) + t - 1) * width + c];
    x[i] = v + positional[t * width + c];
  }
  CLIPCAER_GPU_POINTERS(patches, class_embedding, positional, x)
};

// Row ops run one warp of kWarpLanes lanes per row: each lane takes
// columns lane, lane + 32, ...; lane partials are combined by a butterfly
// (warp_sum / warp_max: shuffles on the GPU, warp_*_emulated on the host, in
// the same order). A row op is three phases: a = reduce(part1) (a max if
// kFirstIsMax, else a sum), b = sum(part2(a)), part3(a, b); the drivers (the
// CUDA kernel and EmulatedDevice) call them with the reductions between.
constexpr unsigned kWarpLanes = 32;

// The butterfly a warp's __shfl_xor_sync reduction computes, on the host:
// after it every lane holds the same value.
inline void warp_sum_emulated(float (&v)[kWarpLanes]) {
  for (unsigned o = kWarpLanes / 2; o > 0; o /= 2) {
    float next[kWarpLanes];
    for (unsigned l = 0; l < kWarpLanes; ++l) next[l] = v[l] + v[l ^ o];
    for (unsigned l = 0; l < kWarpLanes; ++l) v[l] = next[l];
  }
}
inline void warp_max_emulated(float (&v)[kWarpLanes]) {
  for (unsigned o = kWarpLanes / 2; o > 0; o /= 2) {
    float next[kWarpLanes];
    for (unsigned l = 0; l < kWarpLanes; ++l) next[l] = v[l] > v[l ^ o] ? v[l] : v[l ^ o];
    for (unsigned l = 0; l < kWarpLanes; ++l) v[l] = next[l];
  }
}

// LayerNorm of each row (two passes, as PyTorch's float32 LayerNorm):
// sum = warp_sum(part1); sq = warp_sum(part2(sum)) (squares about the mean);
// part3 writes the row.
struct LayerNormOp {
  static constexpr bool kFirstIsMax = false;
  const float* x;
  float* y;
  const float* gamma;
  const float* beta;
  size_t rows, width;
  size_t ldx, ldy;
  float eps;
  CLIPCAER_HD float part1(size_t r, unsigned lane) const {
    float s = 0;
    for (size_t c = lane; c < width; c += kWarpLanes) s += x[r * ldx + c];
    return s;
  }
  CLIPCAER_HD float part2(size_t r, unsigned lane, float sum) const {
    const float mean = sum / static_cast<float>(width);
    float s = 0;
    for (size_t c = lane; c < width; c += kWarpLanes) s += (x[r * ldx + c] - mean) * (x[r * ldx + c] - mean);
    return s;
  }
  CLIPCAER_HD void part3(size_t r, unsigned lane, float sum, float sq) const {
    const float mean = sum / static_cast<float>(width);
    const float inv = 1.0f / sqrtf(sq / static_cast<float>(width) + eps);
    for (size_t c = lane; c < width; c += kWarpLanes) y[r * ldy + c] = (x[r * ldx + c] - mean) * inv * gamma[c] + beta[c];
  }
  CLIPCAER_GPU_POINTERS(x, y, gamma, beta)
};

// out (rows, cols) = act(in + bias[col]) (+ residual): a GEMM's epilogue.
// out may be in or residual (same index read then written).
struct BiasActOp {
  const float* in;
  const float* bias;      // cols, or null
  const float* residual;  // rows x cols, or null
  float* out;
  size_t rows, cols;
  GpuActivation act;
  CLIPCAER_HD size_t count() const { return rows * cols; }
  CLIPCAER_HD void operator()(size_t i) const {
    float v = in[i];
    if (bias) v += bias[i % cols];
    if (act == GpuActivation::quick_gelu) v = v / (1.0f + expf(-1.702f * v));
    if (residual) v += residual[i];
    out[i] = v;
  }
  CLIPCAER_GPU_POINTERS(in, bias, residual, out)
};

// qkv (batch, seq, 3, heads, head_dim) -> q, k, v each (batch, heads, seq,
// head_dim): every (sequence, head) contiguous for strided batched GEMMs.
struct SplitHeadsOp {
  const float* qkv;
  float* q;
  float* k;
  float* v;
  size_t batch, seq, heads, head_dim;
  CLIPCAER_HD size_t count() const { return batch * seq * 3 * heads * head_dim; }
  CLIPCAER_HD void operator()(size_t i) const {
    const size_t d = i % head_dim, h = (i / head_dim) % heads, which = (i / (head_dim * heads)) % 3;
    const size_t s = (i / (head_dim * heads * 3)) % seq, b = i / (head_dim * heads * 3 * seq);
    float* dst = which == 0 ? q : which == 1 ? k : v;
    dst[((b * heads + h) * seq + s) * head_dim + d] = qkv[i];
  }
  CLIPCAER_GPU_POINTERS(qkv, q, k, v)
};

// Softmax of each row in place (scores already scaled): m = warp_max(part1);
// sum = warp_sum(part2(m)), which stores exp(x - m); part3 scales by 1 / sum.
struct SoftmaxRowsOp {
  static constexpr bool kFirstIsMax = true;
  float* x;
  size_t rows, cols;
  CLIPCAER_HD float part1(size_t r, unsigned lane) const {
    float m = -INFINITY;
    for (size_t c = lane; c < cols; c += kWarpLanes) m = x[r * cols + c] > m ? x[r * cols + c] : m;
    return m;
  }
  CLIPCAER_HD float part2(size_t r, unsigned lane, float m) const {
    float s = 0;
    for (size_t c = lane; c < cols; c += kWarpLanes) {
      const float e = expf(x[r * cols + c] - m);
      x[r * cols + c] = e;
      s += e;
    }
    return s;
  }
  CLIPCAER_HD void part3(size_t r, unsigned lane, float, float sum) const {
    const float inv = 1.0f / sum;
    for (size_t c = lane; c < cols; c += kWarpLanes) x[r * cols + c] *= inv;
  }
  CLIPCAER_GPU_POINTERS(x)
};

// o (batch, heads, seq, head_dim) -> out (batch, seq, heads * head_dim).
struct MergeHeadsOp {
  const float* o;
  float* out;
  size_t batch, seq, heads, head_dim;
  CLIPCAER_HD size_t count() const { return batch * seq * heads * head_dim; }
  CLIPCAER_HD void operator()(size_t i) const {
    const size_t d = i % head_dim, h = (i / head_dim) % heads, s = (i / (head_dim * heads)) % seq;
    const size_t b = i / (head_dim * heads * seq);
    out[i] = o[((b * heads + h) * seq + s) * head_dim + d];
  }
  CLIPCAER_GPU_POINTERS(o, out)
};

#undef CLIPCAER_GPU_POINTERS

}  // namespace clipcaer::gpu
