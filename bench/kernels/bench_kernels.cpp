// Kernel benchmarks: the measured peaks first (f32 FMA per table ISA, bf16
// vdpbf16ps / tdpbf16ps, int8 vpdpbusd / tdpbusd, or pmaddwd + paddd where
// there is no VNNI), then every GEMM shape of CLIP-CAER through
// ops::linear (1 and 2 threads) for f32, bf16 and int8 weights, and attention
// per layer, for every kernel table this CPU runs. Every kernel iteration is
// followed by the matching peak loop on the same threads for about as long:
// peak_frac = kernel flop/s / peak flop/s measured alongside (peak_GFLOPS).
// f32 GEMMs on the avx512 / avx2 tables also get mix_frac = flop/s / (threads x
// the single-thread ceiling of their tile's instruction mix, gemm_mix_<isa>,
// measured at start).
//
//   build/bin/bench_kernels --benchmark_filter='avx512/vit' --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/ops/attention.hpp"
#include "clipcaer/ops/linear.hpp"
#include "fma_peak.hpp"
#include "peak_probe.hpp"

#ifdef CLIPCAER_BENCH_OPENBLAS
#include <cblas.h>
#endif

using namespace clipcaer;
using kernels::Activation;

namespace {

std::map<std::string, double> g_peak;  // peak loop (fma_peak.hpp) -> single-thread flop/s (op/s)

void fill_random(float* p, std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (std::size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// Runs fn against the peak `isa` (see peak_probe.hpp), sized by the peak measured at start.
template <class F>
double run_against_peak(benchmark::State& state, ThreadPool& pool, const std::string& isa, double work_per_iter, F&& fn,
                        const char* work_unit = nullptr) {
  return bench::run_against_peak(state, pool, isa, g_peak.count(isa) ? g_peak[isa] : 0.0, work_per_iter,
                                 std::forward<F>(fn), work_unit);
}

// (a) Peaks: independent FMA / dot-product chains, run in every benchmark thread at once.
void bm_peak(benchmark::State& state, std::string isa) {
  if (const std::string why = bench::peak_unavailable_reason(isa); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  std::uint64_t flops = 0;
  for (auto _ : state) flops += bench::peak_loop(isa, 1 << 16);
  state.counters[bench::peak_unit(isa)] = benchmark::Counter(static_cast<double>(flops), benchmark::Counter::kIsRate);
}

struct GemmShape {
  const char* label;
  std::size_t m, n, k;
  bool bias, residual;
  Activation act;
};

const char* dtype_prefix(kernels::WeightType t) {
  switch (t) {
    case kernels::WeightType::f32: return "f32";
    case kernels::WeightType::bf16: return "bf16";
    case kernels::WeightType::i8: return "int8";
  }
  return "?";
}

// f32_gemm..., bf16_gemm..., int8_gemm... (the weight storage; activations are f32).
std::string gemm_kernel_name(const GemmShape& s, kernels::WeightType type) {
  std::string name = std::string(dtype_prefix(type)) + "_gemm";
  if (s.bias) name += "_bias";
  if (s.act == Activation::quick_gelu) name += "_quickgelu";
  if (s.act == Activation::gelu_tanh) name += "_gelu";
  if (s.residual) name += "_residual";
  return name;
}

// (b) GEMM through ops::linear with a pool of `threads` (the caller works too),
// W stored as `type`; peak_frac against gemm_peak_isa(table, type), mix_frac
// (f32 on the avx512 / avx2 tables) against gemm_mix_isa(table, type). A table
// that cannot pack `type` (pack_weights throws) skips with its message.
void bm_gemm(benchmark::State& state, const kernels::KernelTable* table, GemmShape s, kernels::WeightType type,
             std::size_t threads) {
  AlignedBuffer<float> w(s.n * s.k);
  fill_random(w.data(), w.size(), 2);
  kernels::PackedMatrix pw;
  try {
    table->pack_weights(w.data(), s.n, s.k, type, pw);
  } catch (const Error& e) {
    state.SkipWithError(e.what());
    return;
  }
  pw.packer = table;
  AlignedBuffer<float> x(s.m * s.k), bias(s.n), y(s.m * s.n);
  fill_random(x.data(), x.size(), 1);
  fill_random(bias.data(), bias.size(), 3);
  fill_random(y.data(), y.size(), 4);  // also the in-place residual
  ThreadPool pool(threads);
  ops::Context ctx{*table, pool};
  const ops::LinearOut out{y.data(), s.n, s.residual ? y.data() : nullptr, s.residual ? s.n : 0};
  const double rate = run_against_peak(
      state, pool, bench::gemm_peak_isa(table->name, type), 2.0 * static_cast<double>(s.m * s.n * s.k),
      [&] { ops::linear(ctx, x.data(), s.m, s.k, pw, s.bias ? bias.data() : nullptr, s.act, out); },
      type == kernels::WeightType::i8 ? "OPS" : "FLOPS");
  const std::string mix = bench::gemm_mix_isa(table->name, type);
  if (rate > 0 && !mix.empty() && g_peak.count(mix))
    state.counters["mix_frac"] = rate / (g_peak[mix] * static_cast<double>(threads));
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
  run_against_peak(state, pool, bench::fma_peak_isa(table->name), 4.0 * pairs * static_cast<double>(s.head_dim * s.batch * s.heads),
                   [&] { ops::self_attention(ctx, qkv.data(), out.data(), s, scratch); });
}

// Instruction-mix ceilings of the f32 GEMM tiles (fma_peak.hpp), as fma_peak/<loop>.
const char* const kMixPeaks[] = {"gemm_mix_avx512", "gemm_mix_avx2"};

// bf16 / int8 peaks: peak loop and the instruction it runs.
const std::pair<const char*, const char*> kDotPeaks[] = {
    {"bf16_dot", "vdpbf16ps"},           {"int8_vnni", "vpdpbusd"},
    {"int8_avxvnni", "vpdpbusd_ymm"},    {"bf16_amx", "tdpbf16ps"},
    {"int8_amx", "tdpbusd"},             {"int8_pmaddwd_avx512", "vpmaddwd_zmm"},
    {"int8_pmaddwd_avx2", "vpmaddwd_ymm"}, {"int8_pmaddwd_sse2", "pmaddwd_xmm"}};

// The f32 FMA peak of every usable table (then come the kDotPeaks).
std::vector<std::string> peak_isas() {
  std::vector<std::string> isas;
  for (const kernels::KernelTable* t : kernels::usable_tables()) {
    const std::string isa = bench::fma_peak_isa(t->name);
    if (bench::peak_loop(isa, 1) > 0 && std::find(isas.begin(), isas.end(), isa) == isas.end()) isas.push_back(isa);
  }
  return isas;
}

void register_all() {
  const auto tables = kernels::usable_tables();
  for (const std::string& isa : peak_isas())
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("fma_peak/" + isa).c_str(), bm_peak, isa)->Threads(threads)->UseRealTime();
  // Registered whatever the CPU: they skip with the reason where they cannot run.
  for (const char* isa : kMixPeaks)
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark((std::string("fma_peak/") + isa).c_str(), bm_peak, std::string(isa))
          ->Threads(threads)
          ->UseRealTime();
  for (const auto& [isa, insn] : kDotPeaks) {
    const std::string name = std::string(isa) + "_peak/" + insn;
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(name.c_str(), bm_peak, std::string(isa))->Threads(threads)->UseRealTime();
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
  for (kernels::WeightType type : {kernels::WeightType::f32, kernels::WeightType::bf16, kernels::WeightType::i8})
    for (const kernels::KernelTable* t : tables)
      for (const GemmShape& s : shapes)
        for (std::size_t threads : {1, 2}) {
          const std::string name = gemm_kernel_name(s, type) + "/" + t->name + "/" + s.label +
                                   "/M:" + std::to_string(s.m) + "/N:" + std::to_string(s.n) +
                                   "/K:" + std::to_string(s.k) + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bm_gemm, t, s, type, threads)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond);
        }

#ifdef CLIPCAER_BENCH_OPENBLAS
  for (const GemmShape& s : shapes)
    for (std::size_t threads : {1, 2}) {
      const std::string name = std::string("openblas_sgemm/") + s.label + "/M:" + std::to_string(s.m) +
                               "/N:" + std::to_string(s.n) + "/K:" + std::to_string(s.k) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bm_openblas, bench::fma_peak_isa(tables.front()->name), s, threads)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
#endif

  const std::vector<AttentionCase> cases = {
      {"vit.layer", {32, 50, 12, 64, scale, false}},
      {"text.layer", {5, 77, 8, 64, scale, true}},
      {"temporal.layer", {1, 17, 8, 64, scale, false}},
  };
  auto register_attention = [](const char* kind, const kernels::KernelTable* t, const AttentionCase& c) {
    for (std::size_t threads : {1, 2}) {
      const auto& s = c.shape;
      const std::string name = std::string(kind) + (s.causal ? "_causal/" : "/") + t->name + "/" + c.label +
                               "/B:" + std::to_string(s.batch) + "/S:" + std::to_string(s.seq_len) +
                               "/H:" + std::to_string(s.heads) + "/D:" + std::to_string(s.head_dim) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), bm_attention, t, c, threads)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  };
  for (const kernels::KernelTable* t : tables)
    for (const AttentionCase& c : cases) register_attention("f32_attention", t, c);
  // int8 models' attention (bf16 products) where the table has it: the ViT layer.
  for (const kernels::KernelTable* t : tables)
    for (AttentionCase c : cases)
      if (t->attention_bf16 && std::string(c.label) == "vit.layer") {
        c.shape.bf16 = true;
        register_attention("bf16_attention", t, c);
      }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The references every peak_frac is relative to, measured before anything else.
  std::vector<std::string> isas = peak_isas();
  for (const char* mix : kMixPeaks) isas.push_back(mix);
  for (const auto& dot : kDotPeaks) isas.push_back(dot.first);
  for (const std::string& isa : isas) {
    const double peak = bench::measure_peak_flops(isa);
    if (peak <= 0) {
      std::fprintf(stderr, "no %s peak: %s\n", isa.c_str(), bench::peak_unavailable_reason(isa).c_str());
      continue;
    }
    g_peak[isa] = peak;
    const bool ops = std::string(bench::peak_unit(isa)) == "OPS";
    std::fprintf(stderr, "measured single-core peak, %s: %.1f %s\n", isa.c_str(), peak * 1e-9,
                 ops ? "GOP/s" : "GFLOP/s");
    benchmark::AddCustomContext((ops ? "peak_gops_" : "peak_gflops_") + isa, std::to_string(peak * 1e-9));
  }
  std::fflush(stderr);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
