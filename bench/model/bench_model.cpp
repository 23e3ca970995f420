// Per-clip and per-layer times of a full-size CLIP-CAER model, per weight
// dtype and thread count. The weights file comes from CLIPCAER_BENCH_MODEL
// (tests/fullsize/check_parity.py --keep DIR writes DIR/clip_caer.safetensors);
// without it every benchmark skips. The input is one clip of 16 face crops +
// 16 frames, pseudo-random pixels in [0, 1] (the time does not depend on them).
//
//   clip/classify_clip/<dtype>/threads:T         Model::classify_clip, the whole clip
//   clip/encode_images/<dtype>/images:32/...     Model::encode_images on the clip's 32 images
//   clip/temporal_fusion/float32/...             both temporal encoders + fusion head + logits
//   vit_layer/<part>/<dtype>/M:1600/...          one ViT residual block (layer 0 of the file),
//       part by part as TransformerBlock::forward runs them (ln_1, in_proj, attention,
//       out_proj_residual, ln_2, c_fc_quickgelu, c_proj_residual), the whole block as
//       Model runs it (block: by sequence group) and op by op (block_by_op), and
//       patch_embed (M = 1568).
// The dtype applies where Model applies it, to the image tower's residual blocks
// (and for int8 bfloat16 to the patch embedding and, where the table has
// vdpbf16ps, to attention's products); LayerNorm and everything after the
// tower are float32 whatever the dtype, so they run once, as float32; the
// patch embedding and attention as float32 and as int8.
//
// Every iteration is followed by a peak loop on as many threads for about as
// long (peak_probe.hpp): the f32 FMA peak of the kernel table, or the bf16 /
// int8 peak (dot or AMX) for those GEMMs on the table that uses it. peak_GFLOPS is
// then a load gauge; peak_frac and cpu_frac are as in bench_kernels.
//
//   CLIPCAER_BENCH_MODEL=/tmp/fullsize/clip_caer.safetensors build/bin/bench_model
//       --benchmark_repetitions=5 --benchmark_out=model.json --benchmark_out_format=json
//   python3 bench/kernels/summarize.py --shares model.json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/models/compute_dtype.hpp"
#include "clipcaer/models/config.hpp"
#include "clipcaer/models/fusion_head.hpp"
#include "clipcaer/models/temporal_encoder.hpp"
#include "clipcaer/nn/layer_norm.hpp"
#include "clipcaer/nn/linear.hpp"
#include "clipcaer/nn/transformer_block.hpp"
#include "clipcaer/nn/workspace.hpp"
#include "clipcaer/ops/attention.hpp"
#include "fma_peak.hpp"
#include "peak_probe.hpp"

using namespace clipcaer;
using kernels::Activation;

