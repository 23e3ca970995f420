// clipcaer::Model — load a converted CLIP-CAER weights file and classify
// clips of face crops and context frames. Thread-safe: one Model may serve
// many threads at once (see docs/api-cpp.md).
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"
#include "clipcaer/gpu/open_device.hpp"
#include "clipcaer/gpu/vision_tower.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/kernels/impl/support.hpp"
#include "clipcaer/models/compute_dtype.hpp"
#include "clipcaer/models/config.hpp"
#include "clipcaer/models/fusion_head.hpp"
#include "clipcaer/models/learned_prompts.hpp"
#include "clipcaer/models/temporal_encoder.hpp"
#include "clipcaer/models/text_transformer.hpp"
#include "clipcaer/models/token_embedding.hpp"
#include "clipcaer/models/vision_transformer.hpp"
#include "clipcaer/preprocess/clip_normalize.hpp"
#include "clipcaer/text/class_prompts.hpp"
#include "clipcaer/text/text_head.hpp"
#include "clipcaer/text/tokenizer.hpp"

namespace clipcaer {

struct ModelOptions {
  std::size_t threads = 0;  // worker threads for one call; 0 = one per core
  std::string isa;          // kernel set ("avx512", "avx2", ...); empty = best for this CPU
  std::size_t max_batch_images = 64;  // images per image-tower pass (bounds activation memory)
  // Storage of the Linear weights: "float32", "bfloat16" (f32 accumulation)
  // or "int8" (per-output-channel scales, activations quantised per row);
  // empty = the file's compute_dtype metadata, else float32.
  std::string dtype;
  // CLIP BPE merges file (bpe_simple_vocab_16e6.txt.gz) for encode_texts and
  // prompt heads, used when the weights file embeds none (tokenizer.bpe_vocab_gz).
  std::string vocab_path;
  // Where the image tower runs: "" or "cpu"; "cuda" / "cuda:N" (an NVIDIA
  // GPU, float32, builds with CLIPCAER_CUDA=ON); "emulated" (the GPU code
  // path on the host, slowly: for tests). The rest of the model runs on the
  // CPU either way (docs/api-cpp.md "GPU").
  std::string device;
};

// How Model::make_head turns class text into prompts (docs/text.md "Heads").
struct HeadOptions {
  std::vector<std::string> templates;  // e.g. "a photo of a {} student."; each class's descriptors or name fill "{}"
  bool truncate = false;               // cut prompts over context_length tokens (as clip.tokenize) instead of failing
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
  std::vector<float> logits;  // one per class: logit_scale x cosine(video or image, class text)
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

// Describes faces and frames arrays of the given shapes, (T, 3, S, S) or, when
// batched, (N, T, 3, S, S), as a ClipBatch, after checking ranks and that
// both shapes agree. (Sizes against the model are checked when it runs.)
inline ClipBatch make_clip_batch(const float* faces, const Shape& face_shape, const float* frames,
                                 const Shape& frame_shape, bool batched) {
  const std::size_t rank = batched ? 5 : 4;
  const char* layout = batched ? "(N, T, 3, S, S)" : "(T, 3, S, S)";
  require(face_shape.size() == rank, ErrorCode::invalid_argument, "faces must have shape ", layout, ", got ",
          shape_to_string(face_shape));
  require(frame_shape.size() == rank, ErrorCode::invalid_argument, "frames must have shape ", layout, ", got ",
          shape_to_string(frame_shape));
  require(face_shape == frame_shape, ErrorCode::invalid_argument, "faces ", shape_to_string(face_shape),
          " and frames ", shape_to_string(frame_shape), " must have the same shape (one face crop per frame)");
  const std::size_t o = batched ? 1 : 0;
  return ClipBatch{faces,             frames,            batched ? face_shape[0] : 1, face_shape[o],
                   face_shape[o + 1], face_shape[o + 2], face_shape[o + 3]};
}

class Model {
 public:
  explicit Model(const std::string& path, const ModelOptions& options = {})
      : file_(std::make_unique<io::SafetensorsFile>(path)),
        options_(options),
        kernels_(options.isa.empty() ? &kernels::best_table() : kernels::find_table(options.isa)),
        pool_(std::make_unique<ThreadPool>(options.threads, &size_thread_scratch)),
        workspaces_(std::make_unique<WorkspacePool>()),
        text_state_(std::make_unique<TextState>()),
        id_(next_model_id()) {
    if (!kernels_)
      throw_error(ErrorCode::unsupported, "kernel set '", options.isa, "' is not available on this CPU and build");
    size_thread_scratch();  // the loading thread, which usually runs inference too
    require(options.max_batch_images >= 1, ErrorCode::invalid_argument, "max_batch_images must be at least 1");
    config_ = parse_model_config(*file_);
    weight_type_ = models::resolve_compute_dtype(options.dtype, *file_);
    device_ = gpu::open_device(options.device);
    if (device_) {
      require(options.dtype.empty() || weight_type_ == kernels::WeightType::f32, ErrorCode::unsupported, "device '",
              options.device, "' runs the image tower in float32 only; dtype '", options.dtype,
              "' is for the CPU (leave dtype empty or float32)");
      // A file's reduced-precision default is a CPU choice: the GPU tower is float32.
      weight_type_ = kernels::WeightType::f32;
    }
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
  // Where the image tower runs: "cpu", or the GPU device's name ("cuda:0 (NVIDIA ...)", "emulated").
  std::string device() const { return device_ ? device_->name() : "cpu"; }
  // Storage type of the Linear weights ("float32", "bfloat16" or "int8").
  const char* dtype() const noexcept { return kernels::weight_type_name(weight_type_); }
  std::size_t threads() const noexcept { return pool_->size(); }
  // Not to be called while another thread is inside this model.
  void set_threads(std::size_t threads) { pool_->resize(threads); }

  // (C, E) L2-normalised class text features of the learned prompts, computed
  // once at load (CLIP-CAER files; empty for plain CLIP).
  const Tensor& text_features() const noexcept { return *learned_features_; }
  // The learned prompts as a head: the default of classify_clip(s).
  const TextHead& learned_head() const {
    require(config_.is_clip_caer(), ErrorCode::unsupported, "weights file '", path(),
            "' is a plain CLIP model: it has no learned prompts; make a head from text with make_head");
    return learned_head_;
  }

  // Identifies this model in the heads it makes (a head works only with its model).
  std::uint64_t id() const noexcept { return id_; }

  Prediction classify_clip(const Tensor& faces, const Tensor& frames) const {
    return classify_clip(faces, frames, learned_head());
  }
  Prediction classify_clip(const Tensor& faces, const Tensor& frames, const TextHead& head) const {
    return classify_clips(clip_batch(faces, frames, /*batched=*/false), head).front();
  }
  // faces, frames: num_frames x 3 x S x S floats each.
  Prediction classify_clip(const float* faces, const float* frames, std::size_t num_frames) const {
    return classify_clips(ClipBatch{faces, frames, 1, num_frames, 3, image_size(), image_size()}).front();
  }
  // faces, frames: (N, T, 3, S, S)
  std::vector<Prediction> classify_clips(const Tensor& faces, const Tensor& frames) const {
    return classify_clips(faces, frames, learned_head());
  }
  std::vector<Prediction> classify_clips(const Tensor& faces, const Tensor& frames, const TextHead& head) const {
    return classify_clips(clip_batch(faces, frames, /*batched=*/true), head);
  }
  std::vector<Prediction> classify_clips(const ClipBatch& batch) const {
    return classify_clips(batch, learned_head());
  }
  std::vector<Prediction> classify_clips(const ClipBatch& batch, const TextHead& head) const {
    return predictions(features(batch, head).logits, head);
  }

  ClipFeatures features(const Tensor& faces, const Tensor& frames) const {
    return features(clip_batch(faces, frames, faces.ndim() == 5));
  }
  ClipFeatures features(const ClipBatch& b) const { return features(b, learned_head()); }
  // As features(b), with logits against `head` (logit_scale x cosine).
  ClipFeatures features(const ClipBatch& b, const TextHead& head) const {
    require(config_.is_clip_caer(), ErrorCode::unsupported, "weights file '", path(),
            "' is a plain CLIP model: it has no temporal encoders or fusion head to classify clips");
    check_head(head);
    check_batch(b);
    const std::size_t N = b.clips, T = b.frames_per_clip, E = embed_dim(), C = head.num_classes();
    ClipFeatures f{Tensor({N, T, E}), Tensor({N, T, E}), Tensor({N, E}), Tensor({N, E}), Tensor({N, E}),
                   Tensor({N, C})};
    WorkspaceLease ws(*workspaces_);
    const ops::Context ctx = context();
    // All 2·N·T images go through the image tower together, in passes of at
    // most max_batch_images (rows are independent, so the split never
    // changes results).
    encode_in_passes(ctx, b.faces, N * T, f.face_image.data(), *ws);
    encode_in_passes(ctx, b.frames, N * T, f.context_image.data(), *ws);
    after_image_tower(ctx, f, N, T, head, *ws);
    return f;
  }

  // The model after the image tower, for callers that encode images
  // themselves (to reuse the features of frames that several clips share):
  // face_image and context_image are (T, E), encode_images of a clip's T face
  // crops and T context frames in clip order. The same prediction as
  // classify_clip on those images, bit for bit (the tower encodes each image
  // on its own).
  Prediction classify_encoded(const Tensor& face_image, const Tensor& context_image) const {
    return classify_encoded(face_image, context_image, learned_head());
  }
  Prediction classify_encoded(const Tensor& face_image, const Tensor& context_image, const TextHead& head) const {
    require(config_.is_clip_caer(), ErrorCode::unsupported, "weights file '", path(),
            "' is a plain CLIP model: it has no temporal encoders or fusion head to classify clips");
    check_head(head);
    const std::size_t E = embed_dim();
    require(face_image.ndim() == 2 && face_image.dim(1) == E, ErrorCode::invalid_argument,
            "face features must have shape (T, ", E, "), got ", shape_to_string(face_image.shape()));
    require(context_image.shape() == face_image.shape(), ErrorCode::invalid_argument, "context features ",
            shape_to_string(context_image.shape()), " and face features ", shape_to_string(face_image.shape()),
            " differ in shape");
    const std::size_t T = face_image.dim(0);
    require(T >= 1 && T <= num_frames(), ErrorCode::invalid_argument, "a clip has ", T,
            " frames but this model takes 1 to ", num_frames());
    require(kernels_->all_finite(face_image.data(), T * E), ErrorCode::invalid_argument,
            "face features contain NaN or infinite values");
    require(kernels_->all_finite(context_image.data(), T * E), ErrorCode::invalid_argument,
            "context features contain NaN or infinite values");
    const std::size_t C = head.num_classes();
    ClipFeatures f{Tensor({1, T, E}), Tensor({1, T, E}), Tensor({1, E}), Tensor({1, E}), Tensor({1, E}),
                   Tensor({1, C})};
    std::copy(face_image.begin(), face_image.end(), f.face_image.begin());
    std::copy(context_image.begin(), context_image.end(), f.context_image.begin());
    WorkspaceLease ws(*workspaces_);
    after_image_tower(context(), f, 1, T, head, *ws);
    return predictions(f.logits, head).front();
  }

  // (N, 3, S, S) images in [0, 1] -> (N, E) image-tower features (not
  // normalised). Files with input_normalization "clip" get CLIP's mean/std here.
  Tensor encode_images(const Tensor& images) const {
    require(images.ndim() == 4, ErrorCode::invalid_argument, "images must have shape (N, 3, S, S), got ",
            shape_to_string(images.shape()));
    check_images("images", images.data(), images.dim(0), images.dim(1), images.dim(2), images.dim(3));
    Tensor out({images.dim(0), embed_dim()});
    WorkspaceLease ws(*workspaces_);
    encode_in_passes(context(), images.data(), images.dim(0), out.data(), *ws);
    return out;
  }

  // Zero-shot: one (3, S, S) image in [0, 1] against a head; logits =
  // logit_scale x cosine(image features, class text) (the file's logit_scale).
  Prediction classify_image(const Tensor& image, const TextHead& head) const {
    require(image.ndim() == 3, ErrorCode::invalid_argument, "image must have shape (3, S, S), got ",
            shape_to_string(image.shape()));
    Tensor batch({1, image.dim(0), image.dim(1), image.dim(2)});
    std::copy(image.begin(), image.end(), batch.begin());
    return classify_images(batch, head).front();
  }
  // images: (N, 3, S, S) in [0, 1].
  std::vector<Prediction> classify_images(const Tensor& images, const TextHead& head) const {
    check_head(head);
    Tensor feats = encode_images(images);
    const std::size_t N = feats.dim(0), C = head.num_classes(), E = embed_dim();
    models::l2_normalize_rows(*kernels_, feats.data(), N, E);
    Tensor logits({N, C});
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t c = 0; c < C; ++c)
        logits.row(i)[c] = config_.logit_scale * kernels_->dot(feats.row(i), head.features().row(c), E);
    return predictions(logits, head);
  }

