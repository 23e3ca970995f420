// clipcaer.load_clip and the clipcaer.preprocess submodule: decoding and the
// official test-mode preprocessing, each step exposed for parity tests.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "numpy_util.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/io/boxes.hpp"
#include "clipcaer/io/frame_folder.hpp"
#include "clipcaer/io/image.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/preprocess/clip.hpp"
#include "clipcaer/preprocess/crop.hpp"
#include "clipcaer/preprocess/frame_sampling.hpp"
#include "clipcaer/preprocess/letterbox.hpp"
#include "clipcaer/preprocess/resize_cv_linear.hpp"
#include "clipcaer/preprocess/resize_pil_bilinear.hpp"
#include "clipcaer/preprocess/streams.hpp"
#include "clipcaer/preprocess/to_tensor.hpp"

namespace clipcaer::python {

namespace {

using python::to_numpy;  // numpy_util.hpp's, for Tensors

py::array_t<std::uint8_t> to_numpy(Image&& im) {
  auto* owned = new Image(std::move(im));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Image*>(p); });
  return py::array_t<std::uint8_t>({owned->height(), owned->width(), std::size_t{3}},
                                   {3 * owned->width(), std::size_t{3}, std::size_t{1}}, owned->data(),
                                   free_when_done);
}

Box box_from_py(const py::handle& obj, const std::string& what) {
  std::vector<double> v;
  try {
    v = obj.cast<std::vector<double>>();
  } catch (const py::cast_error&) {
    throw Error(ErrorCode::invalid_argument,
                what + " must be a sequence of 4 numbers [left, upper, right, lower], got " +
                    std::string(py::str(py::repr(obj))));
  }
  if (v.size() != 4)
    throw Error(ErrorCode::invalid_argument,
                what + " must have 4 numbers [left, upper, right, lower], got " + std::to_string(v.size()));
  return make_box(v[0], v[1], v[2], v[3], what);
}

std::optional<Box> optional_box(const py::object& obj, const std::string& what) {
  if (obj.is_none()) return std::nullopt;
  return box_from_py(obj, what);
}

bool is_path(const py::handle& obj) {
  return py::isinstance<py::str>(obj) || py::isinstance(obj, py::module_::import("os").attr("PathLike"));
}

std::string path_str(const py::handle& obj) { return py::str(py::module_::import("os").attr("fspath")(obj)); }


// One pool for the process, made on first use (call with the GIL held). After
// a fork (e.g. a PyTorch DataLoader worker) the child has the pool object but
// not its threads, and waiting for them would hang: make a new pool there and
// leave the old one alone (never destroyed, so exit does not join threads).
ThreadPool& shared_pool() {
  static ThreadPool* pool = nullptr;
  static pid_t owner = 0;
  if (!pool || owner != ::getpid()) {
    pool = new ThreadPool(0);
    owner = ::getpid();
  }
  return *pool;
}

// threads: 0 = all cores (a shared pool), 1 = the calling thread, n = a pool of n.
template <class F>
Clip with_threads(std::size_t threads, F&& f) {
  ThreadPool* shared = threads == 0 ? &shared_pool() : nullptr;
  py::gil_scoped_release no_gil;
  if (threads == 1) return f(nullptr);
  if (shared) return f(shared);
  ThreadPool pool(threads);
  return f(&pool);
}

py::tuple clip_to_py(Clip&& clip) {
  return py::make_tuple(to_numpy(std::move(clip.faces)), to_numpy(std::move(clip.frames)));
}

}  // namespace

ClipBoxes boxes_from_py(const std::string& clip_dir, const py::object& face_boxes, const py::object& body_box) {
  ClipBoxes boxes;
  if (!face_boxes.is_none()) {
    if (is_path(face_boxes)) {
      boxes.faces = io::read_face_boxes(path_str(face_boxes), clip_dir);
    } else if (py::isinstance<py::dict>(face_boxes)) {
      for (auto item : face_boxes.cast<py::dict>()) {
        const std::string name = py::str(item.first);
        if (item.second.is_none()) continue;
        boxes.faces.emplace(name, box_from_py(item.second, "face box of frame '" + name + "'"));
      }
    } else {
      throw Error(ErrorCode::invalid_argument,
                  "face_boxes must be None, a dict {frame_file: [l, u, r, b]} or a path to the official JSON file");
    }
  }
  if (!body_box.is_none()) {
    if (is_path(body_box))
      boxes.body = io::read_body_box(path_str(body_box), clip_dir);
    else
      boxes.body = box_from_py(body_box, "body box");
  }
  return boxes;
}

