// The C ABI over clipcaer::Model. Every entry point runs inside guard(), which
// turns any exception into a status code plus a thread-local message.
#include "clipcaer.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>

#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/box_index.hpp"
#include "clipcaer/model.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/timeline.hpp"
#include "clipcaer/version.hpp"

struct clipcaer_model {
  explicit clipcaer_model(const std::string& path, const clipcaer::ModelOptions& o)
      : model(path, o), device(model.device()) {}
  clipcaer::Model model;
  std::string device;  // model.device(), kept for clipcaer_model_device's pointer
};

struct clipcaer_face_detector {
  explicit clipcaer_face_detector(const clipcaer::FaceDetectorOptions& o) : detector(o) {}
  clipcaer::FaceDetector detector;
};

namespace {

thread_local std::string last_error;

// Live handles of one kind: a freed or foreign pointer is rejected instead of
// dereferenced, and freeing one twice is harmless.
template <class T>
class Registry {
 public:
  T* add(std::unique_ptr<T> p) {  // the caller hands the raw pointer out; free() deletes it
    std::lock_guard<std::mutex> lock(mutex_);
    live_.insert(p.get());
    return p.release();
  }
  bool contains(const T* p) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return live_.count(p) != 0;
  }
  void free(T* p) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!p || !live_.erase(p)) return;  // NULL, freed twice or foreign: ignore
    }
    delete p;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<const T*> live_;
};

Registry<clipcaer_model>& models() {
  static Registry<clipcaer_model> r;
  return r;
}
Registry<clipcaer_face_detector>& detectors() {
  static Registry<clipcaer_face_detector> r;
  return r;
}

clipcaer_status fail(clipcaer_status status, const std::string& message) {
  last_error = message;
  return status;
}

clipcaer_status status_of(clipcaer::ErrorCode code) {
  switch (code) {
    case clipcaer::ErrorCode::invalid_argument: return CLIPCAER_ERR_INVALID_ARGUMENT;
    case clipcaer::ErrorCode::file_not_found: return CLIPCAER_ERR_FILE_NOT_FOUND;
    case clipcaer::ErrorCode::io: return CLIPCAER_ERR_IO;
    case clipcaer::ErrorCode::format: return CLIPCAER_ERR_FORMAT;
    case clipcaer::ErrorCode::unsupported: return CLIPCAER_ERR_UNSUPPORTED;
    case clipcaer::ErrorCode::internal: return CLIPCAER_ERR_INTERNAL;
  }
  return CLIPCAER_ERR_INTERNAL;
}

// A handle that is not live: CLIPCAER_ERR_INVALID_HANDLE.
struct InvalidHandle {
  std::string message;
};

template <class F>
clipcaer_status guard(F&& body) noexcept {
  try {
    last_error.clear();
    return body();
  } catch (const InvalidHandle& e) {
    return fail(CLIPCAER_ERR_INVALID_HANDLE, e.message);
  } catch (const clipcaer::Error& e) {
    return fail(status_of(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(CLIPCAER_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(CLIPCAER_ERR_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(CLIPCAER_ERR_INTERNAL, "internal error: unknown exception");
  }
}

void check_handle(const clipcaer_model* m) {
  if (!m) throw clipcaer::Error(clipcaer::ErrorCode::invalid_argument, "model handle is NULL");
  if (!models().contains(m))
    throw clipcaer::Error(clipcaer::ErrorCode::invalid_argument,
                          "model handle is not a live model (already freed, or not from clipcaer_model_load)");
}

// check_handle's error maps to its own status code.
template <class F>
clipcaer_status with_model(const clipcaer_model* m, F&& body) noexcept {
  return guard([&]() -> clipcaer_status {
    try {
      check_handle(m);
    } catch (const clipcaer::Error& e) {
      return fail(CLIPCAER_ERR_INVALID_HANDLE, e.what());
    }
    return body(m->model);
  });
}

// The detector behind a handle (NULL allowed: no detector); a freed or
// foreign pointer is an error, reported as CLIPCAER_ERR_INVALID_HANDLE.
const clipcaer::FaceDetector* detector_of(const clipcaer_face_detector* d) {
  if (!d) return nullptr;
  if (!detectors().contains(d))
    throw InvalidHandle{"face detector handle is not a live detector (already freed, or not from "
                        "clipcaer_face_detector_open)"};
  return &d->detector;
}

template <class T>
void require_out(const T* p, const char* name) {
  if (!p) throw clipcaer::Error(clipcaer::ErrorCode::invalid_argument, std::string(name) + " is NULL");
}

void write_predictions(const std::vector<clipcaer::Prediction>& ps, std::size_t classes, float* logits, float* probs,
                       std::size_t* top) {
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (logits) std::memcpy(logits + i * classes, ps[i].logits.data(), classes * sizeof(float));
    if (probs) std::memcpy(probs + i * classes, ps[i].probs.data(), classes * sizeof(float));
    if (top) top[i] = ps[i].index;
  }
}

clipcaer_status check_capacity(const clipcaer::Model& m, std::size_t clips, const float* logits, const float* probs,
                               std::size_t capacity) {
  const std::size_t need = clips * m.num_classes();
  if ((logits || probs) && capacity < need)
    return fail(CLIPCAER_ERR_BUFFER_TOO_SMALL, "output capacity " + std::to_string(capacity) + " is below the " +
                                                   std::to_string(need) + " floats this call writes");
  return CLIPCAER_OK;
}

clipcaer_status classify(const clipcaer_model* model, const float* faces, const float* frames, std::size_t clips,
                         std::size_t num_frames, float* logits, float* probs, std::size_t capacity,
                         std::size_t* top) noexcept {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(faces, "faces");
    require_out(frames, "frames");
    if (clipcaer_status st = check_capacity(m, clips, logits, probs, capacity)) return st;
    const std::size_t s = m.image_size();
    auto ps = m.classify_clips(clipcaer::ClipBatch{faces, frames, clips, num_frames, 3, s, s});
    write_predictions(ps, m.num_classes(), logits, probs, top);
    return CLIPCAER_OK;
  });
}

}  // namespace

