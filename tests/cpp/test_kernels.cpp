// Every kernel of every kernel table this CPU can run, against the
// double-precision references in reference_ops.hpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/ops/attention.hpp"
#include "clipcaer/ops/linear.hpp"
#include "reference_ops.hpp"
#include "test_util.hpp"

using namespace clipcaer;
using kernels::Activation;

namespace {
double max_rel_err(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - want[i]) / (1.0 + std::abs(want[i])));
  return worst;
}

constexpr kernels::WeightType kAllTypes[] = {kernels::WeightType::f32, kernels::WeightType::bf16,
                                             kernels::WeightType::i8};

// One packed problem and its double-precision reference.
struct GemmProblem {
  std::size_t m, n, k;
  std::vector<float> x, w, bias, res;
  GemmProblem(std::size_t m_, std::size_t n_, std::size_t k_, std::uint32_t seed) : m(m_), n(n_), k(k_) {
    x = test::random_floats(m * k, seed);
    w = test::random_floats(n * k, seed + 1);
    bias = test::random_floats(n, seed + 2);
    res = test::random_floats(m * n, seed + 3);
  }
  kernels::PackedMatrix pack(const kernels::KernelTable* t, kernels::WeightType type = kernels::WeightType::f32) const {
    kernels::PackedMatrix pw;
    t->pack_weights(w.data(), n, k, type, pw);
    pw.packer = t;
    return pw;
  }
  // The reference for weights of `type`: A and W as that type's GEMM sees them.
  std::vector<double> want(kernels::WeightType type, Activation act, bool use_bias, bool use_residual) const {
    return test::ref_linear(test::ref_effective(x, m, k, type), test::ref_effective(w, n, k, type),
                            use_bias ? bias.data() : nullptr, m, n, k, act, use_residual ? &res : nullptr);
  }
};
}  // namespace

TEST_CASE("kernel tables: at least the baseline is usable, names are unique") {
  auto tables = kernels::usable_tables();
  REQUIRE(!tables.empty());
  for (std::size_t i = 0; i < tables.size(); ++i)
    for (std::size_t j = i + 1; j < tables.size(); ++j) CHECK(std::string(tables[i]->name) != tables[j]->name);
  CHECK(kernels::find_table("no-such-isa") == nullptr);
  CHECK(kernels::find_table("baseline") == tables.back());
  MESSAGE("best kernel table: " << std::string(kernels::best_table().name));
}

TEST_CASE("CLIPCAER_ISA forces the table; the CPU check gates every table") {
  const auto cpu = kernels::cpu_features();
  CHECK((!cpu.avx512 || cpu.avx2_fma));
  CHECK((!cpu.avx_vnni || cpu.avx2_fma));
  CHECK((!cpu.avx512_vnni || cpu.avx512));
  CHECK((!cpu.avx512_bf16 || cpu.avx512_vnni));
  CHECK((!cpu.amx || cpu.avx512_bf16));
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    if (std::string(t->name) == "avx512_amx") CHECK(cpu.amx);
    if (std::string(t->name) == "avx512_bf16") CHECK(cpu.avx512_bf16);
    if (std::string(t->name) == "avx512_vnni") CHECK(cpu.avx512_vnni);
    if (std::string(t->name) == "avx512") CHECK(cpu.avx512);
    if (std::string(t->name) == "avx2_vnni") CHECK(cpu.avx_vnni);
    if (std::string(t->name) == "avx2") CHECK(cpu.avx2_fma);
  }
  if (const char* forced = std::getenv("CLIPCAER_ISA"); forced && *forced)
    CHECK(&kernels::best_table() == kernels::find_table(forced));
  else
    CHECK(&kernels::best_table() == kernels::usable_tables().front());
}

TEST_CASE("gemm matches the reference for odd shapes, every activation, bias and residual") {
  ThreadPool pool(2);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    ops::Context ctx{*t, pool};
    struct Case { std::size_t m, n, k; };
    for (kernels::WeightType type : kAllTypes)
      for (Case c : {Case{1, 1, 1}, Case{5, 17, 3}, Case{13, 33, 64}, Case{97, 70, 50}, Case{200, 130, 96}}) {
        for (Activation act : {Activation::none, Activation::quick_gelu, Activation::gelu_tanh}) {
          for (bool use_bias : {false, true})
            for (bool use_residual : {false, true}) {
              INFO("type = " << kernels::weight_type_name(type));
              CAPTURE(c.m);
              CAPTURE(c.n);
              CAPTURE(c.k);
              CAPTURE(static_cast<int>(act));
              GemmProblem p(c.m, c.n, c.k, 1);
              auto pw = p.pack(t, type);
              std::vector<float> y = use_residual ? p.res : std::vector<float>(c.m * c.n, 0.0f);
              // In-place residual: y starts as the residual and is also the output.
              ops::linear(ctx, p.x.data(), c.m, c.k, pw, use_bias ? p.bias.data() : nullptr, act,
                          {y.data(), c.n, use_residual ? y.data() : nullptr, c.n});
              CHECK(max_rel_err(y, p.want(type, act, use_bias, use_residual)) < 2e-5);
            }
        }
      }
  }
}

