// One register_*() per file, each adding one part of the API to the module.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "clipcaer/io/boxes.hpp"

namespace clipcaer {
class Model;
class FaceDetector;
namespace detect {
struct GrayImage;
}
}

namespace clipcaer::python {

namespace py = pybind11;

void register_errors(py::module_& m);
void register_model(py::module_& m);
void register_preprocess(py::module_& m);
void register_tokenizer(py::module_& m);
void register_timeline(py::module_& m);
void register_text(py::module_& m);
void register_faces(py::module_& m);
void add_text_methods(py::class_<Model>& cls);      // text.cpp: Model's text methods
void add_timeline_method(py::class_<Model>& cls);   // timeline.cpp: Model.timeline

// preprocess.cpp: a clip's boxes from None / a dict or list / a path of the
// official JSON file (looked up by clip_dir).
ClipBoxes boxes_from_py(const std::string& clip_dir, const py::object& face_boxes, const py::object& body_box);

// faces.cpp: grey pictures <-> (H, W) uint8 arrays; allow_rgb: (H, W, 3) RGB
// is converted as OpenCV converts it.
detect::GrayImage gray_from_py(const py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>& a,
                               bool allow_rgb);
py::array gray_to_py(const detect::GrayImage& g);

}  // namespace clipcaer::python
