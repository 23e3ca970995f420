/* clipcaer C API: CLIP-CAER academic emotion recognition from any language
 * with a C FFI. See docs/api-c.md.
 *
 * Conventions
 * - Every function that can fail returns a clipcaer_status; CLIPCAER_OK is 0.
 *   On failure clipcaer_last_error() returns a message for the calling thread
 *   (valid until that thread's next clipcaer call).
 * - Results come back through out-pointers; no struct crosses the ABI by value.
 * - No C++ exception ever crosses this boundary.
 * - A clipcaer_model is immutable after loading: one model may be used by any
 *   number of threads at once (except clipcaer_model_set_threads and
 *   clipcaer_model_free, which need exclusive use). Each model owns its
 *   worker threads; calls made concurrently on one model run side by side.
 * - Handles are checked on every call: a freed or foreign pointer gives
 *   CLIPCAER_ERR_INVALID_HANDLE instead of undefined behaviour.
 * - Images are float32 RGB, planar (3 x S x S per image, channel-major),
 *   values in [0, 1] (uint8 / 255, no mean/std normalisation).
 */
#ifndef CLIPCAER_H
#define CLIPCAER_H

#include <stddef.h>

#if defined(_WIN32)
#define CLIPCAER_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLIPCAER_API __attribute__((visibility("default")))
#else
#define CLIPCAER_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clipcaer_status {
  CLIPCAER_OK = 0,
  CLIPCAER_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, a wrong size, bad pixel values */
  CLIPCAER_ERR_FILE_NOT_FOUND = 2,
  CLIPCAER_ERR_IO = 3,
  CLIPCAER_ERR_FORMAT = 4,           /* a malformed weights file, image or JSON */
  CLIPCAER_ERR_UNSUPPORTED = 5,
  CLIPCAER_ERR_INTERNAL = 6,
  CLIPCAER_ERR_OUT_OF_MEMORY = 7,
  CLIPCAER_ERR_INVALID_HANDLE = 8,   /* NULL, freed or foreign model or face detector handle */
  CLIPCAER_ERR_BUFFER_TOO_SMALL = 9, /* an output capacity below what the call writes */
  CLIPCAER_ERR_CANCELLED = 10        /* a callback asked to stop (clipcaer_classify_video_timeline) */
} clipcaer_status;

typedef struct clipcaer_model clipcaer_model;

/* Options for clipcaer_model_load; fill with clipcaer_model_params_init. */
typedef struct clipcaer_model_params {
  size_t struct_size; /* sizeof(clipcaer_model_params), for forward compatibility */
  size_t threads;     /* worker threads per call; 0 = one per core */
  const char* isa;    /* kernel set, e.g. "avx2"; NULL or "" = best for this CPU */
  /* Linear weight storage: "float32", "bfloat16" or "int8"; NULL or "" = the
   * file's choice. Added after 0.1.0: callers built against an older header pass a smaller
   * struct_size and get the file's choice. */
  const char* dtype;
  /* Where the image tower runs: "cpu", "cuda", "cuda:N"; NULL or "" = cpu.
   * Added after 0.1.0, like dtype: a smaller struct_size means cpu. */
  const char* device;
} clipcaer_model_params;

/* "MAJOR.MINOR.PATCH" of the library. */
CLIPCAER_API const char* clipcaer_version(void);
/* Which library decodes JPEG frames: "libjpeg-turbo X.Y.Z" (the frames come
 * out bit-identical to Pillow's on the same libjpeg-turbo) or "stb_image". */
CLIPCAER_API const char* clipcaer_jpeg_decoder(void);
/* What reads video files: "FFmpeg (libavformat X.Y.Z, ...)", or "none" in a
 * build without FFmpeg (clipcaer_classify_folder then takes folders only). */
CLIPCAER_API const char* clipcaer_video_decoder(void);
/* The calling thread's last error message ("" if none). */
CLIPCAER_API const char* clipcaer_last_error(void);
/* A fixed English name for a status code. */
CLIPCAER_API const char* clipcaer_status_string(clipcaer_status status);

CLIPCAER_API void clipcaer_model_params_init(clipcaer_model_params* params);

/* Loads a converted .safetensors model. params may be NULL. On success *out
 * owns a new handle, to be released with clipcaer_model_free. */
CLIPCAER_API clipcaer_status clipcaer_model_load(const char* path, const clipcaer_model_params* params,
                                                 clipcaer_model** out);
/* Releases a model; NULL is ignored. Using the handle afterwards gives
 * CLIPCAER_ERR_INVALID_HANDLE. */
CLIPCAER_API void clipcaer_model_free(clipcaer_model* model);