TEST_CASE("gemm results do not depend on the thread count") {
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (kernels::WeightType type : kAllTypes)
    for (std::size_t k : {77u, 1500u}) {
      INFO("type = " << kernels::weight_type_name(type));
      CAPTURE(k);
      GemmProblem p(301, 200, k, 40);
      auto pw = p.pack(t, type);
      std::vector<float> y1 = p.res, y2 = p.res, y3 = p.res;
      ThreadPool p1(1), p2(2), p3(3);
      const ops::LinearOut o1{y1.data(), 200, y1.data(), 200}, o2{y2.data(), 200, y2.data(), 200},
          o3{y3.data(), 200, y3.data(), 200};
      ops::linear({*t, p1}, p.x.data(), 301, k, pw, p.bias.data(), Activation::quick_gelu, o1);
      ops::linear({*t, p2}, p.x.data(), 301, k, pw, p.bias.data(), Activation::quick_gelu, o2);
      ops::linear({*t, p3}, p.x.data(), 301, k, pw, p.bias.data(), Activation::quick_gelu, o3);
      CHECK(y1 == y2);
      CHECK(y1 == y3);
    }
    const std::size_t m = 301, n = 200, k = 77;
    auto x = test::random_floats(m * k, 5);
    auto w = test::random_floats(n * k, 6);
    kernels::PackedMatrix pw;
    t->pack_weights(w.data(), n, k, kernels::WeightType::f32, pw);
    pw.packer = t;
    std::vector<float> y1(m * n), y3(m * n);
    ThreadPool p1(1), p3(3);
    ops::linear({*t, p1}, x.data(), m, k, pw, nullptr, Activation::quick_gelu, {y1.data(), n});
    ops::linear({*t, p3}, x.data(), m, k, pw, nullptr, Activation::quick_gelu, {y3.data(), n});
    CHECK(y1 == y3);
  }
}


TEST_CASE("gemm: K blocking, K tails, M = 1, column tails, in-place residual, 1 and 2 threads") {
  // K > 1024 runs in K blocks with partial sums in a per-thread buffer; the
  // residual then still aliases C. Odd K exercises the unroll remainder.
  struct Case { std::size_t m, n, k; };
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (kernels::WeightType type : kAllTypes)
    for (Case c : {Case{1, 64, 768}, Case{1, 3, 1}, Case{7, 129, 1025}, Case{17, 512, 2050}, Case{100, 96, 1537},
                   Case{31, 200, 3072}, Case{6, 77, 0}, Case{5, 70, 2}, Case{3, 9, 5}})
      for (std::size_t threads : {1u, 2u})
        for (Activation act : {Activation::none, Activation::quick_gelu}) {
          INFO("type = " << kernels::weight_type_name(type));
          CAPTURE(c.m);
          CAPTURE(c.n);
          CAPTURE(c.k);
          CAPTURE(threads);
          GemmProblem p(c.m, c.n, c.k, 20);
          auto pw = p.pack(t, type);
          ThreadPool pool(threads);
          std::vector<float> y = p.res;
          ops::linear({*t, pool}, p.x.data(), c.m, c.k, pw, p.bias.data(), act, {y.data(), c.n, y.data(), c.n});
          CHECK(max_rel_err(y, p.want(type, act, true, true)) < 2e-5 * (1.0 + c.k / 1024.0));
        }
  }
}

