// The GPU backend: its op bodies against the CPU kernels, its GEMMs'
// cuBLAS arguments against a row-major reference, the whole model on the
// emulated device against the PyTorch goldens, device names and errors;
// and, where a CUDA GPU is present, the same parity on it (ctest
// test_gpu_cuda, skipped without one).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "clipcaer/gpu/emulated_device.hpp"
#include "clipcaer/gpu/open_device.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/model.hpp"
#include "golden_util.hpp"
#include "error_test_util.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using clipcaer::test::Golden;
using clipcaer::test::load_golden;
using clipcaer::test::max_abs_diff;
using clipcaer::test::min_cosine;
using clipcaer::test::contains;
using clipcaer::test::error_of;
using clipcaer::test::message_of;
using clipcaer::test::random_floats;

namespace {

// Host vector <-> device buffer on d.
gpu::DeviceBuffer to_device(gpu::Device& d, const std::vector<float>& v) {
  return gpu::upload_floats(d, v.data(), v.size());
}
std::vector<float> to_host(gpu::Device& d, const gpu::DeviceBuffer& b, std::size_t n) {
  std::vector<float> v(n);
  d.download(v.data(), b.data(), n * sizeof(float));
  return v;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  return max_abs_diff(a.data(), b.data(), a.size());
}

// Row-major C = alpha * A * op(B) + beta * C, batched, in double.
void gemm_row_major_reference(const gpu::GemmArgs& g, const std::vector<float>& a, const std::vector<float>& b,
                              std::vector<float>& c) {
  for (std::size_t bi = 0; bi < g.batch; ++bi)
    for (std::size_t i = 0; i < g.m; ++i)
      for (std::size_t j = 0; j < g.n; ++j) {
        double acc = 0;
        for (std::size_t p = 0; p < g.k; ++p) {
          const double av = a[bi * g.stride_a + i * g.lda + p];
          const double bv = g.b_transposed ? b[bi * g.stride_b + j * g.ldb + p] : b[bi * g.stride_b + p * g.ldb + j];
          acc += av * bv;
        }
        float& out = c[bi * g.stride_c + i * g.ldc + j];
        out = static_cast<float>(g.alpha * acc + (g.beta == 0.0f ? 0.0 : g.beta * static_cast<double>(out)));
      }
}

}  // namespace

TEST_CASE("GPU GEMM: the column-major (cuBLAS) arguments compute the row-major product") {
  gpu::EmulatedDevice d;
  struct Case {
    std::size_t m, n, k, pad, batch;
    bool bt;
    float alpha, beta;
  };
  // Shapes of the tower (Linear, q k^T, p v), padded leading dimensions, batches, alpha and beta.
  const Case cases[] = {{5, 7, 3, 0, 1, true, 1, 0},  {5, 7, 3, 2, 1, false, 1, 0}, {4, 4, 6, 0, 3, true, 0.5f, 0},
                        {4, 6, 4, 1, 3, false, 1, 0}, {1, 9, 8, 3, 1, false, 2, 0}, {6, 5, 4, 0, 2, true, 1, 1}};
  std::uint32_t seed = 1;
  for (const Case& t : cases) {
    INFO("m " << t.m << " n " << t.n << " k " << t.k << " batch " << t.batch << " bt " << t.bt << " beta " << t.beta);
    gpu::GemmArgs g;
    g.m = t.m, g.n = t.n, g.k = t.k, g.batch = t.batch, g.alpha = t.alpha, g.beta = t.beta;
    g.b_transposed = t.bt;
    g.lda = t.k + t.pad;
    g.ldb = (t.bt ? t.k : t.n) + t.pad;
    g.ldc = t.n + t.pad;
    g.stride_a = t.m * g.lda + t.pad;
    g.stride_b = (t.bt ? t.n : t.k) * g.ldb + t.pad;
    g.stride_c = t.m * g.ldc + t.pad;
    std::vector<float> a = random_floats(g.stride_a * t.batch, seed++), b = random_floats(g.stride_b * t.batch, seed++);
    std::vector<float> c = random_floats(g.stride_c * t.batch, seed++), want = c;
    gemm_row_major_reference(g, a, b, want);
    gpu::DeviceBuffer da = to_device(d, a), db = to_device(d, b), dc = to_device(d, c);
    g.a = da.data(), g.b = db.data(), g.c = dc.data();
    d.gemm(g);
    // Padding between rows and batches stays untouched (want keeps c's values there).
    CHECK(max_diff(to_host(d, dc, c.size()), want) <= 1e-5);
  }
}