  // ---- Text (docs/text.md) ----

  // ids: n x len token ids (len <= context_length), SOT .. EOT then padding,
  // as clip.tokenize gives; each row's EOT is its largest id (CLIP's argmax
  // rule). Returns (n, E) text features, not normalised, like CLIP's encode_text.
  Tensor encode_text(const std::int32_t* ids, std::size_t n, std::size_t len) const {
    require(ids != nullptr, ErrorCode::invalid_argument, "token ids are a null pointer");
    require(n >= 1, ErrorCode::invalid_argument, "encode_text needs at least one text");
    require(len >= 1 && len <= config_.text.context_length, ErrorCode::invalid_argument, "token rows have ", len,
            " ids; this model takes 1 to ", config_.text.context_length);
    token_embedding_.check_ids(ids, n, len);
    Tensor out({n, embed_dim()});
    WorkspaceLease ws(*workspaces_);
    const ops::Context ctx = context();
    // Passes of kTextsPerPass bound the activations; rows are independent.
    for (std::size_t first = 0; first < n; first += kTextsPerPass) {
      const std::size_t count = std::min(kTextsPerPass, n - first);
      const std::int32_t* rows = ids + first * len;
      std::vector<std::size_t> eot(count);
      for (std::size_t i = 0; i < count; ++i)
        eot[i] = static_cast<std::size_t>(std::max_element(rows + i * len, rows + (i + 1) * len) - (rows + i * len));
      // Causal: rows after the last EOT cannot change any output.
      const std::size_t run = *std::max_element(eot.begin(), eot.end()) + 1;
      Tensor embedded({count, run, config_.text.width});
      token_embedding_.gather(rows, count, len, run, embedded.data());
      text_.encode(ctx, embedded.data(), count, run, eot.data(), out.row(first), *ws);
    }
    return out;
  }
  Tensor encode_text(const text::TokenBatch& batch) const {
    return encode_text(batch.ids.data(), batch.rows, batch.cols);
  }
  // Tokenises (context_length ids per text) and encodes; a text longer than
  // the context is an error unless truncate (then cut as clip.tokenize does).
  Tensor encode_texts(const std::vector<std::string>& texts, bool truncate = false) const {
    require(!texts.empty(), ErrorCode::invalid_argument, "encode_texts needs at least one text");
    return encode_text(tokenizer().tokenize(texts, config_.text.context_length, truncate));
  }
  // The tokenizer encode_texts uses: the file's embedded merges, else ModelOptions::vocab_path.
  const text::Tokenizer& tokenizer() const {
    std::lock_guard<std::mutex> lock(text_state_->mutex);
    if (!text_state_->tokenizer) text_state_->tokenizer = std::make_unique<text::Tokenizer>(load_tokenizer());
    return *text_state_->tokenizer;
  }