TEST_CASE("gemm: results are bitwise independent of how rows and columns are split") {
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    // K tails (77; 1027 = K blocks of 516 + 511) too: the full AVX-512 f32
    // tile is hand-scheduled asm, other heights are intrinsics, and both
    // must give the same bits.
    for (kernels::WeightType type : kAllTypes)
    for (std::size_t k : {64u, 77u, 1100u, 1027u}) {
      INFO("type = " << kernels::weight_type_name(type));
      CAPTURE(k);
      const std::size_t m = 37, n = 3 * t->gemm_n_step + 5;
      GemmProblem p(m, n, k, 30);
      auto pw = p.pack(t, type);
      kernels::GemmArgs g;
      g.a = p.x.data();
      g.lda = k;
      g.b = &pw;
      g.bias = p.bias.data();
      g.act = Activation::gelu_tanh;
      g.residual = p.res.data();
      g.ldr = n;
      g.ldc = n;
      g.m = m;
      std::vector<float> whole(m * n), split(m * n, -1.0f);
      g.c = whole.data();
      t->gemm(g, 0, m, 0, n);
      // Rows cut at odd places (other tile heights), columns on panel boundaries.
      g.c = split.data();
      const std::size_t rows[] = {0, 1, 8, 9, 23, m};
      const std::size_t cols[] = {0, t->gemm_n_step, 3 * t->gemm_n_step, n};
      for (std::size_t ri = 0; ri + 1 < std::size(rows); ++ri)
        for (std::size_t ci = 0; ci + 1 < std::size(cols); ++ci) t->gemm(g, rows[ri], rows[ri + 1], cols[ci], cols[ci + 1]);
      CHECK(whole == split);
    }
  }
}

// The same problem through every table; for int8 the integer sums are exact,
// so with no activation (whose vector approximations differ by ISA) every
// table must give the same bits.
TEST_CASE("int8 gemm: every table computes the same bits") {
  const auto tables = kernels::usable_tables();
  GemmProblem p(23, 150, 300, 60);
  std::vector<std::vector<float>> outs;
  for (const kernels::KernelTable* t : tables) {
    auto pw = p.pack(t, kernels::WeightType::i8);
    ThreadPool pool(2);
    std::vector<float> y = p.res;
    ops::linear({*t, pool}, p.x.data(), p.m, p.k, pw, p.bias.data(), Activation::none, {y.data(), p.n, y.data(), p.n});
    outs.push_back(y);
  }
  for (std::size_t i = 1; i < outs.size(); ++i) {
    INFO("tables[i]->name = " << tables[i]->name);
    CHECK(outs[i] == outs[0]);
  }
}

// vdpbf16ps (avx512_bf16) against its emulation with FMAs (avx512, avx2,
// sse2): both multiply the same bf16 values exactly and add the odd k's
// product before the even one's, so on normal numbers (the instruction
// flushes denormals) they give the same bits. AMX tiles sum 32 k per
// instruction in their own order: the same to f32 accumulation error.
TEST_CASE("bf16 gemm: dot products, their emulation and AMX agree") {
  std::vector<const kernels::KernelTable*> tables;
  const kernels::KernelTable* amx = nullptr;
  for (const kernels::KernelTable* t : kernels::usable_tables())
    (std::string(t->name) == "avx512_amx" ? amx : tables.emplace_back(t)) = t;
  GemmProblem p(19, 140, 770, 70);
  auto run = [&](const kernels::KernelTable* t) {
    auto pw = p.pack(t, kernels::WeightType::bf16);
    ThreadPool pool(1);
    std::vector<float> y = p.res;
    ops::linear({*t, pool}, p.x.data(), p.m, p.k, pw, p.bias.data(), Activation::none, {y.data(), p.n, y.data(), p.n});
    return y;
  };
  const std::vector<float> first = run(tables[0]);
  for (std::size_t i = 1; i < tables.size(); ++i) {
    INFO("tables[i]->name = " << tables[i]->name);
    CHECK(run(tables[i]) == first);
  }
  if (amx) {
    const std::vector<float> y = run(amx);
    double worst = 0;
    for (std::size_t j = 0; j < y.size(); ++j)
      worst = std::max(worst, std::abs(double(y[j]) - first[j]) / (1.0 + std::abs(first[j])));
    CHECK(worst < 1e-5);  // K = 770: a few ulps of the largest partial sums
  }
}

// The accuracy cost itself, against exact f32 inputs: bf16 keeps 8 mantissa
// bits, int8 about 7; these bounds are loose on purpose (random data), they
// catch a wrong scale or a dropped K range, which the effective-input
// references above would not if both sides shared the mistake.
TEST_CASE("bf16 and int8 gemm stay close to the f32 result") {
  ThreadPool pool(2);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    GemmProblem p(40, 96, 768, 80);
    const auto exact = p.want(kernels::WeightType::f32, Activation::none, false, false);
    double norm = 0;
    for (double v : exact) norm = std::max(norm, std::abs(v));
    for (auto [type, bound] : {std::pair{kernels::WeightType::bf16, 0.01}, std::pair{kernels::WeightType::i8, 0.03}}) {
      INFO("type = " << kernels::weight_type_name(type));
      auto pw = p.pack(t, type);
      std::vector<float> y(p.m * p.n);
      ops::linear({*t, pool}, p.x.data(), p.m, p.k, pw, nullptr, Activation::none, {y.data(), p.n});
      double worst = 0;
      for (std::size_t j = 0; j < y.size(); ++j) worst = std::max(worst, std::abs(y[j] - exact[j]));
      CHECK(worst / norm < bound);
      CHECK(worst > 0);  // really reduced precision
    }
  }
}

