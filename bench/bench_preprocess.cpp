// Decoding and the official test-mode preprocessing, step by step and for a
// whole clip of 16 JPEG frames 1280x720 (what bench_preprocess_vs_pil.py
// compares with Pillow + OpenCV).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/preprocess/letterbox.hpp"
#include "clipcaer/preprocess/resize_cv_linear.hpp"
#include "clipcaer/preprocess/resize_pil_bilinear.hpp"
#include "clipcaer/preprocess/to_tensor.hpp"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

using namespace clipcaer;

namespace {

// A smooth scene with texture, so JPEG sizes and decode times are realistic.
Image synthetic_frame(std::size_t w, std::size_t h, int seed) {
  Image im(w, h);
  std::uint32_t state = 2654435761u * static_cast<std::uint32_t>(seed + 1);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) {
      state = state * 1664525u + 1013904223u;
      const int noise = static_cast<int>(state >> 28) - 8;
      for (std::size_t c = 0; c < 3; ++c) {
        const double v = 128 + 90 * std::sin(0.013 * x * (c + 1) + 0.021 * y + seed) * std::cos(0.007 * y * (3 - c));
        im.row(y)[3 * x + c] = static_cast<std::uint8_t>(std::min(255.0, std::max(0.0, v + noise)));
      }
    }
  return im;
}

std::string encode_jpeg(const Image& im) {
  std::string out;
  stbi_write_jpg_to_func([](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<std::size_t>(size)); },
                         &out, static_cast<int>(im.width()), static_cast<int>(im.height()), 3, im.data(), 90);
  return out;
}

// 16 frames of 1280x720 JPEG in a temporary folder, made once.
const std::string& clip_dir() {
  static const std::string dir = [] {
    std::string d = "/tmp/clipcaer_bench_clip_" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    for (int i = 0; i < 16; ++i) {
      const std::string bytes = encode_jpeg(synthetic_frame(1280, 720, i));
      char name[32];
      std::snprintf(name, sizeof name, "/%05d.jpg", i);
      std::ofstream(d + name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    std::atexit([] { std::filesystem::remove_all("/tmp/clipcaer_bench_clip_" + std::to_string(::getpid())); });
    return d;
  }();
  return dir;
}

ClipBoxes clip_boxes() {
  ClipBoxes b;
  for (int i = 0; i < 16; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%05d.jpg", i);
    b.faces[name] = Box{560.5 + i, 180.2, 760.9 + i, 420.7};
  }
  b.body = Box{400.0, 100.0, 980.0, 719.0};
  return b;
}

// The build's JPEG decoder (libjpeg-turbo by default), and stb_image beside it.
void u8_decode_jpeg_1280x720(benchmark::State& state) {
  const std::string bytes = encode_jpeg(synthetic_frame(1280, 720, 0));
  for (auto _ : state) benchmark::DoNotOptimize(io::decode_image(bytes.data(), bytes.size()));
  state.SetLabel(io::jpeg_decoder() + ", " + std::to_string(bytes.size() / 1024) + " KiB");
}
BENCHMARK(u8_decode_jpeg_1280x720)->Unit(benchmark::kMillisecond);

void u8_decode_jpeg_1280x720_stb(benchmark::State& state) {
  const std::string bytes = encode_jpeg(synthetic_frame(1280, 720, 0));
  for (auto _ : state) benchmark::DoNotOptimize(io::detail::decode_with_stb(bytes.data(), bytes.size(), "stb"));
  state.SetLabel("stb_image, " + std::to_string(bytes.size() / 1024) + " KiB");
}
BENCHMARK(u8_decode_jpeg_1280x720_stb)->Unit(benchmark::kMillisecond);

void u8_resize_bilinear_pil(benchmark::State& state) {
  const Image src = synthetic_frame(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)), 1);
  Image dst(224, 224);
  for (auto _ : state) {
    preprocess::resize_bilinear_pil(src.view(), dst.mutable_view());
    benchmark::DoNotOptimize(dst.data());
  }
}
BENCHMARK(u8_resize_bilinear_pil)->Args({240, 280})->Args({1280, 720})->Unit(benchmark::kMicrosecond);

void u8_letterbox_cv(benchmark::State& state) {
  const Image src = synthetic_frame(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)), 2);
  Image dst(224, 224);
  for (auto _ : state) {
    preprocess::letterbox_cv(src.view(), dst.mutable_view());
    benchmark::DoNotOptimize(dst.data());
  }
}
BENCHMARK(u8_letterbox_cv)->Args({580, 619})->Args({1280, 720})->Unit(benchmark::kMicrosecond);

void u8_to_chw_f32_224(benchmark::State& state) {
  const Image src = synthetic_frame(224, 224, 3);
  std::vector<float> out(3 * 224 * 224);
  for (auto _ : state) {
    preprocess::to_chw_float(src.view(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(u8_to_chw_f32_224)->Unit(benchmark::kMicrosecond);

// The whole clip: 16 JPEG 1280x720 frames, face and body boxes, 16 + 16 outputs.
void load_clip_16_jpeg_1280x720(benchmark::State& state) {
  const std::string& dir = clip_dir();
  const ClipBoxes boxes = clip_boxes();
  ThreadPool pool(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(load_clip(dir, boxes, 16, 224, state.range(0) == 1 ? nullptr : &pool));
  state.SetLabel(std::to_string(state.range(0)) + " thread(s)");
}
BENCHMARK(load_clip_16_jpeg_1280x720)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
