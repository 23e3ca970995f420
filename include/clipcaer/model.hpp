// clipcaer::Model — load a converted CLIP-CAER weights file and classify
// clips of face crops and context frames. Thread-safe: one Model may serve
// many threads at once (see docs/api-cpp.md).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/models/config.hpp"
#include "clipcaer/models/fusion_head.hpp"
#include "clipcaer/models/learned_prompts.hpp"
#include "clipcaer/models/temporal_encoder.hpp"
#include "clipcaer/models/text_transformer.hpp"
#include "clipcaer/models/vision_transformer.hpp"

namespace clipcaer {

struct ModelOptions {
  std::size_t threads = 0;  // worker threads for one call; 0 = one per core
  std::string isa;          // kernel set ("avx512", "avx2", ...); empty = best for this CPU
  std::size_t max_batch_images = 64;  // images per image-tower pass (bounds activation memory)
};

// N clips, each `frames` face crops and `frames` context frames, float RGB
// CHW in [0, 1] (uint8 / 255, no mean/std normalisation), contiguous:
// faces[clip][frame][channel][y][x], likewise frames.
struct ClipBatch {
  const float* faces = nullptr;
  const float* frames = nullptr;
  std::size_t clips = 1;
  std::size_t frames_per_clip = 0;
  std::size_t channels = 3;
  std::size_t height = 0;
  std::size_t width = 0;
};

struct Prediction {
  std::vector<float> logits;  // one per class: 100 x cosine(video, class text)
  std::vector<float> probs;   // softmax(logits)
  std::size_t index = 0;      // argmax
  std::string label;          // class name at index
};

// Everything the forward pass computes for a batch, for users who want embeddings.
struct ClipFeatures {
  Tensor face_image;     // (N, T, E) image-tower output per face crop
  Tensor context_image;  // (N, T, E) image-tower output per context frame
  Tensor face_video;     // (N, E) face temporal encoder output
  Tensor context_video;  // (N, E) context temporal encoder output
  Tensor video;          // (N, E) fused, L2-normalised
  Tensor logits;         // (N, C)
};

class Model {
 public:
  explicit Model(const std::string& path, const ModelOptions& options = {})
      : file_(std::make_unique<io::SafetensorsFile>(path)),
        options_(options),
        kernels_(options.isa.empty() ? &kernels::best_table() : kernels::find_table(options.isa)),
        pool_(std::make_unique<ThreadPool>(options.threads)),
        workspaces_(std::make_unique<WorkspacePool>()) {
    if (!kernels_)
      throw_error(ErrorCode::unsupported, "kernel set '", options.isa, "' is not available on this CPU and build");
    require(options.max_batch_images >= 1, ErrorCode::invalid_argument, "max_batch_images must be at least 1");
    config_ = parse_model_config(*file_);
    for (const auto& c : config_.classes) class_names_.push_back(c.name);
    load();
  }

  const ModelConfig& config() const noexcept { return config_; }
  const std::string& path() const noexcept { return file_->path(); }
  std::size_t num_classes() const noexcept { return config_.num_classes(); }
  const std::vector<std::string>& class_names() const noexcept { return class_names_; }
  std::size_t num_frames() const noexcept { return config_.temporal.num_frames; }
  std::size_t image_size() const noexcept { return config_.vision.image_size; }
  std::size_t embed_dim() const noexcept { return config_.embed_dim; }
  const char* kernel_set() const noexcept { return kernels_->name; }
  std::size_t threads() const noexcept { return pool_->size(); }
  // Not to be called while another thread is inside this model.
  void set_threads(std::size_t threads) { pool_->resize(threads); }

  // (C, E) L2-normalised class text features, computed once at load.
  const Tensor& text_features() const noexcept { return text_features_; }

  Prediction classify_clip(const Tensor& faces, const Tensor& frames) const {
    return classify_clips(clip_batch(faces, frames, /*batched=*/false)).front();
  }
  // faces, frames: num_frames x 3 x S x S floats each.
  Prediction classify_clip(const float* faces, const float* frames, std::size_t num_frames) const {
    return classify_clips(ClipBatch{faces, frames, 1, num_frames, 3, image_size(), image_size()}).front();
  }
  // faces, frames: (N, T, 3, S, S)
  std::vector<Prediction> classify_clips(const Tensor& faces, const Tensor& frames) const {
    return classify_clips(clip_batch(faces, frames, /*batched=*/true));
  }
  std::vector<Prediction> classify_clips(const ClipBatch& batch) const {
    ClipFeatures f = features(batch);
    std::vector<Prediction> out(batch.clips);
    const std::size_t C = num_classes();
    for (std::size_t i = 0; i < batch.clips; ++i) {
      Prediction& p = out[i];
      p.logits.assign(f.logits.row(i), f.logits.row(i) + C);
      p.probs = p.logits;
      kernels_->softmax(p.probs.data(), C);
      p.index = static_cast<std::size_t>(std::max_element(p.logits.begin(), p.logits.end()) - p.logits.begin());
      p.label = class_names_[p.index];
    }
    return out;
  }