void register_preprocess(py::module_& m) {
  m.def(
      "load_clip",
      [](const py::object& frames_dir, const py::object& face_boxes, const py::object& body_box,
         std::size_t num_segments, std::size_t size, std::size_t threads, const FaceDetector* face_detector) {
        const std::string dir = path_str(frames_dir);
        const ClipBoxes boxes = boxes_from_py(dir, face_boxes, body_box);
        return clip_to_py(with_threads(
            threads, [&](ThreadPool* pool) { return load_clip(dir, boxes, num_segments, size, pool, face_detector); }));
      },
      py::arg("frames_dir"), py::arg("face_boxes") = py::none(), py::arg("body_box") = py::none(),
      py::arg("num_segments") = 16, py::arg("size") = 224, py::kw_only(), py::arg("threads") = 0,
      py::arg("face_detector") = py::none(),
      R"doc(Preprocess one clip exactly as the official CLIP-CAER test loader.

frames_dir: folder of the clip's JPEG/PNG/BMP frames (sorted by name), or a
    video file (MP4, MKV, AVI, ...: every decoded frame, as `ffmpeg -i video
    %05d.png` extracts them; builds with FFmpeg, see video_decoder()).
face_boxes: None, a dict {frame_file_name: [l, u, r, b]}, or the path of the
    official faces JSON {clip_dir: {frame_file: [l, u, r, b]}} (looked up by
    frames_dir as given, then by its absolute path). For a video the frame
    names are frame indices from 0: {"0": [l, u, r, b], ...}.
body_box: None, a list [l, u, r, b], or the path of the official bodies JSON
    {clip_dir: [l, u, r, b]}.
threads: 0 = all cores, 1 = no extra threads, n = n threads.
face_detector: a FaceDetector: chosen frames without a face box get the
    largest face it finds (frames where it finds none: the whole frame).
Returns (faces, frames): float32 arrays (num_segments, 3, size, size) in [0, 1].)doc");

  py::module_ p = m.def_submodule("preprocess", "The steps of the official test-mode preprocessing, one by one.");

  p.def("sample_indices", &preprocess::sample_frame_indices, py::arg("num_frames"), py::arg("num_segments"),
        "Frame indices the official test loader picks from num_frames frames for num_segments segments.");

  p.def(
      "decode_image",
      [](const py::bytes& data) {
        const std::string_view bytes = data;
        Image im;
        {
          py::gil_scoped_release no_gil;
          im = io::decode_image(bytes.data(), bytes.size());
        }
        return to_numpy(std::move(im));
      },
      py::arg("data"), "Decode JPEG/PNG/BMP bytes to a uint8 (H, W, 3) RGB array.");
  p.def(
      "read_image", [](const py::object& path) { return to_numpy(io::read_image(path_str(path))); }, py::arg("path"),
      "Read and decode a JPEG/PNG/BMP file to a uint8 (H, W, 3) RGB array.");
  p.def(
      "list_frames", [](const py::object& dir) { return io::list_frame_files(path_str(dir)); }, py::arg("frames_dir"),
      "Image file names of a clip folder in the official (byte-wise sorted) order.");

  p.def(
      "face_crop",
      [](const U8Array& img, const py::object& box) {
        const ImageView v = as_view(img, "image");
        return to_numpy(
            Image::copy_of(preprocess::crop_view(v, preprocess::face_crop_rect(box_from_py(box, "face box"), v.width,
                                                                                v.height))));
      },
      py::arg("image"), py::arg("box"), "The official face crop: box truncated to int, +20 px margin, clamped.");
  p.def(
      "body_crop",
      [](const U8Array& img, const py::object& box) {
        const ImageView v = as_view(img, "image");
        return to_numpy(preprocess::crop_padded(v, preprocess::body_crop_rect(box_from_py(box, "body box"))));
      },
      py::arg("image"), py::arg("box"), "Pillow's Image.crop(box): rounded box, black outside the image.");
  p.def(
      "resize_bilinear_pil",
      [](const U8Array& img, const py::object& size) {
        std::size_t w = 0, h = 0;
        if (py::isinstance<py::int_>(size)) {
          w = h = size.cast<std::size_t>();
        } else {
          auto wh = size.cast<std::pair<std::size_t, std::size_t>>();
          w = wh.first;
          h = wh.second;
        }
        return to_numpy(preprocess::resize_bilinear_pil(as_view(img, "image"), w, h));
      },
      py::arg("image"), py::arg("size"), "Pillow Image.resize(size, BILINEAR); size is S or (width, height).");
  p.def(
      "resize_linear_cv2",
      [](const U8Array& img, std::pair<std::size_t, std::size_t> size) {
        return to_numpy(preprocess::resize_linear_cv(as_view(img, "image"), size.first, size.second));
      },
      py::arg("image"), py::arg("size"), "cv2.resize(image, (width, height)) with INTER_LINEAR.");
  p.def(
      "letterbox_cv2",
      [](const U8Array& img, std::size_t size) {
        return to_numpy(preprocess::letterbox_cv(as_view(img, "image"), size));
      },
      py::arg("image"), py::arg("size"), "The official context letterbox to size x size (OpenCV resize, black bars).");
  p.def(
      "letterbox_geometry",
      [](std::size_t width, std::size_t height, std::size_t size) {
        const auto g = preprocess::letterbox_geometry(width, height, size);
        return py::make_tuple(g.width, g.height, g.left, g.top);
      },
      py::arg("width"), py::arg("height"), py::arg("size"), "(new_w, new_h, left, top) of the letterbox.");
  p.def(
      "face_image",
      [](const U8Array& img, const py::object& box, std::size_t size) {
        const auto b = optional_box(box, "face box");
        return to_numpy(preprocess::face_stream_image(as_view(img, "image"), b ? &*b : nullptr, size));
      },
      py::arg("image"), py::arg("box"), py::arg("size") = 224, "One frame's face-stream picture (uint8).");
  p.def(
      "context_image",
      [](const U8Array& img, const py::object& box, std::size_t size) {
        const auto b = optional_box(box, "body box");
        return to_numpy(preprocess::context_stream_image(as_view(img, "image"), b ? &*b : nullptr, size));
      },
      py::arg("image"), py::arg("box"), py::arg("size") = 224, "One frame's context-stream picture (uint8).");
  p.def(
      "to_gray",
      [](const U8Array& img) { return gray_to_py(detect::to_gray(as_view(img, "image"))); },
      py::arg("image"), "uint8 (H, W, 3) RGB -> (H, W) grey, as cv2.cvtColor(COLOR_RGB2GRAY) (the face detector's input).");
  p.def(
      "resize_gray_linear_exact",
      [](const U8Array& img, int width, int height) {
        return gray_to_py(detect::resize_linear_exact(gray_from_py(img, false), width, height));
      },
      py::arg("image"), py::arg("width"), py::arg("height"),
      "cv2.resize(INTER_LINEAR_EXACT) of a (H, W) grey picture (the face detector's image pyramid).");
  p.def(
      "to_chw",
      [](const U8Array& img) {
        const ImageView v = as_view(img, "image");
        Tensor t({3, v.height, v.width});
        preprocess::to_chw_float(v, t.data());
        return to_numpy(std::move(t));
      },
      py::arg("image"), "uint8 (H, W, 3) -> float32 (3, H, W), value / 255.");
  p.def(
      "load_clip_arrays",
      [](const std::vector<U8Array>& arrays, const std::vector<std::string>& names, const py::object& face_boxes,
         const py::object& body_box, std::size_t num_segments, std::size_t size, const FaceDetector* face_detector) {
        std::vector<Image> frames;
        frames.reserve(arrays.size());
        for (std::size_t i = 0; i < arrays.size(); ++i)
          frames.push_back(Image::copy_of(as_view(arrays[i], ("frame " + std::to_string(i)).c_str())));
        if (!face_boxes.is_none() && is_path(face_boxes))
          throw Error(ErrorCode::invalid_argument, "load_clip_arrays: face_boxes must be a dict or None");
        if (!body_box.is_none() && is_path(body_box))
          throw Error(ErrorCode::invalid_argument, "load_clip_arrays: body_box must be a list or None");
        const ClipBoxes boxes = boxes_from_py("", face_boxes, body_box);
        return clip_to_py(with_threads(
            0, [&](ThreadPool* pool) { return load_clip(frames, names, boxes, num_segments, size, pool, face_detector); }));
      },
      py::arg("frames"), py::arg("names") = std::vector<std::string>{}, py::arg("face_boxes") = py::none(),
      py::arg("body_box") = py::none(), py::arg("num_segments") = 16, py::arg("size") = 224, py::kw_only(),
      py::arg("face_detector") = py::none(),
      "load_clip from uint8 (H, W, 3) RGB arrays in clip order, named for the face boxes.");
  p.def(
      "read_face_boxes",
      [](const py::object& path, const std::string& clip_dir) {
        py::dict out;
        for (const auto& [name, b] : io::read_face_boxes(path_str(path), clip_dir))
          out[py::str(name)] = py::make_tuple(b.left, b.upper, b.right, b.lower);
        return out;
      },
      py::arg("path"), py::arg("clip_dir"), "Face boxes of clip_dir from the official faces JSON.");
  p.def(
      "read_body_box",
      [](const py::object& path, const std::string& clip_dir) -> py::object {
        const auto b = io::read_body_box(path_str(path), clip_dir);
        if (!b) return py::none();
        return py::make_tuple(b->left, b->upper, b->right, b->lower);
      },
      py::arg("path"), py::arg("clip_dir"), "Body box of clip_dir from the official bodies JSON, or None.");
}

}  // namespace clipcaer::python
