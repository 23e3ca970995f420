// Kernel benchmarks: the measured FMA peak first, then every GEMM shape of
// CLIP-CAER through ops::linear (1 and 2 threads) and attention per layer,
// for every kernel table this CPU runs. Every kernel iteration is followed by
// the table ISA's peak loop on the same threads for about as long:
// peak_frac = kernel flop/s / peak flop/s measured alongside (peak_GFLOPS).
//
//   build/bin/bench_kernels --benchmark_filter='avx512/vit' --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/ops/attention.hpp"
#include "clipcaer/ops/linear.hpp"
#include "fma_peak.hpp"

#ifdef CLIPCAER_BENCH_OPENBLAS
#include <cblas.h>
#endif

using namespace clipcaer;
using kernels::Activation;

namespace {

std::map<std::string, double> g_peak;  // table name -> single-thread flop/s

void fill_random(float* p, std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Runs fn once per benchmark iteration (wall-clock, manual time) and, after
// each, the peak loop of the table's ISA on as many threads for about as
// long. Two ratios to that peak, measured alongside so that slow drift
// (frequency, other processes) cancels out:
//   peak_frac  wall-clock flop/s over wall-clock peak flop/s (includes load
//              imbalance and scaling; what a user sees on a quiet machine)
//   cpu_frac   flop per CPU-second over peak flop per CPU-second (time the
//              threads were descheduled by other processes drops out; idle
//              waiting in the pool is not CPU time either)
template <class F>
void run_against_peak(benchmark::State& state, ThreadPool& pool, const std::string& isa, double flops_per_iter, F&& fn) {
  using clock = std::chrono::steady_clock;
  const double flops_per_loop = static_cast<double>(bench::peak_loop(isa, 1));
  const bool probe = flops_per_loop > 0;
  const double peak_guess = g_peak.count(isa) ? g_peak[isa] : 1e11;
  const std::size_t threads = pool.size();
  double kernel_s = 0, kernel_cpu = 0, probe_s = 0, probe_cpu = 0, probe_flops = 0;
  std::vector<double> done(threads, 0.0);
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    const auto t0 = clock::now();
    fn();
    benchmark::ClobberMemory();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    kernel_cpu += process_cpu_seconds() - c0;
    state.SetIterationTime(dt);
    kernel_s += dt;
    if (!probe) continue;
    const auto iters = static_cast<std::uint64_t>(std::max(2e-4, dt) * peak_guess / flops_per_loop) + 1;
    const double c1 = process_cpu_seconds();
    const auto p0 = clock::now();
    pool.parallel_for(threads, [&](std::size_t i) { done[i] = static_cast<double>(bench::peak_loop(isa, iters)); });
    probe_s += std::chrono::duration<double>(clock::now() - p0).count();
    probe_cpu += process_cpu_seconds() - c1;
    for (double d : done) probe_flops += d;
  }
  const double flops = flops_per_iter * static_cast<double>(state.iterations());
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsRate);
  if (probe && kernel_s > 0 && probe_s > 0) {
    state.counters["peak_frac"] = (flops / kernel_s) / (probe_flops / probe_s);
    state.counters["peak_GFLOPS"] = probe_flops / probe_s * 1e-9;
  }
  if (probe && kernel_cpu > 0 && probe_cpu > 0) state.counters["cpu_frac"] = (flops / kernel_cpu) / (probe_flops / probe_cpu);
}

// (a) Peak: independent FMA chains, run in every benchmark thread at once.
void bm_peak(benchmark::State& state, std::string isa) {
  std::uint64_t flops = 0;
  for (auto _ : state) flops += bench::peak_loop(isa, 1 << 16);
  state.counters["FLOPS"] = benchmark::Counter(static_cast<double>(flops), benchmark::Counter::kIsRate);
}

struct GemmShape {
  const char* label;
  std::size_t m, n, k;
  bool bias, residual;
  Activation act;
};