TEST_CASE("GPU GEMM: the column-major reference follows BLAS's definition for every transpose") {
  const int m = 3, n = 4, k = 5, ld = 7;  // padded leading dimensions
  std::vector<float> a = random_floats(ld * 7, 21), b = random_floats(ld * 7, 22);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("trans_a " << ta << " trans_b " << tb);
      std::vector<float> c(ld * n, 5.0f), want = c;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          double acc = 0;
          for (int p = 0; p < k; ++p)
            acc += static_cast<double>(ta ? a[p + i * ld] : a[i + p * ld]) * (tb ? b[j + p * ld] : b[p + j * ld]);
          want[i + j * ld] = static_cast<float>(2.0 * acc + 0.5 * 5.0);
        }
      gpu::ColumnMajorGemm g;
      g.trans_a = ta, g.trans_b = tb, g.m = m, g.n = n, g.k = k;
      g.a = a.data(), g.b = b.data(), g.c = c.data(), g.lda = g.ldb = g.ldc = ld;
      g.alpha = 2.0f, g.beta = 0.5f;
      gpu::column_major_gemm_reference(g);
      CHECK(max_diff(c, want) <= 1e-5);
    }
}

TEST_CASE("GPU GEMM: leading dimensions cuBLAS would reject are errors") {
  gpu::ColumnMajorGemm g;
  g.m = 4, g.n = 3, g.k = 5, g.lda = 4, g.ldb = 5, g.ldc = 4;
  CHECK_NOTHROW(gpu::check_column_major(g));
  g.trans_a = true;  // A stored k x m: lda >= k
  CHECK(contains(error_of([&] { gpu::check_column_major(g); }).what(), "lda 4 < 5"));
  g.trans_a = false, g.ldc = 3;
  CHECK(contains(error_of([&] { gpu::check_column_major(g); }).what(), "ldc 3 < 4"));
  gpu::GemmArgs big;
  big.m = std::size_t{1} << 32;
  CHECK(contains(error_of([&] { gpu::to_column_major(big); }).what(), "does not fit cuBLAS's int"));
}

TEST_CASE("warp butterflies leave every lane with the row's sum or max") {
  float v[gpu::kWarpLanes], w[gpu::kWarpLanes];
  for (unsigned l = 0; l < gpu::kWarpLanes; ++l) v[l] = w[l] = static_cast<float>((l * 7) % 32) - 3.5f;
  gpu::warp_sum_emulated(v);
  gpu::warp_max_emulated(w);
  for (unsigned l = 0; l < gpu::kWarpLanes; ++l) {
    CHECK(v[l] == 32 * 15.5f - 32 * 3.5f);  // 0 + 1 + ... + 31 in some order, exact in float
    CHECK(w[l] == 27.5f);
  }
}