CLIPCAER_API clipcaer_status clipcaer_model_num_classes(const clipcaer_model* model, size_t* out);
/* *out points into the model and lives as long as it. */
CLIPCAER_API clipcaer_status clipcaer_model_class_name(const clipcaer_model* model, size_t index, const char** out);
/* T: the most frames per clip. */
CLIPCAER_API clipcaer_status clipcaer_model_num_frames(const clipcaer_model* model, size_t* out);
/* S: images are S x S. */
CLIPCAER_API clipcaer_status clipcaer_model_image_size(const clipcaer_model* model, size_t* out);
CLIPCAER_API clipcaer_status clipcaer_model_embed_dim(const clipcaer_model* model, size_t* out);
CLIPCAER_API clipcaer_status clipcaer_model_threads(const clipcaer_model* model, size_t* out);
CLIPCAER_API clipcaer_status clipcaer_model_set_threads(clipcaer_model* model, size_t threads);
/* Kernel set in use ("avx512_amx", "avx2", ...) and Linear weight storage
 * ("float32", "bfloat16", "int8"); *out points at a static string. */
CLIPCAER_API clipcaer_status clipcaer_model_kernel_set(const clipcaer_model* model, const char** out);
CLIPCAER_API clipcaer_status clipcaer_model_dtype(const clipcaer_model* model, const char** out);
/* Where the image tower runs: "cpu" or the GPU's name ("cuda:0 (NVIDIA ...)");
 * *out lives as long as the model. */
CLIPCAER_API clipcaer_status clipcaer_model_device(const clipcaer_model* model, const char** out);

/* One clip: faces and frames each hold num_frames images of 3 x S x S floats
 * (1 <= num_frames <= T). Writes num_classes floats to logits and to probs
 * (either may be NULL) and the best class index to top_index (may be NULL).
 * capacity: the number of floats logits and probs can each hold. */
CLIPCAER_API clipcaer_status clipcaer_classify_clip(const clipcaer_model* model, const float* faces,
                                                    const float* frames, size_t num_frames, float* logits,
                                                    float* probs, size_t capacity, size_t* top_index);

/* num_clips clips of num_frames frames each, laid out [clip][frame][3][S][S].
 * logits and probs receive num_clips x num_classes floats (row per clip),
 * top_indices num_clips entries; capacity counts floats as above. */
CLIPCAER_API clipcaer_status clipcaer_classify_clips(const clipcaer_model* model, const float* faces,
                                                     const float* frames, size_t num_clips, size_t num_frames,
                                                     float* logits, float* probs, size_t capacity,
                                                     size_t* top_indices);

/* A clip folder end to end: its image files (JPEG/PNG/BMP) sorted by name, T
 * of them sampled as the official test loader does, face crops and context
 * frames made with the official preprocessing, then classified.
 * frames_dir may also name a video file (MP4, MKV, AVI, ...; builds with
 * FFmpeg, see clipcaer_video_decoder): its frames in display order, the face
 * boxes keyed by frame index ("0", "1", ...).
 * face_boxes_json / body_boxes_json: paths to the official box files
 * ({clip_dir: {frame_file: [l,u,r,b]}} and {clip_dir: [l,u,r,b]}), or NULL;
 * the clip is looked up by frames_dir as given, then by its absolute path.
 * Outputs as clipcaer_classify_clip. */
CLIPCAER_API clipcaer_status clipcaer_classify_folder(const clipcaer_model* model, const char* frames_dir,
                                                      const char* face_boxes_json, const char* body_boxes_json,
                                                      float* logits, float* probs, size_t capacity,
                                                      size_t* top_index);

/* A face detector for frames that have no face box (videos without the data
 * set's box files): OpenCV's trained face cascades (Debian's opencv-data),
 * the frontal one first, then the profile one on the frame and its mirror
 * image; the largest face found is used. Immutable once opened: any number of
 * threads may use one detector at once. See docs/inputs.md "Face detection". */
typedef struct clipcaer_face_detector clipcaer_face_detector;

/* Options for clipcaer_face_detector_open; fill with clipcaer_face_detector_params_init. */
typedef struct clipcaer_face_detector_params {
  size_t struct_size;          /* sizeof(clipcaer_face_detector_params), for forward compatibility */
  const char* cascade;         /* frontal-face cascade file; NULL: opencv-data's haarcascade_frontalface_alt2.xml */
  const char* profile_cascade; /* profile cascade file; NULL: opencv-data's haarcascade_profileface.xml */
  int profiles;                /* nonzero (default): try the profile cascade when no frontal face is found */
  double scale_factor;         /* window growth between scales, > 1 (default 1.1) */
  int min_neighbors;           /* detections a face needs around it (default 3) */
  double min_face;             /* smallest face searched, a fraction of the frame's shorter side (default 1/12) */
} clipcaer_face_detector_params;

CLIPCAER_API void clipcaer_face_detector_params_init(clipcaer_face_detector_params* params);

/* Loads the cascades; params may be NULL (defaults). A missing cascade file
 * gives CLIPCAER_ERR_FILE_NOT_FOUND and a message saying how to install it. */