TEST_CASE("int8 gemm: a row with inf or NaN gives NaN in that row only") {
  ThreadPool pool(1);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
      GemmProblem p(8, 20, 70, 90);
      for (std::size_t bad_k : {3u, 69u}) {  // in a full vector and in the tail
        CAPTURE(bad_k);
        auto x = p.x;
        x[2 * p.k + bad_k] = bad;
        auto pw = p.pack(t, kernels::WeightType::i8);
        std::vector<float> y(p.m * p.n);
        ops::linear({*t, pool}, x.data(), p.m, p.k, pw, nullptr, Activation::none, {y.data(), p.n});
        for (std::size_t i = 0; i < p.m; ++i)
          for (std::size_t j = 0; j < p.n; ++j) CHECK(std::isnan(y[i * p.n + j]) == (i == 2));
      }
    }
  }
}

TEST_CASE("linear_tiling covers the output exactly once, columns on panel boundaries") {
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (std::size_t threads : {1u, 2u, 3u, 16u})
      for (std::size_t m : {1u, 17u, 200u, 1600u, 6400u})
        for (std::size_t n : {1u, 64u, 512u, 2304u}) {
          CAPTURE(threads);
          CAPTURE(m);
          CAPTURE(n);
          const auto tl = ops::linear_tiling(*t, threads, m, n, 768);
          CHECK(tl.rows_per_task * (tl.m_tasks - 1) < m);
          CHECK(tl.rows_per_task * tl.m_tasks >= m);
          CHECK(tl.cols_per_task * (tl.n_tasks - 1) < n);
          CHECK(tl.cols_per_task * tl.n_tasks >= n);
          CHECK(tl.cols_per_task % t->gemm_n_step == 0);
          if (threads == 1) CHECK(tl.m_tasks * tl.n_tasks == 1);
        }
  }
}

namespace {
// The packed layout every table shares, written the plain way: panels of NR
// columns of 32-bit units [unit][NR] (a float; a bf16 pair of k, even k in
// the low half; an int8 quad of k), zero past n and past k; int8 panels are
// followed by the column sums (int32) and scales (float) of all panels.
// `groups` is the table's unit count per column (AMX pads it).
std::vector<unsigned char> ref_packed(const std::vector<float>& w, std::size_t n, std::size_t k, std::size_t nr,
                                      std::size_t groups, kernels::WeightType type) {
  const std::size_t panels = (n + nr - 1) / nr, pb = groups * nr * 4;
  std::vector<unsigned char> out(panels * pb + (type == kernels::WeightType::i8 ? panels * nr * 8 : 0), 0);
  auto unit = [&](std::size_t row, std::size_t u) -> unsigned char* { return &out[(row / nr) * pb + (u * nr + row % nr) * 4]; };
  for (std::size_t row = 0; row < n; ++row) {
    const float* src = &w[row * k];
    if (type == kernels::WeightType::f32) {
      for (std::size_t kk = 0; kk < k; ++kk) std::memcpy(unit(row, kk), src + kk, 4);
    } else if (type == kernels::WeightType::bf16) {
      for (std::size_t kk = 0; kk < k; ++kk) {
        std::uint32_t bits;
        std::memcpy(&bits, src + kk, 4);
        const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
        const std::uint32_t r = nan ? (bits | 0x00400000u) : bits + 0x7fffu + ((bits >> 16) & 1u);
        const auto half = static_cast<std::uint16_t>(r >> 16);
        std::memcpy(unit(row, kk / 2) + 2 * (kk % 2), &half, 2);
      }
    } else {
      float amax = 0.0f;
      for (std::size_t kk = 0; kk < k; ++kk) amax = std::fabs(src[kk]) > amax ? std::fabs(src[kk]) : amax;
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      std::int32_t sum = 0;
      for (std::size_t kk = 0; kk < k; ++kk) {
        const float x = std::nearbyint(src[kk] * inv);
        const std::int32_t q = x >= -127.0f ? (x <= 127.0f ? static_cast<std::int32_t>(x) : 127) : -127;  // NaN: -127
        *reinterpret_cast<std::int8_t*>(unit(row, kk / 4) + kk % 4) = static_cast<std::int8_t>(q);
        sum += q;
      }
      const float scale = amax / 127.0f;
      std::memcpy(&out[panels * pb + row * 4], &sum, 4);
      std::memcpy(&out[panels * pb + panels * nr * 4 + row * 4], &scale, 4);
    }
  }
  return out;
}
}  // namespace