TEST_CASE("GPU ops match the CPU kernels") {
  gpu::EmulatedDevice d;
  const kernels::KernelTable& k = kernels::best_table();

  SUBCASE("layer norm, strided rows") {
    const std::size_t rows = 5, width = 37, ldx = 41, ldy = 39;
    std::vector<float> x = random_floats(rows * ldx, 3, -2, 3), g = random_floats(width, 4), b = random_floats(width, 5);
    std::vector<float> want(rows * ldy, 0.0f);
    k.layer_norm(x.data(), ldx, want.data(), ldy, rows, width, g.data(), b.data(), 1e-5f);
    gpu::DeviceBuffer dx = to_device(d, x), dg = to_device(d, g), db = to_device(d, b);
    gpu::DeviceBuffer dy = to_device(d, std::vector<float>(rows * ldy, 0.0f));
    d.launch(gpu::LayerNormOp{dx.data(), dy.data(), dg.data(), db.data(), rows, width, ldx, ldy, 1e-5f});
    CHECK(max_diff(to_host(d, dy, rows * ldy), want) <= 1e-5);
  }
  SUBCASE("layer norm, rows narrower than a warp") {
    const std::size_t rows = 3, width = 20;
    std::vector<float> x = random_floats(rows * width, 13, -2, 3), g = random_floats(width, 14), b = random_floats(width, 15);
    std::vector<float> want(rows * width);
    k.layer_norm(x.data(), width, want.data(), width, rows, width, g.data(), b.data(), 1e-5f);
    gpu::DeviceBuffer dx = to_device(d, x), dg = to_device(d, g), db = to_device(d, b), dy(d, rows * width);
    d.launch(gpu::LayerNormOp{dx.data(), dy.data(), dg.data(), db.data(), rows, width, width, width, 1e-5f});
    CHECK(max_diff(to_host(d, dy, rows * width), want) <= 1e-5);
  }
  SUBCASE("softmax rows, narrower and wider than a warp") {
    for (std::size_t cols : {std::size_t{7}, std::size_t{50}}) {
      const std::size_t rows = 6;
      std::vector<float> x = random_floats(rows * cols, 6, -8, 8), want = x;
      for (std::size_t r = 0; r < rows; ++r) k.softmax(want.data() + r * cols, cols);
      gpu::DeviceBuffer dx = to_device(d, x);
      d.launch(gpu::SoftmaxRowsOp{dx.data(), rows, cols});
      CHECK(max_diff(to_host(d, dx, x.size()), want) <= 1e-6);
    }
  }
  SUBCASE("bias, QuickGELU and residual, in place") {
    const std::size_t rows = 3, cols = 17;
    std::vector<float> in = random_floats(rows * cols, 7, -4, 4), bias = random_floats(cols, 8);
    std::vector<float> res = random_floats(rows * cols, 9), want(rows * cols);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double v = in[i] + bias[i % cols];
      want[i] = static_cast<float>(v / (1 + std::exp(-1.702 * v)) + res[i]);
    }
    gpu::DeviceBuffer din = to_device(d, in), dbias = to_device(d, bias), dres = to_device(d, res);
    d.launch(gpu::BiasActOp{din.data(), dbias.data(), dres.data(), dres.data(), rows, cols,
                            gpu::GpuActivation::quick_gelu});
    CHECK(max_diff(to_host(d, dres, want.size()), want) <= 1e-5);
  }
  SUBCASE("im2col: rows (c, ky, kx) per patch, as conv1's weight") {
    const std::size_t n = 2, S = 12, P = 4, G = 3, kdim = 3 * P * P;
    std::vector<float> img = random_floats(n * 3 * S * S, 10), want(n * G * G * kdim);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t gy = 0; gy < G; ++gy)
        for (std::size_t gx = 0; gx < G; ++gx)
          for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t ky = 0; ky < P; ++ky)
              for (std::size_t kx = 0; kx < P; ++kx)
                want[(i * G * G + gy * G + gx) * kdim + (c * P + ky) * P + kx] =
                    img[((i * 3 + c) * S + gy * P + ky) * S + gx * P + kx];
    gpu::DeviceBuffer di = to_device(d, img), dc(d, want.size());
    d.launch(gpu::Im2colOp{di.data(), dc.data(), n, S, P, G});
    CHECK(to_host(d, dc, want.size()) == want);
  }
  SUBCASE("split and merge heads are inverse, and split puts (b, s, which, h, d) at q/k/v (b, h, s, d)") {
    const std::size_t B = 2, seq = 3, H = 4, hd = 5, n = B * seq * 3 * H * hd;
    std::vector<float> qkv(n);
    for (std::size_t i = 0; i < n; ++i) qkv[i] = static_cast<float>(i);
    gpu::DeviceBuffer dqkv = to_device(d, qkv), q(d, n / 3), kk(d, n / 3), v(d, n / 3), merged(d, n / 3);
    d.launch(gpu::SplitHeadsOp{dqkv.data(), q.data(), kk.data(), v.data(), B, seq, H, hd});
    const std::vector<float> hk = to_host(d, kk, n / 3);
    // k of batch 1, sequence row 2, head 3, dim 4:
    CHECK(hk[((1 * H + 3) * seq + 2) * hd + 4] == qkv[(((1 * seq + 2) * 3 + 1) * H + 3) * hd + 4]);
    d.launch(gpu::MergeHeadsOp{v.data(), merged.data(), B, seq, H, hd});
    const std::vector<float> hm = to_host(d, merged, n / 3);
    for (std::size_t r = 0; r < B * seq; ++r)
      for (std::size_t c = 0; c < H * hd; ++c) REQUIRE(hm[r * H * hd + c] == qkv[(r * 3 + 2) * H * hd + c]);
  }
}

