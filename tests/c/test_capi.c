/* The C API from C: every entry point, its error paths, handle checks,
 * thread-local errors and concurrent use of one model.
 * usage: test_capi MODEL.safetensors */
#include <clipcaer.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

static int passed = 0, failed = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (cond) {                                                       \
      ++passed;                                                       \
    } else {                                                          \
      ++failed;                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                 \
  } while (0)

static int error_mentions(const char* part) { return strstr(clipcaer_last_error(), part) != NULL; }

static const char* model_path;
static clipcaer_model* shared_model;
static size_t T, S, C;
static float* clip;

typedef struct {
  float logits[64];
  clipcaer_status status;
} worker_result;

static void* worker(void* arg) {
  worker_result* r = (worker_result*)arg;
  int rep;
  for (rep = 0; rep < 3; ++rep) r->status = clipcaer_classify_clip(shared_model, clip, clip, T, r->logits, NULL, 64, NULL);
  return NULL;
}

/* What the timeline callbacks saw. */
typedef struct {
  size_t windows, progress_calls, stop_at;
  size_t first[8], end[8], top[8], num_frames[8], faces_detected[8];
  float logits[8][64];
} timeline_log;

static int on_window(const clipcaer_timeline_window* w, void* user) {
  timeline_log* log = (timeline_log*)user;
  if (w->index != log->windows || w->index >= 8) return 1;
  log->first[w->index] = w->first_frame;
  log->end[w->index] = w->end_frame;
  log->top[w->index] = w->top_index;
  log->num_frames[w->index] = w->num_frames;
  log->faces_detected[w->index] = w->faces_detected;
  if (w->faces_detected > w->face_boxes_used || w->face_boxes_used > w->num_frames) return 1;
  memcpy(log->logits[w->index], w->logits, w->num_classes * sizeof(float));
  ++log->windows;
  return log->stop_at != 0 && log->windows == log->stop_at;
}

static int on_progress(size_t done, size_t total, void* user) {
  timeline_log* log = (timeline_log*)user;
  (void)total;
  ++log->progress_calls;
  return log->stop_at != 0 && done == log->stop_at;
}

static void* error_in_other_thread(void* arg) {
  size_t n;
  (void)arg;
  clipcaer_model_num_classes(NULL, &n); /* sets this thread's error only */
  return NULL;
}

/* A video window by window (40 frames at 10 fps), its callbacks and errors. */
static void test_timeline(clipcaer_model* m, const char* video, const char* folder) {
  clipcaer_timeline_params tp;
  timeline_log log;
  float whole[64];
  size_t top = 0;
  memset(&log, 0, sizeof log);
  clipcaer_timeline_params_init(&tp);
  CHECK(tp.struct_size == sizeof tp && tp.window_seconds == 4 && tp.stride_seconds == 2 && !tp.on_window);
  tp.window_frames = 20;
  tp.stride_frames = 10;
  tp.on_window = on_window;
  tp.on_progress = on_progress;
  tp.user = &log;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_OK);
  CHECK(log.windows == 3 && log.progress_calls == 3);
  CHECK(log.first[0] == 0 && log.first[1] == 10 && log.first[2] == 20 && log.end[2] == 40);
  CHECK(log.num_frames[0] == T && log.top[1] < C);
  /* one window of the whole video == the video as one clip, exactly */
  memset(&log, 0, sizeof log);
  tp.window_frames = 0;
  tp.window_seconds = 10;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_OK);
  CHECK(clipcaer_classify_folder(m, video, NULL, NULL, whole, NULL, 64, &top) == CLIPCAER_OK);
  CHECK(log.windows == 1 && log.top[0] == top && memcmp(log.logits[0], whole, C * sizeof(float)) == 0);
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, NULL) == CLIPCAER_OK); /* defaults */
  /* callbacks stop a run */
  memset(&log, 0, sizeof log);
  log.stop_at = 1;
  tp.window_seconds = 2;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_CANCELLED);
  CHECK(error_mentions("cancelled by on_progress") && log.windows == 0 && log.progress_calls == 1);
  CHECK(strcmp(clipcaer_status_string(CLIPCAER_ERR_CANCELLED), "cancelled") == 0);
  tp.on_progress = NULL;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_CANCELLED);
  CHECK(error_mentions("cancelled by on_window") && log.windows == 1);
  /* errors */
  tp.window_seconds = 0;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("window must be a positive number of seconds"));
  tp.struct_size = 8;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("clipcaer_timeline_params_init"));
  CHECK(clipcaer_classify_video_timeline(m, NULL, NULL, NULL, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_classify_video_timeline(m, folder, NULL, NULL, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("the frame rate is unknown")); /* a folder of frames states none */
  clipcaer_timeline_params_init(&tp);
  tp.frame_rate = 5;
  CHECK(clipcaer_classify_video_timeline(m, folder, NULL, NULL, &tp) == CLIPCAER_OK);
  tp.frame_rate = -1;
  CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("frame_rate must be a positive"));
  CHECK(clipcaer_classify_video_timeline(m, "/nonexistent/v.mp4", NULL, NULL, NULL) == CLIPCAER_ERR_FILE_NOT_FOUND);
  CHECK(clipcaer_classify_video_timeline(m, video, "/nonexistent/faces.json", NULL, NULL) ==
        CLIPCAER_ERR_FILE_NOT_FOUND);
  CHECK(clipcaer_classify_video_timeline(NULL, video, NULL, NULL, NULL) == CLIPCAER_ERR_INVALID_HANDLE);
  clipcaer_timeline_params_init(NULL); /* harmless */
}