CLIPCAER_API clipcaer_status clipcaer_face_detector_open(const clipcaer_face_detector_params* params,
                                                         clipcaer_face_detector** out);

CLIPCAER_API void clipcaer_face_detector_free(clipcaer_face_detector* detector);

/* The largest face in an 8-bit RGB picture (rows of `stride` bytes, >= 3 *
 * width): *found = 1 and box = {left, upper, right, lower} in pixels, or
 * *found = 0 (box untouched) when there is none. */
CLIPCAER_API clipcaer_status clipcaer_face_detector_find(const clipcaer_face_detector* detector,
                                                         const unsigned char* rgb, size_t width, size_t height,
                                                         size_t stride, double box[4], int* found);

/* clipcaer_classify_folder, where chosen frames without a face box (from
 * face_boxes_json) get the largest face the detector finds; detector may be
 * NULL (then exactly clipcaer_classify_folder). faces_detected (may be NULL):
 * how many of the T frames the model saw got their face box from the
 * detector. */
CLIPCAER_API clipcaer_status clipcaer_classify_folder_detect(const clipcaer_model* model, const char* frames_dir,
                                                             const char* face_boxes_json,
                                                             const char* body_boxes_json,
                                                             const clipcaer_face_detector* detector, float* logits,
                                                             float* probs, size_t capacity, size_t* top_index,
                                                             size_t* faces_detected);

/* One window of a timeline, as clipcaer_classify_video_timeline hands it to
 * on_window. The pointers are valid during that call only. */
typedef struct clipcaer_timeline_window {
  size_t index;          /* 0 .. num_windows - 1, in order along the video */
  size_t num_windows;
  size_t first_frame;    /* the window is video frames [first_frame, end_frame) */
  size_t end_frame;
  double start_seconds;  /* first_frame / frame rate; 0 when the video states no rate */
  double end_seconds;
  size_t num_video_frames;
  double frame_rate;     /* frames per second the file states; 0 when unknown */
  size_t num_classes;
  const float* logits;   /* num_classes each */
  const float* probs;
  size_t top_index;      /* the most likely class */
  const size_t* frames;  /* the num_frames (T) video frames the model saw */
  size_t num_frames;
  size_t face_boxes_used; /* of those frames, how many had a face box (a file's or the detector's) */
  size_t faces_detected;  /* of those boxes, how many the face detector found */
} clipcaer_timeline_window;

/* Options for clipcaer_classify_video_timeline; fill with clipcaer_timeline_params_init. */
typedef struct clipcaer_timeline_params {
  size_t struct_size;    /* sizeof(clipcaer_timeline_params), for forward compatibility */
  double window_seconds; /* each window's length (default 4) */
  double stride_seconds; /* from one window's start to the next (default 2) */
  size_t window_frames;  /* nonzero: the window in frames (window_seconds ignored) */
  size_t stride_frames;  /* nonzero: the stride in frames (stride_seconds ignored) */
  double frame_rate;     /* frames per second; 0 = the one the video file states (a folder states none) */
  /* Each window, in order, once all are classified: return 0 to go on, nonzero
   * to stop (the call then returns CLIPCAER_ERR_CANCELLED). May be NULL. */
  int (*on_window)(const clipcaer_timeline_window* window, void* user);
  /* After each window is classified: done of total; nonzero stops the run
   * (CLIPCAER_ERR_CANCELLED). May start over from 1 in the rare case a video
   * must be decoded twice. May be NULL. */
  int (*on_progress)(size_t done, size_t total, void* user);
  void* user;            /* passed to both callbacks */
  /* Finds the face of frames without a face box; NULL: whole frames. Added
   * after 0.1.0: callers built against an older header pass a smaller
   * struct_size and get none. */
  const clipcaer_face_detector* face_detector;
} clipcaer_timeline_params;

CLIPCAER_API void clipcaer_timeline_params_init(clipcaer_timeline_params* params);

/* A long video (a recorded lesson; a video file, or a folder of its frames
 * sorted by name) classified window by window: windows of
 * params->window_seconds every params->stride_seconds (or in frames), each
 * classified as a clip of its own, exactly as clipcaer_classify_folder would
 * classify those frames; frames that overlapping windows share go through
 * the image tower once. Face boxes are keyed by frame index ("0", "17") in
 * a file, by file name in a folder; the body box applies to every frame; box files as for
 * clipcaer_classify_folder, looked up by video_path. params may be NULL
 * (defaults; then nothing is reported: pass on_window to get the windows). */
CLIPCAER_API clipcaer_status clipcaer_classify_video_timeline(const clipcaer_model* model, const char* video_path,
                                                              const char* face_boxes_json,
                                                              const char* body_boxes_json,
                                                              const clipcaer_timeline_params* params);

#ifdef __cplusplus
}
#endif

#endif /* CLIPCAER_H */