TEST_CASE("the emulated device rejects host pointers where device memory belongs, and frees everything") {
  gpu::EmulatedDevice d;
  std::vector<float> host(16, 1.0f);
  {
    gpu::DeviceBuffer b(d, 16);
    CHECK(d.live_allocations() == 1);
    CHECK(contains(error_of([&] { d.upload(host.data(), host.data(), 64); }).what(), "upload destination"));
    CHECK(contains(error_of([&] { d.download(b.data(), b.data(), 64); }).what(), "download destination is device memory"));
    CHECK(contains(error_of([&] { d.upload(b.data(), host.data(), 65); }).what(), "not device memory"));  // past the end
    CHECK(contains(error_of([&] { d.launch(gpu::SoftmaxRowsOp{host.data(), 1, 16}); }).what(), "softmax_rows"));
    gpu::GemmArgs g;
    g.m = g.n = g.k = 1, g.lda = g.ldb = g.ldc = 1;
    g.a = host.data(), g.b = b.data(), g.c = b.data();
    CHECK(contains(error_of([&] { d.gemm(g); }).what(), "not device memory"));
    b.ensure(d, 32);  // grows: the old block goes
    CHECK(d.live_allocations() == 1);
  }
  CHECK(d.live_allocations() == 0);
}

TEST_CASE("parity with the PyTorch reference on the emulated GPU device, every fixture") {
  for (const test::Fixture& fx : test::caer_fixtures()) {
    INFO("fx.name = " << fx.name);
    Golden g = load_golden(fx);
    ModelOptions o;
    o.device = "emulated";
    o.threads = 2;
    Model m(fx.weights, o);
    CHECK(m.device() == "emulated");
    ClipFeatures f = m.features(g.faces, g.frames);
    REQUIRE(f.logits.shape() == g.logits.shape());
    CHECK(max_abs_diff(f.logits.data(), g.logits.data(), g.logits.size()) <= 1e-3);
    CHECK(min_cosine(f.face_image, g.face_image) >= 0.99999);
    CHECK(min_cosine(f.context_image, g.context_image) >= 0.99999);
    CHECK(min_cosine(f.video, g.video) >= 0.99999);
    // And against the CPU tower, which sums in another order.
    ModelOptions cpu;
    cpu.dtype = "float32";
    ClipFeatures c = Model(fx.weights, cpu).features(g.faces, g.frames);
    CHECK(max_abs_diff(f.logits.data(), c.logits.data(), c.logits.size()) <= 1e-3);
    CHECK(min_cosine(f.face_image, c.face_image) >= 0.99999);
  }
}