  ClipFeatures features(const Tensor& faces, const Tensor& frames) const {
    return features(clip_batch(faces, frames, faces.ndim() == 5));
  }
  ClipFeatures features(const ClipBatch& b) const {
    require(config_.is_clip_caer(), ErrorCode::unsupported, "weights file '", path(),
            "' is a plain CLIP model: it has no temporal encoders or fusion head to classify clips");
    check_batch(b);
    const std::size_t N = b.clips, T = b.frames_per_clip, E = embed_dim(), C = num_classes();
    ClipFeatures f{Tensor({N, T, E}), Tensor({N, T, E}), Tensor({N, E}), Tensor({N, E}), Tensor({N, E}),
                   Tensor({N, C})};
    WorkspaceLease ws(*workspaces_);
    const ops::Context ctx = context();
    // All 2·N·T images go through the image tower together, in passes of at
    // most max_batch_images (rows are independent, so the split never
    // changes results).
    encode_in_passes(ctx, b.faces, N * T, f.face_image.data(), *ws);
    encode_in_passes(ctx, b.frames, N * T, f.context_image.data(), *ws);
    face_temporal_.forward(ctx, f.face_image.data(), N, T, f.face_video.data(), *ws);
    context_temporal_.forward(ctx, f.context_image.data(), N, T, f.context_video.data(), *ws);
    head_.fuse(ctx, f.face_video.data(), f.context_video.data(), N, f.video.data(), *ws);
    head_.logits(*kernels_, f.video.data(), N, text_features_, f.logits.data());
    return f;
  }

  // (N, 3, S, S) images in [0, 1] -> (N, E) image-tower features (not normalised).
  Tensor encode_images(const Tensor& images) const {
    require(images.ndim() == 4, ErrorCode::invalid_argument, "images must have shape (N, 3, S, S), got ",
            shape_to_string(images.shape()));
    check_images("images", images.data(), images.dim(0), images.dim(1), images.dim(2), images.dim(3));
    Tensor out({images.dim(0), embed_dim()});
    WorkspaceLease ws(*workspaces_);
    encode_in_passes(context(), images.data(), images.dim(0), out.data(), *ws);
    return out;
  }

 private:
  // Workspaces are leased per call so concurrent callers never share scratch.
  struct WorkspacePool {
    std::mutex mutex;
    std::vector<std::unique_ptr<nn::Workspace>> free;
  };
  class WorkspaceLease {
   public:
    explicit WorkspaceLease(WorkspacePool& pool) : pool_(pool) {
      std::lock_guard<std::mutex> lock(pool_.mutex);
      if (!pool_.free.empty()) {
        ws_ = std::move(pool_.free.back());
        pool_.free.pop_back();
      }
      if (!ws_) ws_ = std::make_unique<nn::Workspace>();
    }
    ~WorkspaceLease() {
      std::lock_guard<std::mutex> lock(pool_.mutex);
      pool_.free.push_back(std::move(ws_));
    }
    nn::Workspace& operator*() { return *ws_; }

   private:
    WorkspacePool& pool_;
    std::unique_ptr<nn::Workspace> ws_;
  };

  ops::Context context() const { return {*kernels_, *pool_}; }

  void load() {
    io::WeightReader reader(*file_);
    const nn::LoadContext lc{reader, *kernels_, kernels::WeightType::f32};
    visual_.load(lc, config_.vision, config_.embed_dim);
    text_.load(lc, config_.text, config_.embed_dim);
    if (!config_.is_clip_caer()) return;
    face_temporal_.load(lc, "temporal_net.", config_.temporal, config_.embed_dim);
    context_temporal_.load(lc, "temporal_net_body.", config_.temporal, config_.embed_dim);
    head_.load(lc, config_.embed_dim, config_.logit_scale);

    Tensor prompts = models::learned_prompt_embeddings(reader, config_);
    const std::size_t C = num_classes();
    text_features_ = Tensor({C, embed_dim()});
    WorkspaceLease ws(*workspaces_);
    text_.encode(context(), prompts.data(), C, prompts.dim(1), config_.eot_positions.data(), text_features_.data(),
                 *ws);
    models::l2_normalize_rows(*kernels_, text_features_.data(), C, embed_dim());
  }