namespace {

constexpr const char* kEnv = "CLIPCAER_BENCH_MODEL";
const char* const kDtypes[] = {"float32", "bfloat16", "int8"};

std::map<std::string, double> g_peak;  // peak loop -> single-thread flop/s (op/s)

// "<table> <dtype> peak:<peak loop>" (summarize.py --normalize reads the peak loop).
std::string label(const std::string& table, const std::string& dtype, const std::string& peak) {
  return table + " " + dtype + " peak:" + peak;
}

const char* model_path() {
  const char* p = std::getenv(kEnv);
  return p && *p ? p : nullptr;
}

bool skip_without_model(benchmark::State& state) {
  if (model_path()) return false;
  state.SkipWithError(
      "CLIPCAER_BENCH_MODEL is not set: point it at a full-size weights file "
      "(tests/fullsize/check_parity.py --keep DIR writes DIR/clip_caer.safetensors)");
  return true;
}

// work: 2 per multiply-add whatever the dtype; `unit` names it ("OPS" for int8 GEMMs).
template <class F>
void run_against_peak(benchmark::State& state, ThreadPool& pool, const std::string& isa, double work, F&& fn,
                      const char* unit = "FLOPS") {
  bench::run_against_peak(state, pool, isa, g_peak.count(isa) ? g_peak[isa] : 0.0, work, std::forward<F>(fn), unit);
}

void fill_uniform(float* p, std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (std::size_t i = 0; i < n; ++i) p[i] = dist(rng);
}

// ---- flop counts (2 per multiply-add; softmax, LayerNorm and the like not counted) ----

struct BlockDims {
  std::size_t rows, batch, seq, width, heads, head_dim, mlp;
};

double block_gemm_flops(const BlockDims& d, const char* part) {
  const double r = static_cast<double>(d.rows), w = static_cast<double>(d.width),
               inner = static_cast<double>(d.heads * d.head_dim), mlp = static_cast<double>(d.mlp);
  const std::string p = part;
  if (p == "in_proj") return 2 * r * w * 3 * inner;
  if (p == "out_proj_residual") return 2 * r * inner * w;
  if (p == "c_fc_quickgelu") return 2 * r * w * mlp;
  if (p == "c_proj_residual") return 2 * r * mlp * w;
  return 0;
}

double attention_flops(const BlockDims& d) {  // Q K^T and P V
  return 4.0 * static_cast<double>(d.batch * d.heads * d.seq * d.seq * d.head_dim);
}

double block_flops(const BlockDims& d) {
  double f = attention_flops(d);
  for (const char* p : {"in_proj", "out_proj_residual", "c_fc_quickgelu", "c_proj_residual"}) f += block_gemm_flops(d, p);
  return f;
}

// A tower's last block (nn::TransformerBlock::forward_first_rows): keys and
// values of every row, everything else for each sequence's first row only.
double last_block_flops(const BlockDims& d) {
  const double b = static_cast<double>(d.batch), w = static_cast<double>(d.width),
               inner = static_cast<double>(d.heads * d.head_dim), mlp = static_cast<double>(d.mlp);
  return 2 * static_cast<double>(d.rows) * w * 2 * inner + 2 * b * w * inner +  // k, v of all rows; q of first rows
         4.0 * b * inner * static_cast<double>(d.seq) +                         // one query row per head
         2 * b * inner * w + 2 * b * w * mlp * 2;                               // out_proj, c_fc, c_proj
}

// Blocks of a tower of `layers` blocks, all but the last whole.
double tower_blocks_flops(const BlockDims& d, std::size_t layers) {
  return layers == 0 ? 0.0 : static_cast<double>(layers - 1) * block_flops(d) + last_block_flops(d);
}

BlockDims vit_dims(const ModelConfig& c, std::size_t images) {
  const auto& v = c.vision;
  return {images * v.tokens(), images, v.tokens(), v.width, v.heads, v.width / v.heads, 4 * v.width};
}

double image_tower_flops(const ModelConfig& c, std::size_t images) {
  const auto& v = c.vision;
  const double patches = static_cast<double>(images * v.grid() * v.grid());
  return 2 * patches * static_cast<double>(v.width * 3 * v.patch_size * v.patch_size) +
         tower_blocks_flops(vit_dims(c, images), v.layers) +
         2.0 * static_cast<double>(images * v.width * c.embed_dim);
}

double temporal_fusion_flops(const ModelConfig& c, std::size_t frames) {
  const auto& t = c.temporal;
  const BlockDims d{frames + 1, 1, frames + 1, c.embed_dim, t.heads, t.dim_head, t.mlp_dim};
  return 2 * tower_blocks_flops(d, t.depth) +
         2.0 * static_cast<double>(2 * c.embed_dim * c.embed_dim + c.num_classes() * c.embed_dim);
}

// ---- the model, one dtype loaded at a time (a full-size float32 model is ~0.6 GB packed) ----

struct LoadedModel {
  std::string dtype, error;
  std::unique_ptr<Model> model;
};

Model* load_model(benchmark::State& state, const std::string& dtype, std::size_t threads) {
  static LoadedModel slot;
  if (slot.dtype != dtype) {
    slot = LoadedModel{dtype, "", nullptr};
    try {
      ModelOptions o;
      o.threads = threads;
      o.dtype = dtype;
      slot.model = std::make_unique<Model>(model_path(), o);
    } catch (const Error& e) {
      slot.error = e.what();
    }
  }
  if (!slot.model) {
    state.SkipWithError(slot.error.c_str());
    return nullptr;
  }
  slot.model->set_threads(threads);
  return slot.model.get();
}

struct ClipInput {
  Tensor faces, frames, images;  // images = faces then frames, as the model runs them
};

const ClipInput& clip_input(const Model& m) {
  static ClipInput in = [&] {
    const std::size_t T = m.num_frames(), S = m.image_size();
    ClipInput c{Tensor({T, 3, S, S}), Tensor({T, 3, S, S}), Tensor({2 * T, 3, S, S})};
    fill_uniform(c.faces.data(), c.faces.size(), 11, 0.0f, 1.0f);
    fill_uniform(c.frames.data(), c.frames.size(), 12, 0.0f, 1.0f);
    std::copy(c.faces.begin(), c.faces.end(), c.images.begin());
    std::copy(c.frames.begin(), c.frames.end(), c.images.begin() + static_cast<std::ptrdiff_t>(c.faces.size()));
    return c;
  }();
  return in;
}

void bm_classify_clip(benchmark::State& state, std::string dtype, std::size_t threads) {
  if (skip_without_model(state)) return;
  Model* m = load_model(state, dtype, threads);
  if (!m) return;
  const ClipInput& in = clip_input(*m);
  ThreadPool probe(threads);
  const double flops = image_tower_flops(m->config(), 2 * m->num_frames()) + temporal_fusion_flops(m->config(), m->num_frames());
  const std::string peak = bench::fma_peak_isa(m->kernel_set());
  run_against_peak(state, probe, peak, flops, [&] { benchmark::DoNotOptimize(m->classify_clip(in.faces, in.frames)); });
  state.SetLabel(label(m->kernel_set(), m->dtype(), peak));
}

// One clip with the image tower on CLIPCAER_BENCH_DEVICE ("cuda", "cuda:N"),
// wall time (the GPU works while the calling thread waits), work per second
// as a counter. Its own model: the CPU ones above stay as they are.
void bm_classify_clip_device(benchmark::State& state, std::string device, std::size_t threads) {
  if (skip_without_model(state)) return;
  static std::unique_ptr<Model> m;
  static std::string error;
  if (!m && error.empty()) {
    try {
      ModelOptions o;
      o.device = device;
      o.threads = threads;
      m = std::make_unique<Model>(model_path(), o);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  if (!m) {
    state.SkipWithError(error.c_str());
    return;
  }
  const ClipInput& in = clip_input(*m);
  benchmark::DoNotOptimize(m->classify_clip(in.faces, in.frames));  // warm: buffers sized, kernels loaded
  for (auto _ : state) benchmark::DoNotOptimize(m->classify_clip(in.faces, in.frames));
  const double flops = image_tower_flops(m->config(), 2 * m->num_frames()) + temporal_fusion_flops(m->config(), m->num_frames());
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(m->device());
}

void bm_encode_images(benchmark::State& state, std::string dtype, std::size_t threads) {
  if (skip_without_model(state)) return;
  Model* m = load_model(state, dtype, threads);
  if (!m) return;
  const ClipInput& in = clip_input(*m);
  ThreadPool probe(threads);
  const std::string peak = bench::fma_peak_isa(m->kernel_set());
  run_against_peak(state, probe, peak, image_tower_flops(m->config(), in.images.dim(0)),
                   [&] { benchmark::DoNotOptimize(m->encode_images(in.images)); });
  state.SetLabel(label(m->kernel_set(), m->dtype(), peak));
}

// ---- the parts, loaded from the file with the model's kernel table and dtype ----

struct Parts {
  std::string dtype, error;
  const kernels::KernelTable* table = nullptr;
  ModelConfig config;
  // ViT layer 0 and the patch embedding.
  nn::LayerNorm ln_1, ln_2;
  nn::Linear in_proj, out_proj, c_fc, c_proj, patch_embed;
  nn::TransformerBlock block;
  // Everything after the image tower.
  models::TemporalEncoder face_temporal, context_temporal;
  models::FusionHead head;
};

// The table Model uses by default (CLIPCAER_ISA may force one).
const kernels::KernelTable& model_table() { return kernels::best_table(); }

const Parts* load_parts(benchmark::State& state, const std::string& dtype) {
  static std::unique_ptr<Parts> slot;
  if (!slot || slot->dtype != dtype) {
    slot = std::make_unique<Parts>();
    Parts& p = *slot;
    p.dtype = dtype;
    try {
      p.table = &model_table();
      io::SafetensorsFile file(model_path());
      io::WeightReader reader(file);
      p.config = parse_model_config(file);
      require(p.config.is_clip_caer(), ErrorCode::unsupported, "'", model_path(), "' is a plain CLIP model");
      const nn::LoadContext lc{reader, *p.table, models::parse_compute_dtype(dtype, "dtype")};
      // As Model::load: the dtype applies to the image tower's residual blocks
      // only; the patch embedding is bfloat16 for int8, else float32; the
      // temporal encoders and fusion head stay float32.
      const nn::LoadContext f32{reader, *p.table, kernels::WeightType::f32};
      const nn::LoadContext first{reader, *p.table, models::VisionTransformer::patch_embed_type(lc.weight_type)};
      const auto& v = p.config.vision;
      const std::size_t w = v.width, heads = v.heads;
      const nn::BlockNames n = nn::BlockNames::clip("visual.transformer.resblocks.0.");
      p.ln_1.load(lc, n.norm1, w);
      p.ln_2.load(lc, n.norm2, w);
      p.in_proj.load(lc, n.qkv_weight, n.qkv_bias, 3 * w, w);
      p.out_proj.load(lc, n.out_weight, n.out_bias, w, w);
      p.c_fc.load(lc, n.fc1_weight, n.fc1_bias, 4 * w, w);
      p.c_proj.load(lc, n.fc2_weight, n.fc2_bias, w, 4 * w);
      p.block.load(lc, n, {w, heads, w / heads, 4 * w, Activation::quick_gelu});
      const std::size_t P = v.patch_size;
      AlignedBuffer<float> conv = reader.floats("visual.conv1.weight", {w, 3, P, P});
      p.patch_embed.set(first, conv.data(), w, 3 * P * P);
      p.face_temporal.load(f32, "temporal_net.", p.config.temporal, p.config.embed_dim);
      p.context_temporal.load(f32, "temporal_net_body.", p.config.temporal, p.config.embed_dim);
      p.head.load(f32, p.config.embed_dim, p.config.logit_scale);
    } catch (const Error& e) {
      p.error = e.what();
    }
  }
  if (!slot->error.empty()) {
    state.SkipWithError(slot->error.c_str());
    return nullptr;
  }
  return slot.get();
}

// As Model::features after the image tower: both temporal encoders, fuse, logits.
void bm_temporal_fusion(benchmark::State& state, std::string dtype, std::size_t threads) {
  if (skip_without_model(state)) return;
  const Parts* p = load_parts(state, dtype);
  if (!p) return;
  const std::size_t T = p->config.temporal.num_frames, E = p->config.embed_dim, C = p->config.num_classes();
  AlignedBuffer<float> face(T * E), context(T * E), face_video(E), context_video(E), video(E), logits(C);
  fill_uniform(face.data(), face.size(), 21, -1.0f, 1.0f);
  fill_uniform(context.data(), context.size(), 22, -1.0f, 1.0f);
  Tensor text({C, E});
  fill_uniform(text.data(), text.size(), 23, -1.0f, 1.0f);
  models::l2_normalize_rows(*p->table, text.data(), C, E);
  nn::Workspace ws;
  ThreadPool pool(threads);
  const ops::Context ctx{*p->table, pool};
  const std::string peak = bench::fma_peak_isa(p->table->name);
  run_against_peak(state, pool, peak, temporal_fusion_flops(p->config, T), [&] {
    p->face_temporal.forward(ctx, face.data(), 1, T, face_video.data(), ws);
    p->context_temporal.forward(ctx, context.data(), 1, T, context_video.data(), ws);
    p->head.fuse(ctx, face_video.data(), context_video.data(), 1, video.data(), ws);
    p->head.logits(*p->table, video.data(), 1, text, logits.data());
  });
  state.SetLabel(label(p->table->name, dtype, peak));
}

// One part of ViT layer 0 on one clip's 32 images (M = 32 x 50 = 1600 rows),
// on activations of the sizes TransformerBlock::forward uses.
void bm_vit_part(benchmark::State& state, std::string part, std::string dtype, std::size_t threads) {
  if (skip_without_model(state)) return;
  const Parts* p = load_parts(state, dtype);
  if (!p) return;
  const ModelConfig& c = p->config;
  const std::size_t images = 2 * c.temporal.num_frames;
  const BlockDims d = vit_dims(c, images);
  const std::size_t rows = d.rows, w = d.width, inner = d.heads * d.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d.head_dim));
  const std::size_t patch_rows = images * c.vision.grid() * c.vision.grid(), kdim = p->patch_embed.in_features();
  AlignedBuffer<float> x(rows * w), normed(rows * w), qkv(rows * 3 * inner), attended(rows * inner),
      hidden(rows * d.mlp), cols(part == "patch_embed" ? patch_rows * kdim : 0), scratch;
  // LayerNorm'd-like inputs for every part; x is the residual stream (updated in place).
  fill_uniform(x.data(), x.size(), 31, -1.0f, 1.0f);
  fill_uniform(normed.data(), normed.size(), 32, -1.5f, 1.5f);
  fill_uniform(qkv.data(), qkv.size(), 33, -2.0f, 2.0f);
  fill_uniform(attended.data(), attended.size(), 34, -1.0f, 1.0f);
  fill_uniform(hidden.data(), hidden.size(), 35, -1.0f, 1.0f);
  fill_uniform(cols.data(), cols.size(), 36, 0.0f, 1.0f);
  nn::Workspace ws;
  ThreadPool pool(threads);
  const ops::Context ctx{*p->table, pool};
  const std::string fma = bench::fma_peak_isa(p->table->name);
  const std::string gemm = bench::gemm_peak_isa(p->table->name, models::parse_compute_dtype(dtype, "dtype"));
  const Activation none = Activation::none;
  const char* unit = dtype == "int8" ? "OPS" : "FLOPS";
  const std::string patch_peak = bench::gemm_peak_isa(p->table->name, p->patch_embed.packed().type);
  const bool gemm_part = part != "ln_1" && part != "ln_2" && part != "attention" && part != "block" &&
                         part != "block_by_op" && part != "last_block";
  if (part == "ln_1" || part == "ln_2") {
    const nn::LayerNorm& ln = part == "ln_1" ? p->ln_1 : p->ln_2;
    run_against_peak(state, pool, fma, 0, [&] { ln.forward(ctx, x.data(), w, normed.data(), w, rows); });
  } else if (part == "in_proj") {
    run_against_peak(
        state, pool, gemm, block_gemm_flops(d, "in_proj"),
        [&] { p->in_proj.forward(ctx, normed.data(), rows, w, qkv.data(), 3 * inner); }, unit);
  } else if (part == "attention") {
    run_against_peak(state, pool, fma, attention_flops(d), [&] {
      // int8 blocks run it with bf16 products where the table has them.
      ops::AttentionShape s{d.batch, d.seq, d.heads, d.head_dim, scale, false};
      s.bf16 = dtype == "int8";
      ops::self_attention(ctx, qkv.data(), attended.data(), s, scratch);
    });
  } else if (part == "out_proj_residual") {
    run_against_peak(
        state, pool, gemm, block_gemm_flops(d, "out_proj_residual"),
        [&] { p->out_proj.forward(ctx, attended.data(), rows, inner, x.data(), w, none, x.data(), w); }, unit);
  } else if (part == "c_fc_quickgelu") {
    run_against_peak(
        state, pool, gemm, block_gemm_flops(d, "c_fc_quickgelu"),
        [&] { p->c_fc.forward(ctx, normed.data(), rows, w, hidden.data(), d.mlp, Activation::quick_gelu); }, unit);
  } else if (part == "c_proj_residual") {
    run_against_peak(
        state, pool, gemm, block_gemm_flops(d, "c_proj_residual"),
        [&] { p->c_proj.forward(ctx, hidden.data(), rows, d.mlp, x.data(), w, none, x.data(), w); }, unit);
  } else if (part == "block" || part == "block_by_op") {
    // "block": as Model runs it (by sequence group when there are enough); "block_by_op": each op across the pool.
    const auto schedule = part == "block" ? nn::TransformerBlock::Schedule::automatic
                                          : nn::TransformerBlock::Schedule::by_op;
    run_against_peak(state, pool, fma, block_flops(d),
                     [&] { p->block.forward(ctx, x.data(), d.batch, d.seq, /*causal=*/false, ws, schedule); });
  } else if (part == "last_block") {  // the tower's last block: first rows only, out of place
    AlignedBuffer<float> first(d.batch * w);
    run_against_peak(state, pool, fma, last_block_flops(d), [&] {
      p->block.forward_first_rows(ctx, x.data(), d.batch, d.seq, /*causal=*/false, first.data(), ws);
    });
  } else if (part == "patch_embed") {  // float32, or bfloat16 for int8, as the model runs it
    run_against_peak(state, pool, patch_peak, 2.0 * static_cast<double>(patch_rows * kdim * w),
                     [&] { p->patch_embed.forward(ctx, cols.data(), patch_rows, kdim, normed.data(), w); });
  }
  state.SetLabel(label(p->table->name, dtype, part == "patch_embed" ? patch_peak : gemm_part ? gemm : fma));
}

void register_all() {
  const std::size_t images = 32, rows = images * 50;  // ViT-B/32 on one clip (names only; shapes come from the file)
  if (const char* device = std::getenv("CLIPCAER_BENCH_DEVICE"); device && *device)
    benchmark::RegisterBenchmark((std::string("clip/classify_clip_device/") + device + "/threads:2").c_str(),
                                 bm_classify_clip_device, std::string(device), std::size_t{2})
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  for (const char* dtype : kDtypes)
    for (std::size_t threads : {1, 2}) {
      const std::string t = "/threads:" + std::to_string(threads), dt = std::string("/") + dtype;
      benchmark::RegisterBenchmark(("clip/classify_clip" + dt + t).c_str(), bm_classify_clip, std::string(dtype), threads)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("clip/encode_images" + dt + "/images:" + std::to_string(images) + t).c_str(),
                                   bm_encode_images, std::string(dtype), threads)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
      if (std::string(dtype) == "float32")  // float32 whatever the dtype (Model::load)
        benchmark::RegisterBenchmark(("clip/temporal_fusion" + dt + t).c_str(), bm_temporal_fusion,
                                     std::string(dtype), threads)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    }
  // Parts that are float32 whatever the dtype (LayerNorm) run once, as
  // float32; the patch embedding and attention as float32 and as int8 runs
  // them (bfloat16; attention only where the table has vdpbf16ps).
  const std::vector<std::pair<const char*, bool>> parts = {
      {"ln_1", false},           {"in_proj", true},  {"attention", false},       {"out_proj_residual", true},
      {"ln_2", false},           {"c_fc_quickgelu", true}, {"c_proj_residual", true}, {"block", true},
      {"block_by_op", true},     {"last_block", true},     {"patch_embed", false},
  };
  for (const char* dtype : kDtypes)
    for (const auto& [part, per_dtype] : parts) {
      const bool int8_own = (std::string(part) == "patch_embed" || std::string(part) == "attention") &&
                            std::string(dtype) == "int8";  // int8 runs these its own way (bf16)
      if (!per_dtype && std::string(dtype) != "float32" && !int8_own) continue;
      const std::size_t m = std::string(part) == "patch_embed" ? images * 49 : rows;
      for (std::size_t threads : {1, 2}) {
        const std::string name = std::string("vit_layer/") + part + "/" + dtype + "/M:" + std::to_string(m) +
                                 "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), bm_vit_part, std::string(part), std::string(dtype), threads)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (const char* path = model_path()) {
    benchmark::AddCustomContext("model", path);
    try {  // for summarize.py --shares (a clip runs this many blocks)
      benchmark::AddCustomContext("vision_layers",
                                  std::to_string(parse_model_config(io::SafetensorsFile(path)).vision.layers));
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());  // the benchmarks skip with it
    }
  } else {
    std::fprintf(stderr, "%s is not set: every benchmark will skip\n", kEnv);
  }
  // Sizes the peak loops run alongside; also printed for the record.
  const std::string fma = bench::fma_peak_isa(model_table().name);
  const std::string int8 = bench::gemm_peak_isa(model_table().name, kernels::WeightType::i8);
  for (const std::string& isa : {fma, std::string("bf16_dot"), std::string("int8_vnni"), std::string("int8_avxvnni"),
                                  std::string("bf16_amx"), std::string("int8_amx"), int8}) {
    if (g_peak.count(isa)) continue;
    const double peak = bench::measure_peak_flops(isa);
    if (peak <= 0) continue;
    g_peak[isa] = peak;
    const bool ops = std::string(bench::peak_unit(isa)) == "OPS";
    std::fprintf(stderr, "measured single-core peak, %s: %.1f %s\n", isa.c_str(), peak * 1e-9,
                 ops ? "GOP/s" : "GFLOP/s");
    benchmark::AddCustomContext((ops ? "peak_gops_" : "peak_gflops_") + isa, std::to_string(peak * 1e-9));
  }
  benchmark::AddCustomContext("kernel_table", model_table().name);
  std::fflush(stderr);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