  // A prompt-ensemble head: each class's prompts (after HeadOptions::templates)
  // are encoded, L2-normalised, averaged and re-normalised. Heads are cached
  // per model under their expanded text (names, prompts, truncate): building
  // the same head again returns the cached features without encoding.
  TextHead make_head(const std::vector<text::ClassPrompts>& classes, const HeadOptions& options = {}) const {
    const std::vector<text::ClassPrompts> expanded = text::expand_templates(classes, options.templates);
    const std::string key = head_cache_key(expanded, options.truncate);
    {
      std::lock_guard<std::mutex> lock(text_state_->mutex);
      if (auto it = text_state_->heads.find(key); it != text_state_->heads.end()) return it->second;
    }
    std::vector<std::string> names, prompts;
    std::vector<std::size_t> counts;
    for (const auto& c : expanded) {
      names.push_back(c.name);
      counts.push_back(c.prompts.size());
      prompts.insert(prompts.end(), c.prompts.begin(), c.prompts.end());
    }
    const Tensor encoded = encode_texts(prompts, options.truncate);
    TextHead head(std::move(names),
                  std::make_shared<const Tensor>(text::ensemble_features(encoded.data(), counts, embed_dim())), id_);
    std::lock_guard<std::mutex> lock(text_state_->mutex);
    if (text_state_->heads.size() >= kMaxCachedHeads) text_state_->heads.erase(text_state_->heads.begin());
    return text_state_->heads.emplace(key, head).first->second;
  }
  // From a JSON file {"classes": [...], "templates": [...]} (docs/text.md); options.templates are added to the file's.
  TextHead head_from_json(const std::string& path, const HeadOptions& options = {}) const {
    text::HeadText t = text::read_head_json(path);
    HeadOptions o = options;
    o.templates.insert(o.templates.begin(), t.templates.begin(), t.templates.end());
    return make_head(t.classes, o);
  }
  std::size_t cached_heads() const {
    std::lock_guard<std::mutex> lock(text_state_->mutex);
    return text_state_->heads.size();
  }