TEST_CASE("a model on the emulated device keeps passes, batches and concurrent calls apart") {
  const test::Fixture fx = test::caer_fixtures().front();
  Golden g = load_golden(fx);
  ModelOptions o;
  o.device = "emulated";
  o.max_batch_images = 3;  // several passes per clip, the last one short
  Model m(fx.weights, o);
  const ClipFeatures all = m.features(g.faces, g.frames);
  CHECK(max_abs_diff(all.logits.data(), g.logits.data(), g.logits.size()) <= 1e-3);
  std::vector<std::vector<float>> got(2);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = m.classify_clips(g.faces, g.frames).front().logits; });
  for (auto& th : threads) th.join();
  for (const auto& l : got) CHECK(max_abs_diff(l.data(), all.logits.data(), l.size()) == 0.0);
}

TEST_CASE("device names and errors") {
  const std::string w = test::caer_fixtures().front().weights;
  auto load = [&](const std::string& device, const std::string& dtype = "") {
    ModelOptions o;
    o.device = device;
    o.dtype = dtype;
    return Model(w, o);
  };
  CHECK(load("").device() == "cpu");
  CHECK(load("cpu").device() == "cpu");
  CHECK(contains(message_of([&] { load("gpu"); }, ErrorCode::invalid_argument), "unknown device 'gpu': expected cpu, cuda, cuda:N or emulated"));
  CHECK(contains(message_of([&] { load("cuda:x"); }), "device 'cuda:x': expected cuda:N"));
  CHECK(contains(message_of([&] { load("cuda:"); }), "expected cuda:N"));
  CHECK(contains(message_of([&] { load("emulated", "int8"); }, ErrorCode::unsupported), "float32 only; dtype 'int8' is for the CPU"));
  CHECK(std::string(load("emulated", "float32").dtype()) == "float32");
  if (!gpu::cuda_built()) {
    CHECK(contains(message_of([&] { load("cuda"); }, ErrorCode::unsupported), "no CUDA backend: rebuild with -DCLIPCAER_CUDA=ON"));
    CHECK(gpu::cuda_device_count() == 0);
  } else if (gpu::cuda_device_count() == 0) {
    CHECK(contains(message_of([&] { load("cuda"); }, ErrorCode::unsupported), "no usable CUDA device"));
  } else {
    CHECK(contains(message_of([&] { load("cuda:999"); }, ErrorCode::invalid_argument), "CUDA device(s)"));
  }
}

// Runs only where a CUDA GPU is present (ctest test_gpu_cuda: skipped without).
TEST_CASE("CUDA: parity with the PyTorch reference and the emulated device, every fixture") {
  if (gpu::cuda_device_count() == 0) {
    MESSAGE("no CUDA device: nothing to check here");
    return;
  }
  for (const test::Fixture& fx : test::caer_fixtures()) {
    INFO("fx.name = " << fx.name);
    Golden g = load_golden(fx);
    ModelOptions o;
    o.device = "cuda";
    Model m(fx.weights, o);
    MESSAGE("device: " << m.device());
    CHECK(m.device().rfind("cuda:0 (", 0) == 0);
    ClipFeatures f = m.features(g.faces, g.frames);
    CHECK(max_abs_diff(f.logits.data(), g.logits.data(), g.logits.size()) <= 1e-3);
    CHECK(min_cosine(f.face_image, g.face_image) >= 0.99999);
    CHECK(min_cosine(f.context_image, g.context_image) >= 0.99999);
    o.device = "emulated";
    ClipFeatures e = Model(fx.weights, o).features(g.faces, g.frames);
    CHECK(max_abs_diff(f.face_image.data(), e.face_image.data(), e.face_image.size()) <= 1e-4);
    // Twice on the device: the same bits (no state left between calls).
    ClipFeatures again = m.features(g.faces, g.frames);
    CHECK(max_abs_diff(f.logits.data(), again.logits.data(), f.logits.size()) == 0.0);
  }
}
