// clipcaer.FaceDetector and clipcaer.Cascade: faces for frames that have no
// face box (detect/face_detector.hpp, detect/cascade.hpp).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "numpy_util.hpp"

namespace clipcaer::python {

namespace {

py::tuple box_tuple(const detect::Rect& r) {
  return py::make_tuple(static_cast<double>(r.x), static_cast<double>(r.y), static_cast<double>(r.x + r.width),
                        static_cast<double>(r.y + r.height));
}

}  // namespace

detect::GrayImage gray_from_py(const U8Array& a, bool allow_rgb) {
  if (allow_rgb && a.ndim() == 3) return detect::to_gray(as_view(a, "image"));
  if (a.ndim() != 2 || a.shape(0) == 0 || a.shape(1) == 0)
    throw Error(ErrorCode::invalid_argument, allow_rgb ? "image must be a non-empty uint8 array of shape (H, W) or (H, W, 3)"
                                                       : "image must be a non-empty uint8 array of shape (H, W)");
  detect::GrayImage g;
  g.width = static_cast<int>(a.shape(1));
  g.height = static_cast<int>(a.shape(0));
  g.pixels.assign(a.data(), a.data() + a.size());
  return g;
}

py::array gray_to_py(const detect::GrayImage& g) {
  py::array_t<std::uint8_t> out({g.height, g.width});
  std::copy(g.pixels.begin(), g.pixels.end(), out.mutable_data());
  return std::move(out);
}

void register_faces(py::module_& m) {
  py::class_<FaceDetector>(m, "FaceDetector",
                           R"doc(Finds the face in frames that have no face box, for videos without the data
set's box files: OpenCV's trained face cascades (Debian's opencv-data), the
frontal one first, then the profile one on the frame and on its mirror
image; the largest face found wins. Pass it to load_clip, classify_folder or
Model.timeline as face_detector=.)doc")
      .def(py::init([](std::optional<std::vector<std::string>> cascades,
                       std::optional<std::vector<std::string>> profile_cascades, bool profiles, double scale_factor,
                       int min_neighbors, double min_face) {
             FaceDetectorOptions o;
             if (cascades) o.cascades = *cascades;
             if (profile_cascades) o.profile_cascades = *profile_cascades;
             o.profiles = profiles;
             o.scale_factor = scale_factor;
             o.min_neighbors = min_neighbors;
             o.min_face = min_face;
             return FaceDetector(o);
           }),
           py::kw_only(), py::arg("cascades") = py::none(), py::arg("profile_cascades") = py::none(),
           py::arg("profiles") = true, py::arg("scale_factor") = 1.1, py::arg("min_neighbors") = 3,
           py::arg("min_face") = FaceDetectorOptions{}.min_face,
           R"doc(cascades: frontal-face cascade files (default: opencv-data's
    haarcascade_frontalface_alt2.xml).
profile_cascades: profile cascades (default: opencv-data's haarcascade_profileface.xml).
profiles: try the profile cascades when no frontal face is found.
scale_factor, min_neighbors: as OpenCV's detectMultiScale.
min_face: the smallest face searched, as a fraction of the frame's shorter side.)doc")
      .def_property_readonly("cascades", [](const FaceDetector& d) { return d.options().cascades; })
      .def_property_readonly("profile_cascades", [](const FaceDetector& d) { return d.options().profile_cascades; })
      .def(
          "find_faces",
          [](const FaceDetector& d, const U8Array& image) {
            const ImageView v = as_view(image, "image");
            std::vector<detect::Rect> faces;
            {
              py::gil_scoped_release no_gil;
              faces = d.find_faces(v);
            }
            py::list out;
            for (const auto& r : faces) out.append(box_tuple(r));
            return out;
          },
          py::arg("image"),
          "Faces in a uint8 (H, W, 3) RGB frame as [(left, upper, right, lower), ...], largest first.")
      .def(
          "find_face",
          [](const FaceDetector& d, const U8Array& image) -> py::object {
            const ImageView v = as_view(image, "image");
            std::optional<Box> b;
            {
              py::gil_scoped_release no_gil;
              b = d.find_face(v);
            }
            if (!b) return py::none();
            return py::make_tuple(b->left, b->upper, b->right, b->lower);
          },
          py::arg("image"), "The largest face as (left, upper, right, lower), or None: the box load_clip would use.")
      .def("__repr__", [](const FaceDetector& d) {
        std::string s = "<clipcaer.FaceDetector";
        for (const auto& c : d.options().cascades) s += " " + c;
        for (const auto& c : d.options().profile_cascades) s += " " + c;
        return s + ">";
      });

  py::class_<detect::Cascade>(m, "Cascade",
                              "One OpenCV cascade file (Haar or LBP); detect() returns what OpenCV's "
                              "CascadeClassifier.detectMultiScale returns.")
      .def(py::init([](const py::object& path) {
             return detect::Cascade::load(py::str(py::module_::import("os").attr("fspath")(path)));
           }),
           py::arg("path"))
      .def_property_readonly("path", &detect::Cascade::path)
      .def_property_readonly("window_size",
                             [](const detect::Cascade& c) { return py::make_tuple(c.window_width(), c.window_height()); })
      .def_property_readonly("num_stages", &detect::Cascade::num_stages)
      .def(
          "detect",
          [](const detect::Cascade& c, const U8Array& image, double scale_factor, int min_neighbors,
             std::pair<int, int> min_size, std::pair<int, int> max_size) {
            const detect::GrayImage g = gray_from_py(image, true);
            detect::DetectParams p;
            p.scale_factor = scale_factor;
            p.min_neighbors = min_neighbors;
            p.min_width = min_size.first;
            p.min_height = min_size.second;
            p.max_width = max_size.first;
            p.max_height = max_size.second;
            std::vector<detect::Rect> found;
            {
              py::gil_scoped_release no_gil;
              found = c.detect(g, p);
            }
            py::array_t<std::int32_t> out({static_cast<py::ssize_t>(found.size()), py::ssize_t{4}});
            for (std::size_t i = 0; i < found.size(); ++i) {
              const auto r = static_cast<py::ssize_t>(i);
              out.mutable_at(r, 0) = found[i].x;
              out.mutable_at(r, 1) = found[i].y;
              out.mutable_at(r, 2) = found[i].width;
              out.mutable_at(r, 3) = found[i].height;
            }
            return out;
          },
          py::arg("image"), py::arg("scale_factor") = 1.1, py::arg("min_neighbors") = 3,
          py::arg("min_size") = std::pair<int, int>{0, 0}, py::arg("max_size") = std::pair<int, int>{0, 0},
          "Objects in a uint8 (H, W) grey or (H, W, 3) RGB picture as an int32 (N, 4) array of x, y, width, "
          "height (OpenCV's detectMultiScale; min_neighbors=0: every candidate window, ungrouped).");
}

}  // namespace clipcaer::python