std::string gemm_kernel_name(const GemmShape& s) {
  std::string name = "f32_gemm";
  if (s.bias) name += "_bias";
  if (s.act == Activation::quick_gelu) name += "_quickgelu";
  if (s.act == Activation::gelu_tanh) name += "_gelu";
  if (s.residual) name += "_residual";
  return name;
}

// (b) GEMM through ops::linear with a pool of `threads` (the caller works too).
void bm_gemm(benchmark::State& state, const kernels::KernelTable* table, GemmShape s, std::size_t threads) {
  AlignedBuffer<float> x(s.m * s.k), w(s.n * s.k), bias(s.n), y(s.m * s.n);
  fill_random(x.data(), x.size(), 1);
  fill_random(w.data(), w.size(), 2);
  fill_random(bias.data(), bias.size(), 3);
  fill_random(y.data(), y.size(), 4);  // also the in-place residual
  kernels::PackedMatrix pw;
  table->pack_weights(w.data(), s.n, s.k, kernels::WeightType::f32, pw);
  pw.packer = table;
  ThreadPool pool(threads);
  ops::Context ctx{*table, pool};
  const ops::LinearOut out{y.data(), s.n, s.residual ? y.data() : nullptr, s.residual ? s.n : 0};
  run_against_peak(state, pool, table->name, 2.0 * static_cast<double>(s.m * s.n * s.k),
                   [&] { ops::linear(ctx, x.data(), s.m, s.k, pw, s.bias ? bias.data() : nullptr, s.act, out); });
}

#ifdef CLIPCAER_BENCH_OPENBLAS
// Yardstick: OpenBLAS sgemm, C = A W^T (no bias or activation), on its own threads;
// peak_frac against the best table's ISA (OpenBLAS picks its kernel the same way).
void bm_openblas(benchmark::State& state, std::string isa, GemmShape s, std::size_t threads) {
  AlignedBuffer<float> x(s.m * s.k), w(s.n * s.k), y(s.m * s.n);
  fill_random(x.data(), x.size(), 1);
  fill_random(w.data(), w.size(), 2);
  openblas_set_num_threads(static_cast<int>(threads));
  ThreadPool probe_pool(threads);
  const auto m = static_cast<blasint>(s.m), n = static_cast<blasint>(s.n), k = static_cast<blasint>(s.k);
  run_against_peak(state, probe_pool, isa, 2.0 * static_cast<double>(s.m * s.n * s.k), [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n);
  });
}
#endif

struct AttentionCase {
  const char* label;
  ops::AttentionShape shape;
};

// (c) Attention core of one layer (all sequences and heads).
void bm_attention(benchmark::State& state, const kernels::KernelTable* table, AttentionCase c, std::size_t threads) {
  const auto& s = c.shape;
  const std::size_t inner = s.heads * s.head_dim;
  AlignedBuffer<float> qkv(s.batch * s.seq_len * 3 * inner), out(s.batch * s.seq_len * inner), scratch;
  fill_random(qkv.data(), qkv.size(), 5);
  for (float& v : qkv) v *= 2.0f;
  ThreadPool pool(threads);
  ops::Context ctx{*table, pool};
  // Q K^T and P V, counting only the unmasked products.
  const double pairs = s.causal ? s.seq_len * (s.seq_len + 1) / 2.0 : static_cast<double>(s.seq_len * s.seq_len);
  run_against_peak(state, pool, table->name, 4.0 * pairs * static_cast<double>(s.head_dim * s.batch * s.heads),
                   [&] { ops::self_attention(ctx, qkv.data(), out.data(), s, scratch); });
}