TEST_CASE("pack_weights writes the shared panel layout: tails of n and k, zero padding, int8 sums and scales") {
  for (const kernels::KernelTable* t : kernels::usable_tables())
    for (kernels::WeightType type : kAllTypes) {
      const std::size_t nr = t->gemm_n_step;
      const std::size_t shapes[][2] = {{1, 1}, {nr + 3, 5}, {2 * nr + 17, 37}, {nr - 1, 67}, {nr, 96}};
      for (const auto& s : shapes) {
        const std::size_t n = s[0], k = s[1];
        INFO("table " << std::string(t->name) << ", type " << std::string(kernels::weight_type_name(type)) << ", n "
                      << n << ", k " << k);
        std::vector<float> w = test::random_floats(n * k, static_cast<std::uint32_t>(n * 131 + k), -3.0f, 3.0f);
        // Ties for bf16 rounding and int8's max, a NaN (int8: ignored by the
        // row's max, quantised to -127), a zero row.
        w[0] = 1.0f + 1.0f / 256.0f;
        if (n * k > 3) w[n * k - 2] = std::numeric_limits<float>::quiet_NaN();
        if (n > 2)
          for (std::size_t kk = 0; kk < k; ++kk) w[k + kk] = 0.0f;
        kernels::PackedMatrix pw;
        // Packed over another matrix of the same shape (its buffer is reused),
        // so padding that is not written shows as that matrix's bytes.
        const std::vector<float> ones(n * k, 1.0f);
        t->pack_weights(ones.data(), n, k, type, pw);
        t->pack_weights(w.data(), n, k, type, pw);
        const std::size_t panels = (n + nr - 1) / nr;
        const std::size_t extra = type == kernels::WeightType::i8 ? nr * 8 : 0;
        REQUIRE(pw.data.size() % panels == 0);
        const std::size_t groups = (pw.data.size() / panels - extra) / (nr * 4);
        const std::size_t per_unit = type == kernels::WeightType::f32 ? 1 : type == kernels::WeightType::bf16 ? 2 : 4;
        CHECK(groups >= (k + per_unit - 1) / per_unit);
        CHECK(groups < (k + per_unit - 1) / per_unit + 16);
        const auto want = ref_packed(w, n, k, nr, groups, type);
        REQUIRE(pw.data.size() == want.size());
        CHECK(std::memcmp(pw.data.data(), want.data(), want.size()) == 0);
        CHECK(pw.n == n);
        CHECK(pw.k == k);
      }
    }
}

TEST_CASE("pack_weights rejects weight types it cannot pack") {
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    std::vector<float> w(4, 1.0f);
    kernels::PackedMatrix pw;
    CHECK_THROWS_AS(t->pack_weights(w.data(), 2, 2, static_cast<kernels::WeightType>(99), pw), Error);
  }
}

TEST_CASE("linear refuses weights packed by another kernel table") {
  auto tables = kernels::usable_tables();
  ThreadPool pool(1);
  std::vector<float> w(4, 1.0f), x(2, 1.0f), y(2);
  kernels::PackedMatrix pw;
  tables[0]->pack_weights(w.data(), 2, 2, kernels::WeightType::f32, pw);
  pw.packer = nullptr;
  CHECK_THROWS_AS(ops::linear({*tables[0], pool}, x.data(), 1, 2, pw, nullptr, Activation::none, {y.data(), 2}),
                  Error);
}