/* The face detector: a bright square found by the tests' square cascade
 * (tests/fixtures/square_cascade.xml, beside the model fixture), its errors,
 * handles, and classify_folder / timelines with it. */
static void test_face_detector(clipcaer_model* m, const char* clip_dir, const char* video) {
  clipcaer_face_detector_params fp;
  clipcaer_face_detector* d = NULL;
  clipcaer_timeline_params tp;
  timeline_log log;
  char cascade[4096];
  const char* slash = strrchr(model_path, '/');
  unsigned char* rgb = (unsigned char*)calloc(3 * 160 * 120, 1);
  double box[4] = {-1, -1, -1, -1};
  int found = -1;
  size_t x, y, top = 0, top2 = 0, detected = 99;
  float a[64], b[64];

  snprintf(cascade, sizeof cascade, "%.*s/square_cascade.xml", slash ? (int)(slash - model_path) : 1,
           slash ? model_path : ".");
  clipcaer_face_detector_params_init(&fp);
  CHECK(fp.struct_size == sizeof fp && fp.profiles == 1 && fp.scale_factor == 1.1 && fp.min_neighbors == 3);
  fp.cascade = cascade;
  fp.profiles = 0;
  fp.min_face = 0;
  CHECK(clipcaer_face_detector_open(&fp, &d) == CLIPCAER_OK && d != NULL);
  for (y = 40; y < 80; ++y) /* a 40 x 40 square at (60, 40) */
    for (x = 60; x < 100; ++x) rgb[3 * (160 * y + x)] = rgb[3 * (160 * y + x) + 1] = rgb[3 * (160 * y + x) + 2] = 230;
  for (x = 0; x < 3 * 160 * 120; x += 7) rgb[x] = (unsigned char)(rgb[x] ? rgb[x] : x % 31); /* some texture */
  CHECK(clipcaer_face_detector_find(d, rgb, 160, 120, 3 * 160, box, &found) == CLIPCAER_OK && found == 1);
  CHECK(fabs((box[0] + box[2]) / 2 - 80) <= 4 && fabs((box[1] + box[3]) / 2 - 60) <= 4 && box[2] - box[0] > 50);
  memset(rgb, 0, 3 * 160 * 120);
  CHECK(clipcaer_face_detector_find(d, rgb, 160, 120, 3 * 160, box, &found) == CLIPCAER_OK && found == 0);
  CHECK(clipcaer_face_detector_find(d, rgb, 160, 120, 100, box, &found) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("stride 100"));
  CHECK(clipcaer_face_detector_find(d, rgb, 0, 120, 480, box, &found) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_face_detector_find(d, NULL, 160, 120, 480, box, &found) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_face_detector_find(d, rgb, 160, 120, 480, NULL, &found) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_face_detector_find(NULL, rgb, 160, 120, 480, box, &found) == CLIPCAER_ERR_INVALID_HANDLE);
  CHECK(clipcaer_face_detector_find((clipcaer_face_detector*)rgb, rgb, 160, 120, 480, box, &found) ==
        CLIPCAER_ERR_INVALID_HANDLE);

  /* a clip folder: without a detector the same as classify_folder */
  CHECK(clipcaer_classify_folder(m, clip_dir, NULL, NULL, a, NULL, 64, &top) == CLIPCAER_OK);
  CHECK(clipcaer_classify_folder_detect(m, clip_dir, NULL, NULL, NULL, b, NULL, 64, &top2, &detected) == CLIPCAER_OK);
  CHECK(memcmp(a, b, C * sizeof(float)) == 0 && top == top2 && detected == 0);
  CHECK(clipcaer_classify_folder_detect(m, clip_dir, NULL, NULL, d, b, NULL, 64, &top2, &detected) == CLIPCAER_OK);
  CHECK(detected <= T && (detected > 0 || memcmp(a, b, C * sizeof(float)) == 0));
  CHECK(clipcaer_classify_folder_detect(m, clip_dir, NULL, NULL, (clipcaer_face_detector*)rgb, b, NULL, 64, &top2,
                                        NULL) == CLIPCAER_ERR_INVALID_HANDLE);
  CHECK(error_mentions("not a live detector"));

  /* a timeline with it, also from a caller whose params end before face_detector */
  if (video) {
    clipcaer_timeline_params_init(&tp);
    CHECK(tp.face_detector == NULL);
    tp.window_frames = 20;
    tp.stride_frames = 10;
    tp.on_window = on_window;
    tp.user = &log;
    tp.face_detector = d;
    memset(&log, 0, sizeof log);
    CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_OK && log.windows == 3);
    tp.struct_size = offsetof(clipcaer_timeline_params, face_detector);
    tp.face_detector = (clipcaer_face_detector*)rgb; /* beyond struct_size: never read */
    memset(&log, 0, sizeof log);
    CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_OK && log.windows == 3);
    CHECK(log.faces_detected[0] == 0);
    tp.struct_size = sizeof tp;
    CHECK(clipcaer_classify_video_timeline(m, video, NULL, NULL, &tp) == CLIPCAER_ERR_INVALID_HANDLE);
  }

  clipcaer_face_detector_free(d);
  clipcaer_face_detector_free(d); /* twice: ignored */
  clipcaer_face_detector_free(NULL);
  CHECK(clipcaer_face_detector_find(d, rgb, 160, 120, 480, box, &found) == CLIPCAER_ERR_INVALID_HANDLE);

  /* open errors */
  fp.cascade = "/nonexistent/cascade.xml";
  CHECK(clipcaer_face_detector_open(&fp, &d) == CLIPCAER_ERR_FILE_NOT_FOUND && d == NULL);
  CHECK(error_mentions("/nonexistent/cascade.xml"));
  fp.cascade = model_path; /* not XML */
  CHECK(clipcaer_face_detector_open(&fp, &d) == CLIPCAER_ERR_FORMAT && d == NULL);
  fp.cascade = cascade;
  fp.scale_factor = 0.5;
  CHECK(clipcaer_face_detector_open(&fp, &d) == CLIPCAER_ERR_INVALID_ARGUMENT && error_mentions("scale factor"));
  fp.struct_size = 4;
  CHECK(clipcaer_face_detector_open(&fp, &d) == CLIPCAER_ERR_INVALID_ARGUMENT &&
        error_mentions("clipcaer_face_detector_params_init"));
  CHECK(clipcaer_face_detector_open(NULL, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
  free(rgb);
}

int main(int argc, char** argv) {
  clipcaer_model* m = NULL;
  clipcaer_model_params params;
  size_t n = 0, top = 0, top2[2], i, e;
  const char* name = NULL;
  float logits[64], probs[64], batch_logits[128], sum = 0;
  float* clips2;
  pthread_t threads[4];
  worker_result results[4];
  pthread_t other;

  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: test_capi MODEL.safetensors CLIP_DIR [VIDEO]\n");
    return 2;
  }
  model_path = argv[1];

  /* version and status strings */
  CHECK(strlen(clipcaer_version()) >= 5);
  CHECK(strcmp(clipcaer_jpeg_decoder(), "stb_image") == 0 || strncmp(clipcaer_jpeg_decoder(), "libjpeg", 7) == 0);
  CHECK(strcmp(clipcaer_video_decoder(), "none") == 0 || strncmp(clipcaer_video_decoder(), "FFmpeg (", 8) == 0);
  CHECK(strcmp(clipcaer_status_string(CLIPCAER_OK), "ok") == 0);
  CHECK(strcmp(clipcaer_status_string(CLIPCAER_ERR_INVALID_HANDLE), "invalid handle") == 0);
  CHECK(strcmp(clipcaer_status_string((clipcaer_status)1234), "unknown status") == 0);

  /* load errors */
  CHECK(clipcaer_model_load(NULL, NULL, &m) == CLIPCAER_ERR_INVALID_ARGUMENT && m == NULL);
  CHECK(clipcaer_model_load(model_path, NULL, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_model_load("/nonexistent/model.safetensors", NULL, &m) == CLIPCAER_ERR_FILE_NOT_FOUND);
  CHECK(error_mentions("/nonexistent/model.safetensors"));
  CHECK(clipcaer_model_load("/etc/hostname", NULL, &m) == CLIPCAER_ERR_FORMAT);
  CHECK(error_mentions("not a safetensors file"));
  memset(&params, 0, sizeof params);
  CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("clipcaer_model_params_init"));
  clipcaer_model_params_init(&params);
  params.isa = "no-such-isa";
  CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_ERR_UNSUPPORTED);
  clipcaer_model_params_init(&params);
  params.dtype = "float16";
  CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_ERR_INVALID_ARGUMENT && m == NULL);
  CHECK(error_mentions("dtype is 'float16'"));
  clipcaer_model_params_init(NULL); /* ignored */

  /* dtype: chosen at load; a caller built before the field existed gets the file's choice */
  {
    const char* s = NULL;
    clipcaer_model_params_init(&params);
    params.dtype = "int8";
    CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_OK);
    CHECK(clipcaer_model_dtype(m, &s) == CLIPCAER_OK && strcmp(s, "int8") == 0);
    CHECK(clipcaer_model_kernel_set(m, &s) == CLIPCAER_OK && s && strlen(s) > 0);
    CHECK(clipcaer_model_dtype(m, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
    clipcaer_model_free(m);
    CHECK(clipcaer_model_dtype(m, &s) == CLIPCAER_ERR_INVALID_HANDLE);
    params.struct_size = offsetof(clipcaer_model_params, dtype);
    CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_OK);
    CHECK(clipcaer_model_dtype(m, &s) == CLIPCAER_OK && strcmp(s, "float32") == 0);
    clipcaer_model_free(m);
    m = NULL;
  }


  /* load */
  clipcaer_model_params_init(&params);
  params.threads = 2;
  CHECK(clipcaer_model_load(model_path, &params, &m) == CLIPCAER_OK && m != NULL);
  CHECK(strcmp(clipcaer_last_error(), "") == 0);
  CHECK(clipcaer_model_num_classes(m, &C) == CLIPCAER_OK && C >= 2 && C <= 64);
  CHECK(clipcaer_model_num_frames(m, &T) == CLIPCAER_OK && T >= 1);
  CHECK(clipcaer_model_image_size(m, &S) == CLIPCAER_OK && S >= 1);
  CHECK(clipcaer_model_embed_dim(m, &n) == CLIPCAER_OK && n >= 1);
  CHECK(clipcaer_model_threads(m, &n) == CLIPCAER_OK && n == 2);
  CHECK(clipcaer_model_set_threads(m, 1) == CLIPCAER_OK);
  CHECK(clipcaer_model_threads(m, &n) == CLIPCAER_OK && n == 1);
  CHECK(clipcaer_model_class_name(m, 0, &name) == CLIPCAER_OK && name && strlen(name) > 0);
  CHECK(clipcaer_model_class_name(m, C, &name) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("out of range"));
  CHECK(clipcaer_model_num_classes(m, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_model_num_classes(NULL, &n) == CLIPCAER_ERR_INVALID_HANDLE);
  CHECK(clipcaer_model_class_name(m, 0, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);

  /* classify */
  clip = malloc(T * 3 * S * S * sizeof(float));
  for (i = 0; i < T * 3 * S * S; ++i) clip[i] = (float)((i * 7919) % 256) / 255.0f;
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, probs, 64, &top) == CLIPCAER_OK);
  for (i = 0; i < C; ++i) {
    sum += probs[i];
    CHECK(logits[i] <= logits[top]);
  }
  CHECK(fabsf(sum - 1.0f) < 1e-5f);
  CHECK(clipcaer_classify_clip(m, clip, clip, T, NULL, NULL, 0, &top) == CLIPCAER_OK);

  /* device: cpu by default; the GPU code path on the host ("emulated") gives the CPU's answer */
  {
    const char* s = NULL;
    float cpu_logits[64], gpu_logits[64];
    size_t j;
    clipcaer_model* g = NULL;
    CHECK(clipcaer_model_device(m, &s) == CLIPCAER_OK && strcmp(s, "cpu") == 0);
    CHECK(clipcaer_model_device(m, NULL) == CLIPCAER_ERR_INVALID_ARGUMENT);
    CHECK(clipcaer_classify_clip(m, clip, clip, T, cpu_logits, NULL, 64, NULL) == CLIPCAER_OK);
    clipcaer_model_params_init(&params);
    params.device = "emulated";
    CHECK(clipcaer_model_load(model_path, &params, &g) == CLIPCAER_OK);
    CHECK(clipcaer_model_device(g, &s) == CLIPCAER_OK && strcmp(s, "emulated") == 0);
    CHECK(clipcaer_classify_clip(g, clip, clip, T, gpu_logits, NULL, 64, NULL) == CLIPCAER_OK);
    for (j = 0; j < C; ++j) CHECK(fabsf(cpu_logits[j] - gpu_logits[j]) < 1e-3f);
    clipcaer_model_free(g);
    CHECK(clipcaer_model_device(g, &s) == CLIPCAER_ERR_INVALID_HANDLE);
    params.device = "tpu";
    CHECK(clipcaer_model_load(model_path, &params, &g) == CLIPCAER_ERR_INVALID_ARGUMENT && g == NULL);
    CHECK(error_mentions("unknown device 'tpu'"));
    params.device = "emulated";
    params.struct_size = offsetof(clipcaer_model_params, device); /* an older caller: cpu */
    CHECK(clipcaer_model_load(model_path, &params, &g) == CLIPCAER_OK);
    CHECK(clipcaer_model_device(g, &s) == CLIPCAER_OK && strcmp(s, "cpu") == 0);
    clipcaer_model_free(g);
  }
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, C - 1, &top) == CLIPCAER_ERR_BUFFER_TOO_SMALL);
  CHECK(clipcaer_classify_clip(m, NULL, clip, T, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("faces is NULL"));
  CHECK(clipcaer_classify_clip(m, clip, clip, T + 1, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("at most"));
  CHECK(clipcaer_classify_clip(m, clip, clip, 0, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  clip[5] = NAN;
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("NaN"));
  clip[5] = 255.0f;
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(error_mentions("[0, 1]"));
  clip[5] = 0.5f;

  /* batch of two identical clips == the single clip, bitwise */
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, 64, &top) == CLIPCAER_OK);
  clips2 = malloc(2 * T * 3 * S * S * sizeof(float));
  memcpy(clips2, clip, T * 3 * S * S * sizeof(float));
  memcpy(clips2 + T * 3 * S * S, clip, T * 3 * S * S * sizeof(float));
  CHECK(clipcaer_classify_clips(m, clips2, clips2, 2, T, batch_logits, NULL, 128, top2) == CLIPCAER_OK);
  CHECK(memcmp(batch_logits, logits, C * sizeof(float)) == 0);
  CHECK(memcmp(batch_logits + C, logits, C * sizeof(float)) == 0);
  CHECK(top2[0] == top && top2[1] == top);
  CHECK(clipcaer_classify_clips(m, clips2, clips2, 2, T, batch_logits, NULL, 2 * C - 1, top2) ==
        CLIPCAER_ERR_BUFFER_TOO_SMALL);
  free(clips2);

  /* a frames folder end to end, and its errors */
  CHECK(clipcaer_classify_folder(m, argv[2], NULL, NULL, logits, probs, 64, &top) == CLIPCAER_OK);
  CHECK(top < C);
  CHECK(clipcaer_classify_folder(m, NULL, NULL, NULL, logits, probs, 64, &top) == CLIPCAER_ERR_INVALID_ARGUMENT);
  CHECK(clipcaer_classify_folder(m, "/nonexistent/clip", NULL, NULL, logits, NULL, 64, &top) ==
        CLIPCAER_ERR_FILE_NOT_FOUND);
  CHECK(error_mentions("/nonexistent/clip"));
  CHECK(clipcaer_classify_folder(m, argv[2], "/nonexistent/faces.json", NULL, logits, NULL, 64, &top) ==
        CLIPCAER_ERR_FILE_NOT_FOUND);
  CHECK(error_mentions("faces.json"));
  CHECK(clipcaer_classify_folder(m, argv[2], NULL, NULL, logits, NULL, C - 1, &top) == CLIPCAER_ERR_BUFFER_TOO_SMALL);
  CHECK(clipcaer_classify_folder(NULL, argv[2], NULL, NULL, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_HANDLE);

  /* a video file (builds with FFmpeg), and a file that is not one */
  if (argc == 4) {
    CHECK(clipcaer_classify_folder(m, argv[3], NULL, NULL, logits, probs, 64, &top) == CLIPCAER_OK);
    CHECK(top < C);
    CHECK(clipcaer_classify_folder(m, model_path, NULL, NULL, logits, NULL, 64, &top) == CLIPCAER_ERR_FORMAT);
    CHECK(error_mentions("cannot open video"));
    test_timeline(m, argv[3], argv[2]);
  }
  test_face_detector(m, argv[2], argc == 4 ? argv[3] : NULL);

  /* four threads on one model == serial */
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, 64, &top) == CLIPCAER_OK);
  shared_model = m;
  CHECK(clipcaer_model_set_threads(m, 2) == CLIPCAER_OK);
  for (i = 0; i < 4; ++i) pthread_create(&threads[i], NULL, worker, &results[i]);
  for (i = 0; i < 4; ++i) pthread_join(threads[i], NULL);
  for (i = 0; i < 4; ++i) {
    CHECK(results[i].status == CLIPCAER_OK);
    for (e = 0; e < C; ++e) CHECK(results[i].logits[e] == logits[e]);
  }

  /* errors are per thread */
  CHECK(clipcaer_model_num_classes(m, &n) == CLIPCAER_OK);
  pthread_create(&other, NULL, error_in_other_thread, NULL);
  pthread_join(other, NULL);
  CHECK(strcmp(clipcaer_last_error(), "") == 0);

  /* freed handles are detected, double free is harmless */
  clipcaer_model_free(m);
  CHECK(clipcaer_model_num_classes(m, &n) == CLIPCAER_ERR_INVALID_HANDLE);
  CHECK(error_mentions("freed"));
  CHECK(clipcaer_classify_clip(m, clip, clip, T, logits, NULL, 64, &top) == CLIPCAER_ERR_INVALID_HANDLE);
  clipcaer_model_free(m);
  clipcaer_model_free(NULL);
  CHECK(clipcaer_model_num_classes((const clipcaer_model*)&params, &n) == CLIPCAER_ERR_INVALID_HANDLE);
  free(clip);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