extern "C" {

const char* clipcaer_version(void) { return CLIPCAER_VERSION_STRING; }

const char* clipcaer_jpeg_decoder(void) {
  try {
    static const std::string name = clipcaer::io::jpeg_decoder();
    return name.c_str();
  } catch (...) {  // no memory for a few bytes: nothing may escape the C ABI
    return "unknown";
  }
}

const char* clipcaer_video_decoder(void) {
  try {
    static const std::string name = clipcaer::io::video_decoder();
    return name.c_str();
  } catch (...) {
    return "unknown";
  }
}

const char* clipcaer_last_error(void) { return last_error.c_str(); }

const char* clipcaer_status_string(clipcaer_status status) {
  switch (status) {
    case CLIPCAER_OK: return "ok";
    case CLIPCAER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case CLIPCAER_ERR_FILE_NOT_FOUND: return "file not found";
    case CLIPCAER_ERR_IO: return "I/O error";
    case CLIPCAER_ERR_FORMAT: return "format error";
    case CLIPCAER_ERR_UNSUPPORTED: return "unsupported";
    case CLIPCAER_ERR_INTERNAL: return "internal error";
    case CLIPCAER_ERR_OUT_OF_MEMORY: return "out of memory";
    case CLIPCAER_ERR_INVALID_HANDLE: return "invalid handle";
    case CLIPCAER_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case CLIPCAER_ERR_CANCELLED: return "cancelled";
  }
  return "unknown status";
}

void clipcaer_model_params_init(clipcaer_model_params* params) {
  if (!params) return;
  params->struct_size = sizeof(clipcaer_model_params);
  params->threads = 0;
  params->isa = nullptr;
  params->dtype = nullptr;
  params->device = nullptr;
}

clipcaer_status clipcaer_model_load(const char* path, const clipcaer_model_params* params, clipcaer_model** out) {
  return guard([&]() -> clipcaer_status {
    require_out(out, "out");
    *out = nullptr;
    require_out(path, "path");
    clipcaer::ModelOptions o;
    if (params) {
      if (params->struct_size < offsetof(clipcaer_model_params, dtype))
        return fail(CLIPCAER_ERR_INVALID_ARGUMENT,
                    "params->struct_size is " + std::to_string(params->struct_size) +
                        "; call clipcaer_model_params_init first");
      o.threads = params->threads;
      if (params->isa) o.isa = params->isa;
      if (params->struct_size >= offsetof(clipcaer_model_params, dtype) + sizeof(params->dtype) && params->dtype)
        o.dtype = params->dtype;
      if (params->struct_size >= offsetof(clipcaer_model_params, device) + sizeof(params->device) && params->device)
        o.device = params->device;
    }
    *out = models().add(std::make_unique<clipcaer_model>(path, o));
    return CLIPCAER_OK;
  });
}

void clipcaer_model_free(clipcaer_model* model) { models().free(model); }

clipcaer_status clipcaer_model_num_classes(const clipcaer_model* model, size_t* out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.num_classes();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_class_name(const clipcaer_model* model, size_t index, const char** out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    if (index >= m.num_classes())
      return fail(CLIPCAER_ERR_INVALID_ARGUMENT, "class index " + std::to_string(index) + " is out of range (" +
                                                     std::to_string(m.num_classes()) + " classes)");
    *out = m.class_names()[index].c_str();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_num_frames(const clipcaer_model* model, size_t* out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.num_frames();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_image_size(const clipcaer_model* model, size_t* out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.image_size();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_embed_dim(const clipcaer_model* model, size_t* out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.embed_dim();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_threads(const clipcaer_model* model, size_t* out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.threads();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_kernel_set(const clipcaer_model* model, const char** out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.kernel_set();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_dtype(const clipcaer_model* model, const char** out) {
  return with_model(model, [&](const clipcaer::Model& m) {
    require_out(out, "out");
    *out = m.dtype();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_device(const clipcaer_model* model, const char** out) {
  return with_model(model, [&](const clipcaer::Model&) {
    require_out(out, "out");
    *out = model->device.c_str();
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_model_set_threads(clipcaer_model* model, size_t threads) {
  return with_model(model, [&](const clipcaer::Model&) {
    model->model.set_threads(threads);
    return CLIPCAER_OK;
  });
}

clipcaer_status clipcaer_classify_clip(const clipcaer_model* model, const float* faces, const float* frames,
                                       size_t num_frames, float* logits, float* probs, size_t capacity,
                                       size_t* top_index) {
  return classify(model, faces, frames, 1, num_frames, logits, probs, capacity, top_index);
}

clipcaer_status clipcaer_classify_clips(const clipcaer_model* model, const float* faces, const float* frames,
                                        size_t num_clips, size_t num_frames, float* logits, float* probs,
                                        size_t capacity, size_t* top_indices) {
  return classify(model, faces, frames, num_clips, num_frames, logits, probs, capacity, top_indices);
}

clipcaer_status clipcaer_classify_folder(const clipcaer_model* model, const char* frames_dir,
                                         const char* face_boxes_json, const char* body_boxes_json, float* logits,
                                         float* probs, size_t capacity, size_t* top_index) {
  return clipcaer_classify_folder_detect(model, frames_dir, face_boxes_json, body_boxes_json, nullptr, logits, probs,
                                         capacity, top_index, nullptr);
}

clipcaer_status clipcaer_classify_folder_detect(const clipcaer_model* model, const char* frames_dir,
                                                const char* face_boxes_json, const char* body_boxes_json,
                                                const clipcaer_face_detector* detector, float* logits, float* probs,
                                                size_t capacity, size_t* top_index, size_t* faces_detected) {
  return with_model(model, [&](const clipcaer::Model& m) -> clipcaer_status {
    const clipcaer::FaceDetector* d = detector_of(detector);
    require_out(frames_dir, "frames_dir");
    if (clipcaer_status st = check_capacity(m, 1, logits, probs, capacity)) return st;
    const clipcaer::io::BoxIndex boxes(face_boxes_json ? face_boxes_json : "", body_boxes_json ? body_boxes_json : "");
    clipcaer::Clip clip =
        clipcaer::load_clip(frames_dir, boxes.lookup({frames_dir}), m.num_frames(), m.image_size(), nullptr, d);
    write_predictions({m.classify_clip(clip.faces, clip.frames)}, m.num_classes(), logits, probs, top_index);
    if (faces_detected) *faces_detected = clip.faces_detected;
    return CLIPCAER_OK;
  });
}

void clipcaer_face_detector_params_init(clipcaer_face_detector_params* params) {
  if (!params) return;
  const clipcaer::FaceDetectorOptions defaults;
  *params = clipcaer_face_detector_params{};
  params->struct_size = sizeof(clipcaer_face_detector_params);
  params->profiles = defaults.profiles ? 1 : 0;
  params->scale_factor = defaults.scale_factor;
  params->min_neighbors = defaults.min_neighbors;
  params->min_face = defaults.min_face;
}

clipcaer_status clipcaer_face_detector_open(const clipcaer_face_detector_params* params,
                                            clipcaer_face_detector** out) {
  return guard([&]() -> clipcaer_status {
    require_out(out, "out");
    *out = nullptr;
    clipcaer_face_detector_params p;
    clipcaer_face_detector_params_init(&p);
    if (params) {
      if (params->struct_size < sizeof(clipcaer_face_detector_params))
        return fail(CLIPCAER_ERR_INVALID_ARGUMENT, "params->struct_size is " + std::to_string(params->struct_size) +
                                                       "; call clipcaer_face_detector_params_init first");
      p = *params;
    }
    clipcaer::FaceDetectorOptions o;
    if (p.cascade) o.cascades = {p.cascade};
    if (p.profile_cascade) o.profile_cascades = {p.profile_cascade};
    o.profiles = p.profiles != 0;
    o.scale_factor = p.scale_factor;
    o.min_neighbors = p.min_neighbors;
    o.min_face = p.min_face;
    *out = detectors().add(std::make_unique<clipcaer_face_detector>(o));
    return CLIPCAER_OK;
  });
}

void clipcaer_face_detector_free(clipcaer_face_detector* detector) { detectors().free(detector); }

clipcaer_status clipcaer_face_detector_find(const clipcaer_face_detector* detector, const unsigned char* rgb,
                                            size_t width, size_t height, size_t stride, double box[4], int* found) {
  return guard([&]() -> clipcaer_status {
    const clipcaer::FaceDetector* d = detector_of(detector);
    if (!d) return fail(CLIPCAER_ERR_INVALID_HANDLE, "face detector handle is NULL");
    require_out(rgb, "rgb");
    require_out(box, "box");
    require_out(found, "found");
    *found = 0;
    if (width == 0 || height == 0)
      return fail(CLIPCAER_ERR_INVALID_ARGUMENT,
                  "the picture is empty (" + std::to_string(width) + "x" + std::to_string(height) + ")");
    if (width > clipcaer::kMaxImageSide || height > clipcaer::kMaxImageSide ||
        width * height > clipcaer::kMaxImagePixels)
      return fail(CLIPCAER_ERR_INVALID_ARGUMENT,
                  "the picture's size " + std::to_string(width) + "x" + std::to_string(height) + " is beyond the limit");
    if (stride < 3 * width)
      return fail(CLIPCAER_ERR_INVALID_ARGUMENT, "stride " + std::to_string(stride) + " is below 3 * width (" +
                                                     std::to_string(3 * width) + ")");
    const auto face = d->find_face(clipcaer::ImageView{rgb, width, height, stride});
    if (face) {
      box[0] = face->left;
      box[1] = face->upper;
      box[2] = face->right;
      box[3] = face->lower;
      *found = 1;
    }
    return CLIPCAER_OK;
  });
}

void clipcaer_timeline_params_init(clipcaer_timeline_params* params) {
  if (!params) return;
  const clipcaer::TimelineOptions defaults;
  *params = clipcaer_timeline_params{};
  params->struct_size = sizeof(clipcaer_timeline_params);
  params->window_seconds = defaults.window_seconds;
  params->stride_seconds = defaults.stride_seconds;
}

clipcaer_status clipcaer_classify_video_timeline(const clipcaer_model* model, const char* video_path,
                                                 const char* face_boxes_json, const char* body_boxes_json,
                                                 const clipcaer_timeline_params* params) {
  struct Cancelled {};  // thrown out of the progress callback, caught below
  return with_model(model, [&](const clipcaer::Model& m) -> clipcaer_status {
    require_out(video_path, "video_path");
    clipcaer_timeline_params p;
    clipcaer_timeline_params_init(&p);
    if (params) {  // fields added later must be read only when struct_size covers them (as model_params does)
      if (params->struct_size < offsetof(clipcaer_timeline_params, face_detector))
        return fail(CLIPCAER_ERR_INVALID_ARGUMENT, "params->struct_size is " + std::to_string(params->struct_size) +
                                                       "; call clipcaer_timeline_params_init first");
      // An older caller's struct ends before face_detector: copy what it has.
      std::memcpy(&p, params, std::min(params->struct_size, sizeof(clipcaer_timeline_params)));
      p.struct_size = sizeof(clipcaer_timeline_params);
    }
    clipcaer::TimelineOptions o;
    o.window_seconds = p.window_seconds;
    o.stride_seconds = p.stride_seconds;
    o.window_frames = p.window_frames;
    o.stride_frames = p.stride_frames;
    o.frame_rate = p.frame_rate;
    o.face_detector = detector_of(p.face_detector);
    const clipcaer::io::BoxIndex boxes(face_boxes_json ? face_boxes_json : "", body_boxes_json ? body_boxes_json : "");
    clipcaer::Timeline t;
    try {
      t = clipcaer::classify_video_timeline(m, video_path, boxes.lookup({video_path}), o,
                                            [&](std::size_t done, std::size_t total) {
                                              if (p.on_progress && p.on_progress(done, total, p.user) != 0)
                                                throw Cancelled{};
                                            });
    } catch (const Cancelled&) {
      return fail(CLIPCAER_ERR_CANCELLED, "cancelled by on_progress");
    }
    if (!p.on_window) return CLIPCAER_OK;
    for (std::size_t k = 0; k < t.windows.size(); ++k) {
      const clipcaer::TimelineWindow& w = t.windows[k];
      const clipcaer_timeline_window cw{k, t.windows.size(), w.first_frame, w.end_frame, w.start_seconds,
                                        w.end_seconds, t.num_frames, t.frame_rate, m.num_classes(),
                                        w.prediction.logits.data(), w.prediction.probs.data(), w.prediction.index,
                                        w.frames.data(), w.frames.size(), w.face_boxes_used, w.faces_detected};
      if (p.on_window(&cw, p.user) != 0) return fail(CLIPCAER_ERR_CANCELLED, "cancelled by on_window");
    }
    return CLIPCAER_OK;
  });
}

}  // extern "C"