TEST_CASE("linear_columns computes only its columns, with linear's bits; ranges off panel bounds are refused") {
  for (const kernels::KernelTable* t : kernels::usable_tables())
    for (kernels::WeightType type : kAllTypes) {
      INFO("table " << std::string(t->name) << ", type " << std::string(kernels::weight_type_name(type)));
      ThreadPool pool(2);
      const ops::Context ctx{*t, pool};
      const std::size_t step = t->gemm_n_step, m = 13, n = 3 * step + 5, k = 40;
      GemmProblem p(m, n, k, 60);
      const auto pw = p.pack(t, type);
      std::vector<float> whole(m * n), part(m * n, -7.0f);
      ops::linear(ctx, p.x.data(), m, k, pw, p.bias.data(), Activation::none, {whole.data(), n});
      // Columns [step, n): the last column ends it; [0, step) stays as it was.
      ops::linear_columns(ctx, p.x.data(), m, k, pw, p.bias.data(), Activation::none, {part.data(), n}, step, n);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          if (j < step) {
            REQUIRE(part[i * n + j] == -7.0f);
          } else {
            REQUIRE(part[i * n + j] == whole[i * n + j]);
          }
        }
      const auto run = [&](std::size_t n0, std::size_t n1) {
        ops::linear_columns(ctx, p.x.data(), m, k, pw, nullptr, Activation::none, {part.data(), n}, n0, n1);
      };
      CHECK_NOTHROW(run(0, step));
      CHECK_NOTHROW(run(2 * step, 2 * step));
      if (step > 1) {
        CHECK_THROWS_WITH_AS(run(1, n), doctest::Contains("multiples of"), Error);
        CHECK_THROWS_AS(run(0, step + 1), Error);
      }
      CHECK_THROWS_AS(run(step, n + 1), Error);
      CHECK_THROWS_AS(run(2 * step, step), Error);
    }
}

TEST_CASE("layer_norm, softmax, activations, vector helpers") {
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (std::size_t dim : {1u, 7u, 64u, 77u, 768u}) {
      CAPTURE(dim);
      const std::size_t rows = 5;
      auto x = test::random_floats(rows * dim, 7, -3.0f, 5.0f);
      auto g = test::random_floats(dim, 8);
      auto b = test::random_floats(dim, 9);
      std::vector<float> y(rows * dim);
      t->layer_norm(x.data(), dim, y.data(), dim, rows, dim, g.data(), b.data(), 1e-5f);
      CHECK(max_rel_err(y, test::ref_layer_norm(x, rows, dim, g, b, 1e-5)) < 1e-5);
      // in place
      std::vector<float> z = x;
      t->layer_norm(z.data(), dim, z.data(), dim, rows, dim, g.data(), b.data(), 1e-5f);
      CHECK(z == y);

      std::vector<float> s(x.begin(), x.begin() + dim);
      t->softmax(s.data(), dim);
      double mx = -1e300, total = 0;
      for (std::size_t i = 0; i < dim; ++i) mx = std::max(mx, static_cast<double>(x[i]));
      for (std::size_t i = 0; i < dim; ++i) total += std::exp(x[i] - mx);
      for (std::size_t i = 0; i < dim; ++i) CHECK(s[i] == doctest::Approx(std::exp(x[i] - mx) / total).epsilon(1e-5));

      for (Activation act : {Activation::none, Activation::quick_gelu, Activation::gelu_tanh}) {
        std::vector<float> a(x.begin(), x.begin() + dim);
        t->activate(a.data(), dim, act);
        for (std::size_t i = 0; i < dim; ++i)
          CHECK(a[i] == doctest::Approx(test::ref_activation(x[i], act)).epsilon(1e-5).scale(1.0));
      }
      std::vector<float> sum(x.begin(), x.begin() + dim), other(x.begin() + dim, x.begin() + 2 * dim);
      t->add(sum.data(), other.data(), dim);
      double dot = 0;
      for (std::size_t i = 0; i < dim; ++i) {
        CHECK(sum[i] == x[i] + x[dim + i]);
        dot += static_cast<double>(x[i]) * x[dim + i];
      }
      CHECK(t->dot(x.data(), x.data() + dim, dim) == doctest::Approx(dot).epsilon(1e-5).scale(1.0));
      std::vector<float> sc(x.begin(), x.begin() + dim);
      t->scale(sc.data(), 0.5f, dim);
      for (std::size_t i = 0; i < dim; ++i) CHECK(sc[i] == x[i] * 0.5f);
      float lo = 0, hi = 0;
      t->min_max(x.data(), dim, &lo, &hi);
      CHECK(lo == *std::min_element(x.begin(), x.begin() + dim));
      CHECK(hi == *std::max_element(x.begin(), x.begin() + dim));
      CHECK(t->all_finite(x.data(), x.size()));
      for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                        -std::numeric_limits<float>::infinity()}) {
        std::vector<float> v = x;
        v[v.size() - 1] = bad;
        CHECK_FALSE(t->all_finite(v.data(), v.size()));
        v = x;
        v[0] = bad;
        CHECK_FALSE(t->all_finite(v.data(), v.size()));
      }
    }
  }
}