 private:
  // Each pool worker sizes its kernel scratch when it starts: which worker
  // runs which task is decided at run time, and one that meets its first GEMM
  // late must not allocate in the middle of inference.
  static void size_thread_scratch() { kernels::thread_scratch(1); }

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

  // Temporal encoders, fusion and logits over f.face_image / f.context_image.
  void after_image_tower(const ops::Context& ctx, ClipFeatures& f, std::size_t N, std::size_t T,
                         const TextHead& head, nn::Workspace& ws) const {
    face_temporal_.forward(ctx, f.face_image.data(), N, T, f.face_video.data(), ws);
    context_temporal_.forward(ctx, f.context_image.data(), N, T, f.context_video.data(), ws);
    head_.fuse(ctx, f.face_video.data(), f.context_video.data(), N, f.video.data(), ws);
    head_.logits(*kernels_, f.video.data(), N, head.features(), f.logits.data());
  }

  static constexpr std::size_t kTextsPerPass = 64;
  static constexpr std::size_t kMaxCachedHeads = 64;  // then the oldest key goes

  // Lazily made tokenizer and the head cache, behind one mutex.
  struct TextState {
    std::mutex mutex;
    std::unique_ptr<text::Tokenizer> tokenizer;
    std::map<std::string, TextHead> heads;
  };

