// Cascade face detection on every kernel table this CPU runs (the Haar
// kernel, KernelTable::haar_row): opencv-data's frontal cascade over a
// 640x360 and a 1280x720 frame holding a test photograph (a face) and one
// holding a face-less one, OpenCV's default settings, the smallest face 1/12
// of the frame's height as FaceDetector uses. bench_face_detection.py
// compares the best table with OpenCV itself.
//   build/bin/bench_face_detection [--benchmark_filter=avx2]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "../tests/cpp/test_pictures.hpp"

using namespace clipcaer;

namespace {

// The picture on a mid-grey frame, nearest-neighbour scaled to the frame's height.
detect::GrayImage frame_with(const detect::GrayImage& pic, int width, int height) {
  detect::GrayImage f;
  f.width = width;
  f.height = height;
  f.pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), 128);
  const int scaled_w = pic.width * height / pic.height;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < std::min(width, scaled_w); ++x)
      f.pixels[static_cast<std::size_t>(y) * width + x] =
          pic.pixels[static_cast<std::size_t>(y * pic.height / height) * pic.width + x * pic.width / scaled_w];
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string cascade_path;
  try {
    cascade_path = find_cascade("haarcascades/haarcascade_frontalface_alt2.xml");
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  static const detect::Cascade cascade = detect::Cascade::load(cascade_path);
  const std::filesystem::path dir = test::test_pictures_dir();
  int registered = 0;
  for (const char* name : {"astronaut.png", "coffee.png"}) {
    if (!std::filesystem::exists(dir / name)) {
      std::fprintf(stderr, "%s missing: run scripts/fetch-test-pictures.sh\n", (dir / name).c_str());
      continue;
    }
    const detect::GrayImage pic = detect::to_gray(io::read_image((dir / name).string()).view());
    for (const auto& [w, h] : {std::pair{640, 360}, std::pair{1280, 720}}) {
      const detect::GrayImage frame = frame_with(pic, w, h);
      detect::DetectParams p;
      p.min_width = p.min_height = h / 12;
      for (const kernels::KernelTable* t : kernels::usable_tables()) {
        const std::string label = std::string("haar_detect/") + t->name + "/" + name + "/" + std::to_string(w) +
                                  "x" + std::to_string(h);
        benchmark::RegisterBenchmark(label.c_str(), [frame, p, t](benchmark::State& state) {
          std::size_t found = 0;
          for (auto _ : state) {
            const auto faces = cascade.detect(frame, p, *t);
            found = faces.size();
            benchmark::DoNotOptimize(found);
          }
          state.counters["faces"] = static_cast<double>(found);
        })->Unit(benchmark::kMillisecond);
        ++registered;
      }
    }
  }
  if (!registered) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