void register_all() {
  const auto tables = kernels::usable_tables();
  for (const kernels::KernelTable* t : tables) {
    if (g_peak.count(t->name) == 0) continue;
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark((std::string("fma_peak/") + t->name).c_str(), bm_peak, std::string(t->name))
          ->Threads(threads)
          ->UseRealTime();
  }

  const float scale = 0.125f;  // 1 / sqrt(64)
  const std::vector<GemmShape> shapes = {
      // ViT-B/32 on one clip (32 images x 50 tokens), per layer; patch embedding via im2col.
      {"vit.patch_embed", 1568, 768, 3072, false, false, Activation::none},
      {"vit.in_proj", 1600, 2304, 768, true, false, Activation::none},
      {"vit.out_proj", 1600, 768, 768, true, true, Activation::none},
      {"vit.c_fc", 1600, 3072, 768, true, false, Activation::quick_gelu},
      {"vit.c_proj", 1600, 768, 3072, true, true, Activation::none},
      // Several clips at once.
      {"vit2.c_fc", 3200, 3072, 768, true, false, Activation::quick_gelu},
      {"vit4.c_fc", 6400, 3072, 768, true, false, Activation::quick_gelu},
      // Text tower (5 prompts x ~40 tokens, width 512).
      {"text.in_proj", 200, 1536, 512, true, false, Activation::none},
      {"text.out_proj", 200, 512, 512, true, true, Activation::none},
      {"text.c_fc", 200, 2048, 512, true, false, Activation::quick_gelu},
      {"text.c_proj", 200, 512, 2048, true, true, Activation::none},
      // Temporal encoders (17 tokens, width 512).
      {"temporal.in_proj", 17, 1536, 512, true, false, Activation::none},
      {"temporal.out_proj", 17, 512, 512, true, true, Activation::none},
      {"temporal.c_fc", 17, 2048, 512, true, false, Activation::quick_gelu},
      {"temporal.c_proj", 17, 512, 2048, true, true, Activation::none},
  };
  for (const kernels::KernelTable* t : tables)
    for (const GemmShape& s : shapes)
      for (std::size_t threads : {1, 2}) {
        const std::string name = gemm_kernel_name(s) + "/" + t->name + "/" + s.label + "/M:" + std::to_string(s.m) +
                                 "/N:" + std::to_string(s.n) + "/K:" + std::to_string(s.k) +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), bm_gemm, t, s, threads)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }

#ifdef CLIPCAER_BENCH_OPENBLAS
  for (const GemmShape& s : shapes)
    for (std::size_t threads : {1, 2}) {
      const std::string name = std::string("openblas_sgemm/") + s.label + "/M:" + std::to_string(s.m) +
                               "/N:" + std::to_string(s.n) + "/K:" + std::to_string(s.k) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bm_openblas, std::string(tables.front()->name), s, threads)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
#endif

  const std::vector<AttentionCase> cases = {
      {"vit.layer", {32, 50, 12, 64, scale, false}},
      {"text.layer", {5, 77, 8, 64, scale, true}},
      {"temporal.layer", {1, 17, 8, 64, scale, false}},
  };
  for (const kernels::KernelTable* t : tables)
    for (const AttentionCase& c : cases)
      for (std::size_t threads : {1, 2}) {
        const auto& s = c.shape;
        const std::string name = std::string(s.causal ? "f32_attention_causal/" : "f32_attention/") + t->name + "/" +
                                 c.label + "/B:" + std::to_string(s.batch) + "/S:" + std::to_string(s.seq_len) +
                                 "/H:" + std::to_string(s.heads) + "/D:" + std::to_string(s.head_dim) +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), bm_attention, t, c, threads)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The reference every peak_frac is relative to, measured before anything else.
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    const double peak = bench::measure_peak_flops(t->name);
    if (peak <= 0) continue;
    g_peak[t->name] = peak;
    std::fprintf(stderr, "measured single-core peak, %s: %.1f GFLOP/s\n", t->name, peak * 1e-9);
    benchmark::AddCustomContext(std::string("peak_gflops_") + t->name, std::to_string(peak * 1e-9));
  }
  std::fflush(stderr);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