  static std::uint64_t next_model_id() {
    static std::atomic<std::uint64_t> next{1};
    return next++;
  }

  // Length-prefixed strings: exact for any bytes, so two different texts never share a key.
  static std::string head_cache_key(const std::vector<text::ClassPrompts>& classes, bool truncate) {
    std::string key(truncate ? "T" : "F");
    auto add = [&key](const std::string& s) { key += std::to_string(s.size()) + ':' + s; };
    for (const auto& c : classes) {
      add(c.name);
      key += std::to_string(c.prompts.size()) + '#';
      for (const auto& p : c.prompts) add(p);
    }
    return key;
  }

  text::Tokenizer load_tokenizer() const {
    const char* kEmbedded = "tokenizer.bpe_vocab_gz";
    if (file_->has(kEmbedded)) {
      const io::TensorInfo& t = file_->tensor(kEmbedded);
      return checked_tokenizer(text::Tokenizer::from_gzip_bytes(t.data, t.nbytes, "tensor " + std::string(kEmbedded)));
    }
    require(!options_.vocab_path.empty(), ErrorCode::invalid_argument, "weights file '", path(),
            "' embeds no tokenizer (no tensor '", kEmbedded,
            "'): set ModelOptions::vocab_path to CLIP's bpe_simple_vocab_16e6.txt.gz, or pass token ids to encode_text");
    return checked_tokenizer(text::Tokenizer(options_.vocab_path));
  }

  text::Tokenizer checked_tokenizer(text::Tokenizer tok) const {
    require(tok.vocab_size() == config_.text.vocab_size, ErrorCode::unsupported, "the tokenizer has ",
            tok.vocab_size(), " tokens but the text tower of '", path(), "' has a vocabulary of ",
            config_.text.vocab_size, ": pass token ids to encode_text instead");
    return tok;
  }

  void check_head(const TextHead& head) const {
    require(!head.empty(), ErrorCode::invalid_argument, "the text head is empty");
    require(head.model_id() == id_, ErrorCode::invalid_argument,
            "the text head was made by another Model; make it with this one (heads hold that model's text features)");
  }

