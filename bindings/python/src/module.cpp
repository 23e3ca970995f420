#include "bindings.hpp"

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "clipcaer/gpu/open_device.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/io/video.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/version.hpp"

PYBIND11_MODULE(_clipcaer, m) {
  using namespace clipcaer::python;
  m.doc() = "clipcaer: CLIP-CAER inference (C++ core)";
  m.attr("__version__") = CLIPCAER_VERSION_STRING;
  m.def(
      "kernel_sets",
      [] {
        std::vector<std::string> names;
        for (const clipcaer::kernels::KernelTable* t : clipcaer::kernels::usable_tables()) names.emplace_back(t->name);
        return names;
      },
      "The kernel sets this CPU runs, best first: what Model(isa=...) accepts (and \"baseline\", the last).");
  m.def(
      "cuda_devices", [] { return clipcaer::gpu::cuda_device_count(); },
      "How many CUDA GPUs Model(device='cuda:N') can use: 0 without one, or in a build without CUDA.");
  m.def(
      "jpeg_decoder", [] { return clipcaer::io::jpeg_decoder(); },
      "Which library decodes JPEG frames in this build: 'libjpeg-turbo X.Y.Z' (bit-exact with Pillow on the same "
      "libjpeg-turbo) or 'stb_image'.");
  m.def(
      "video_decoder", []() -> std::optional<std::string> {
        if (!clipcaer::io::video_supported()) return std::nullopt;
        return clipcaer::io::video_decoder();
      },
      "What reads video files in this build: 'FFmpeg (libavformat X.Y.Z, ...)', or None in a build without FFmpeg "
      "(load_clip then takes frame folders only).");
  register_errors(m);
  register_text(m);  // TextHead before Model, whose methods take and return it
  register_faces(m);  // FaceDetector before the functions that take one
  register_timeline(m);  // Timeline before Model, whose timeline method returns it
  register_model(m);
  register_preprocess(m);
  register_tokenizer(m);
}