  void encode_in_passes(const ops::Context& ctx, const float* images, std::size_t n, float* out,
                        nn::Workspace& ws) const {
    const std::size_t image_floats = 3 * image_size() * image_size();
    for (std::size_t i = 0; i < n; i += options_.max_batch_images) {
      const std::size_t count = std::min(options_.max_batch_images, n - i);
      visual_.encode(ctx, images + i * image_floats, count, out + i * embed_dim(), ws);
    }
  }

  ClipBatch clip_batch(const Tensor& faces, const Tensor& frames, bool batched) const {
    const std::size_t rank = batched ? 5 : 4;
    const char* layout = batched ? "(N, T, 3, S, S)" : "(T, 3, S, S)";
    require(faces.ndim() == rank, ErrorCode::invalid_argument, "faces must have shape ", layout, ", got ",
            shape_to_string(faces.shape()));
    require(frames.ndim() == rank, ErrorCode::invalid_argument, "frames must have shape ", layout, ", got ",
            shape_to_string(frames.shape()));
    require(faces.shape() == frames.shape(), ErrorCode::invalid_argument, "faces ", shape_to_string(faces.shape()),
            " and frames ", shape_to_string(frames.shape()), " must have the same shape (one face crop per frame)");
    const std::size_t o = batched ? 1 : 0;
    return ClipBatch{faces.data(),    frames.data(),       batched ? faces.dim(0) : 1, faces.dim(o),
                     faces.dim(o + 1), faces.dim(o + 2), faces.dim(o + 3)};
  }

  void check_batch(const ClipBatch& b) const {
    require(b.clips >= 1, ErrorCode::invalid_argument, "a batch needs at least one clip");
    require(b.frames_per_clip >= 1, ErrorCode::invalid_argument, "a clip needs at least one frame");
    require(b.frames_per_clip <= num_frames(), ErrorCode::invalid_argument, "a clip has ", b.frames_per_clip,
            " frames but this model takes at most ", num_frames(), " (its temporal position table has ",
            num_frames() + 1, " rows)");
    check_images("faces", b.faces, b.clips * b.frames_per_clip, b.channels, b.height, b.width);
    check_images("frames", b.frames, b.clips * b.frames_per_clip, b.channels, b.height, b.width);
  }

  // Pixel values outside [0, 1] by more than this are a caller mistake (0..255
  // values, or CLIP mean/std normalisation applied to a CLIP-CAER input).
  static constexpr float kPixelSlack = 0.1f;

  void check_images(const char* what, const float* data, std::size_t count, std::size_t channels,
                    std::size_t height, std::size_t width) const {
    require(data != nullptr, ErrorCode::invalid_argument, what, " is a null pointer");
    require(count >= 1, ErrorCode::invalid_argument, what, ": no images");
    require(channels == 3, ErrorCode::invalid_argument, what, " have ", channels, " channels; expected 3 (RGB)");
    require(height == image_size() && width == image_size(), ErrorCode::invalid_argument, what, " are ", height, "x",
            width, " but this model takes ", image_size(), "x", image_size(), " images");
    const std::size_t n = 3 * height * width;
    for (std::size_t i = 0; i < count; ++i) {
      const float* img = data + i * n;
      require(kernels_->all_finite(img, n), ErrorCode::invalid_argument, what, "[", i,
              "] contains NaN or infinite values");
      float lo = 0, hi = 0;
      kernels_->min_max(img, n, &lo, &hi);
      require(lo >= -kPixelSlack && hi <= 1.0f + kPixelSlack, ErrorCode::invalid_argument, what, "[", i,
              "] has pixel values in [", lo, ", ", hi,
              "]; expected [0, 1] (uint8 / 255, without mean/std normalisation)");
    }
  }

  std::unique_ptr<io::SafetensorsFile> file_;
  ModelOptions options_;
  const kernels::KernelTable* kernels_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<WorkspacePool> workspaces_;
  ModelConfig config_;
  std::vector<std::string> class_names_;
  models::VisionTransformer visual_;
  models::TextTransformer text_;
  models::TemporalEncoder face_temporal_, context_temporal_;
  models::FusionHead head_;
  Tensor text_features_;
};

}  // namespace clipcaer