  std::vector<Prediction> predictions(const Tensor& logits, const TextHead& head) const {
    const std::size_t N = logits.dim(0), C = head.num_classes();
    std::vector<Prediction> out(N);
    for (std::size_t i = 0; i < N; ++i) {
      Prediction& p = out[i];
      p.logits.assign(logits.row(i), logits.row(i) + C);
      p.probs = p.logits;
      kernels_->softmax(p.probs.data(), C);
      p.index = static_cast<std::size_t>(std::max_element(p.logits.begin(), p.logits.end()) - p.logits.begin());
      p.label = head.names()[p.index];
    }
    return out;
  }

  void load() {
    io::WeightReader reader(*file_);
    // Reduced precision (dtype) only where the time goes: the image tower's
    // residual blocks, ~97 % of a clip's flops. Everything else is small or
    // runs once per load and stays float32 (docs/performance.md "Reduced precision").
    const nn::LoadContext lc{reader, *kernels_, kernels::WeightType::f32};
    if (device_) {
      gpu_visual_ = std::make_unique<gpu::VisionTower>();
      gpu_visual_->load(reader, config_.vision, config_.embed_dim, *device_);
    } else {
      visual_.load({reader, *kernels_, weight_type_}, config_.vision, config_.embed_dim);
    }
    text_.load(lc, config_.text, config_.embed_dim);
    token_embedding_.load(reader, config_.text);
    learned_features_ = std::make_shared<const Tensor>();
    if (!config_.is_clip_caer()) return;
    face_temporal_.load(lc, "temporal_net.", config_.temporal, config_.embed_dim);
    context_temporal_.load(lc, "temporal_net_body.", config_.temporal, config_.embed_dim);
    head_.load(lc, config_.embed_dim, config_.logit_scale);

    Tensor prompts = models::learned_prompt_embeddings(reader, config_);
    const std::size_t C = num_classes();
    auto features = std::make_shared<Tensor>(Shape{C, embed_dim()});
    WorkspaceLease ws(*workspaces_);
    text_.encode(context(), prompts.data(), C, prompts.dim(1), config_.eot_positions.data(), features->data(), *ws);
    models::l2_normalize_rows(*kernels_, features->data(), C, embed_dim());
    learned_features_ = features;
    learned_head_ = TextHead(class_names_, learned_features_, id_);
  }

  void encode_in_passes(const ops::Context& ctx, const float* images, std::size_t n, float* out,
                        nn::Workspace& ws) const {
    const std::size_t plane = image_size() * image_size(), image_floats = 3 * plane;
    const bool clip_norm = config_.input_normalization == "clip";
    AlignedBuffer<float> normalized(clip_norm ? std::min(options_.max_batch_images, n) * image_floats : 0);
    for (std::size_t i = 0; i < n; i += options_.max_batch_images) {
      const std::size_t count = std::min(options_.max_batch_images, n - i);
      const float* pass = images + i * image_floats;
      if (clip_norm) {
        preprocess::clip_normalize(pass, count, plane, normalized.data());
        pass = normalized.data();
      }
      if (gpu_visual_)
        gpu_visual_->encode(pass, count, out + i * embed_dim());
      else
        visual_.encode(ctx, pass, count, out + i * embed_dim(), ws);
    }
  }

  ClipBatch clip_batch(const Tensor& faces, const Tensor& frames, bool batched) const {
    return make_clip_batch(faces.data(), faces.shape(), frames.data(), frames.shape(), batched);
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
  kernels::WeightType weight_type_ = kernels::WeightType::f32;
  const kernels::KernelTable* kernels_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<WorkspacePool> workspaces_;
  ModelConfig config_;
  std::vector<std::string> class_names_;
  models::VisionTransformer visual_;       // the CPU image tower, or
  std::unique_ptr<gpu::Device> device_;    // a GPU device (declared first:
  std::unique_ptr<gpu::VisionTower> gpu_visual_;  // the tower frees its buffers on it)
  models::TextTransformer text_;
  models::TokenEmbedding token_embedding_;
  models::TemporalEncoder face_temporal_, context_temporal_;
  models::FusionHead head_;
  std::unique_ptr<TextState> text_state_;
  std::uint64_t id_;
  std::shared_ptr<const Tensor> learned_features_;
  TextHead learned_head_;
};

}  // namespace clipcaer