TEST_CASE("activations at extreme inputs: finite, right limits") {
  // QuickGELU clamps its exp argument and uses a refined reciprocal.
  const std::vector<float> xs = {-1e30f, -100.0f, -90.0f, -60.0f, -52.0f, -30.0f, -5.0f, -1e-3f, 0.0f,
                                 1e-3f,  5.0f,    30.0f,  60.0f,  90.0f,  100.0f, 1e30f, -2.5f,  2.5f};
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (Activation act : {Activation::quick_gelu, Activation::gelu_tanh}) {
      std::vector<float> y = xs;
      t->activate(y.data(), y.size(), act);
      for (std::size_t i = 0; i < xs.size(); ++i) {
        CAPTURE(xs[i]);
        const double want = test::ref_activation(xs[i], act);
        CHECK(std::isfinite(y[i]));
        CHECK(std::abs(y[i] - want) <= 1e-6 * (1.0 + std::abs(want)));
      }
    }
  }
}

TEST_CASE("QuickGELU on a dense grid: within 3e-7 of x sigmoid(1.702 x) on every table") {
  // Both the generic exp_fast path and AVX-512's vscalefps one stay at ~1.4e-7
  // of (1 + |y|); a lower-degree polynomial or a skipped Newton step fails.
  std::vector<float> xs;
  for (double v = -60.0; v <= 60.0; v += 0.0137) xs.push_back(static_cast<float>(v));
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    std::vector<float> y = xs;
    t->activate(y.data(), y.size(), Activation::quick_gelu);
    double worst = 0;
    float worst_x = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const long double x = xs[i], want = x / (1.0L + std::exp(-1.702L * x));
      const double err = static_cast<double>(std::fabs(y[i] - want) / (1.0L + std::fabs(want)));
      if (err > worst) worst = err, worst_x = xs[i];
    }
    CAPTURE(worst_x);
    CHECK(worst < 3e-7);
  }
}

namespace {
// Head h of sequence b of packed [q | k | v] rows (ops::self_attention's
// input), as three seq x d row-major matrices.
struct HeadQkv {
  std::vector<float> q, k, v;
};
HeadQkv head_qkv(const std::vector<float>& qkv, std::size_t b, std::size_t h, std::size_t seq, std::size_t d,
                 std::size_t heads) {
  const std::size_t inner = heads * d;
  HeadQkv x{std::vector<float>(seq * d), std::vector<float>(seq * d), std::vector<float>(seq * d)};
  for (std::size_t i = 0; i < seq; ++i)
    for (std::size_t c = 0; c < d; ++c) {
      const float* row = qkv.data() + (b * seq + i) * 3 * inner + h * d + c;
      x.q[i * d + c] = row[0];
      x.k[i * d + c] = row[inner];
      x.v[i * d + c] = row[2 * inner];
    }
  return x;
}
}  // namespace

TEST_CASE("attention matches the reference, causal and not") {
  // 1 thread and 12 heads: tasks run several heads in a row (next-head prefetch hints).
  ThreadPool pool1(1), pool2(2);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    for (bool causal : {false, true})
      for (std::size_t seq : {1u, 2u, 17u, 50u, 77u})
        for (std::size_t d : {8u, 64u, 20u, 100u}) {
          CAPTURE(causal);
          CAPTURE(seq);
          CAPTURE(d);
          const bool many_heads = d == 64;
          ops::Context ctx{*t, many_heads ? pool1 : pool2};
          const std::size_t heads = many_heads ? 12 : 3, batch = 2, inner = heads * d;
          auto qkv = test::random_floats(batch * seq * 3 * inner, 10, -2.0f, 2.0f);
          std::vector<float> out(batch * seq * inner);
          AlignedBuffer<float> scratch;
          const float scale = 1.0f / std::sqrt(static_cast<float>(d));
          ops::self_attention(ctx, qkv.data(), out.data(), {batch, seq, heads, d, scale, causal}, scratch);
          for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t h = 0; h < heads; ++h) {
              const HeadQkv x = head_qkv(qkv, b, h, seq, d, heads);
              auto want = test::ref_attention(x.q, x.k, x.v, seq, d, scale, causal);
              std::vector<float> got(seq * d);
              for (std::size_t i = 0; i < seq; ++i)
                for (std::size_t c = 0; c < d; ++c) got[i * d + c] = out[(b * seq + i) * inner + h * d + c];
              CHECK(max_rel_err(got, want) < 1e-5);
            }
        }
  }
}

// int8 models' attention (AttentionArgs::bf16): on tables with vdpbf16ps and
// head_dim a multiple of 32, products of bf16-rounded Q, K, V and P; on the
// others, or other head sizes, the float32 kernel's bits.
TEST_CASE("bf16 attention: rounded operands where the table has it, float32 bits elsewhere") {
  ThreadPool pool(2);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    const ops::Context ctx{*t, pool};
    for (bool causal : {false, true})
      for (std::size_t seq : {1u, 7u, 50u, 77u})
        for (std::size_t d : {64u, 32u, 20u})
          for (std::size_t queries : {0u, 1u}) {
            CAPTURE(causal);
            CAPTURE(seq);
            CAPTURE(d);
            CAPTURE(queries);
            const std::size_t heads = 3, batch = 2, inner = heads * d;
            auto qkv = test::random_floats(batch * seq * 3 * inner, 12, -2.0f, 2.0f);
            ops::AttentionShape s{batch, seq, heads, d, 1.0f / std::sqrt(static_cast<float>(d)), causal, queries};
            const std::size_t rows = s.query_rows();
            std::vector<float> f32(batch * rows * inner), bf16(batch * rows * inner);
            AlignedBuffer<float> scratch;
            ops::self_attention(ctx, qkv.data(), f32.data(), s, scratch);
            s.bf16 = true;
            ops::self_attention(ctx, qkv.data(), bf16.data(), s, scratch);
            if (!t->attention_bf16 || d % 32 != 0) {
              CHECK(std::memcmp(f32.data(), bf16.data(), f32.size() * sizeof(float)) == 0);
              continue;
            }
            CHECK(std::memcmp(f32.data(), bf16.data(), f32.size() * sizeof(float)) != 0);
            double err = 0, err_f32 = 0;  // against the rounded reference, and float32's against it
            for (std::size_t b = 0; b < batch; ++b)
              for (std::size_t h = 0; h < heads; ++h) {
                const HeadQkv x = head_qkv(qkv, b, h, seq, d, heads);
                const auto bf = kernels::WeightType::bf16;
                const auto want = test::ref_attention(test::ref_effective(x.q, seq, d, bf),
                                                      test::ref_effective(x.k, seq, d, bf),
                                                      test::ref_effective(x.v, seq, d, bf), seq, d, s.scale, causal,
                                                      /*round_p=*/true);
                for (std::size_t i = 0; i < rows; ++i)
                  for (std::size_t c = 0; c < d; ++c) {
                    const std::size_t o = (b * rows + i) * inner + h * d + c;
                    err = std::max(err, std::fabs(bf16[o] - want[i * d + c]));
                    err_f32 = std::max(err_f32, std::fabs(f32[o] - want[i * d + c]));
                  }
              }
            // A probability near a bf16 rounding tie may round the other way
            // (float vs double exp); here err <= 1.8e-4, float32's 35-200x that.
            CHECK(err <= 2e-3);
            CHECK(err < 0.2 * err_f32);
          }
  }
}

TEST_CASE("attention over the first queries only: the same bits as those rows of full attention") {
  ThreadPool pool(2);
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    INFO("table " << std::string(t->name));
    const ops::Context ctx{*t, pool};
    for (bool causal : {false, true})
      for (std::size_t seq : {1u, 9u, 50u})
        for (std::size_t queries : {1u, 3u, 7u, 60u}) {
          CAPTURE(causal);
          CAPTURE(seq);
          CAPTURE(queries);
          const std::size_t heads = 3, d = 20, batch = 3, inner = heads * d, rows = std::min(queries, seq);
          auto qkv = test::random_floats(batch * seq * 3 * inner, 11, -2.0f, 2.0f);
          std::vector<float> full(batch * seq * inner), first(batch * rows * inner + 1, 123.0f);
          AlignedBuffer<float> scratch;
          const float scale = 0.3f;
          ops::self_attention(ctx, qkv.data(), full.data(), {batch, seq, heads, d, scale, causal}, scratch);
          const ops::AttentionShape s{batch, seq, heads, d, scale, causal, queries};
          CHECK(s.query_rows() == rows);
          ops::self_attention(ctx, qkv.data(), first.data(), s, scratch);
          for (std::size_t b = 0; b < batch; ++b)
            for (std::size_t i = 0; i < rows; ++i)
              for (std::size_t c = 0; c < inner; ++c)
                REQUIRE(first[(b * rows + i) * inner + c] == full[(b * seq + i) * inner + c]);
          CHECK(first.back() == 123.0f);  // nothing written past batch * rows rows
        }
  }
}
