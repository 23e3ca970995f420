// clipcaer.Model.timeline: a long video classified window by window, as
// columns (numpy arrays, one row per window).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "clipcaer/eval/timeline_svg.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/timeline.hpp"

namespace clipcaer::python {

namespace {

struct PyTimeline {
  Timeline timeline;               // for svg()
  std::vector<std::string> names;  // the classes of its probabilities
  std::size_t num_frames = 0, window_frames = 0, stride_frames = 0, images_encoded = 0;
  double frame_rate = 0;
  py::array first_frames, end_frames, starts, ends, frames, face_boxes_used, faces_detected, logits, probs, indices;
  std::vector<std::string> labels;
};

template <class T, class F>
py::array column(const Timeline& t, F&& value) {
  py::array_t<T> out(static_cast<py::ssize_t>(t.windows.size()));
  for (std::size_t k = 0; k < t.windows.size(); ++k) out.mutable_at(static_cast<py::ssize_t>(k)) = value(t.windows[k]);
  return std::move(out);
}

PyTimeline to_python(Timeline&& t, std::vector<std::string> names) {
  PyTimeline out;
  out.names = std::move(names);
  out.num_frames = t.num_frames;
  out.frame_rate = t.frame_rate;
  out.window_frames = t.window_frames;
  out.stride_frames = t.stride_frames;
  out.images_encoded = t.images_encoded;
  using W = TimelineWindow;
  out.first_frames = column<std::int64_t>(t, [](const W& w) { return w.first_frame; });
  out.end_frames = column<std::int64_t>(t, [](const W& w) { return w.end_frame; });
  out.starts = column<double>(t, [](const W& w) { return w.start_seconds; });
  out.ends = column<double>(t, [](const W& w) { return w.end_seconds; });
  out.face_boxes_used = column<std::int64_t>(t, [](const W& w) { return w.face_boxes_used; });
  out.faces_detected = column<std::int64_t>(t, [](const W& w) { return w.faces_detected; });
  out.indices = column<std::int64_t>(t, [](const W& w) { return w.prediction.index; });
  const auto n = static_cast<py::ssize_t>(t.windows.size());
  const auto T = static_cast<py::ssize_t>(t.windows.empty() ? 0 : t.windows.front().frames.size());
  const auto C = static_cast<py::ssize_t>(t.windows.empty() ? 0 : t.windows.front().prediction.logits.size());
  py::array_t<std::int64_t> frames({n, T});
  py::array_t<float> logits({n, C}), probs({n, C});
  for (py::ssize_t k = 0; k < n; ++k) {
    const W& w = t.windows[static_cast<std::size_t>(k)];
    std::copy(w.frames.begin(), w.frames.end(), frames.mutable_data(k, 0));
    std::copy(w.prediction.logits.begin(), w.prediction.logits.end(), logits.mutable_data(k, 0));
    std::copy(w.prediction.probs.begin(), w.prediction.probs.end(), probs.mutable_data(k, 0));
    out.labels.push_back(w.prediction.label);
  }
  out.frames = frames;
  out.logits = logits;
  out.probs = probs;
  out.timeline = std::move(t);
  return out;
}

}  // namespace

void register_timeline(py::module_& m) {
  py::class_<PyTimeline>(m, "Timeline", "A video classified window by window (Model.timeline); one row per window.")
      .def_readonly("num_frames", &PyTimeline::num_frames, "frames in the video")
      .def_readonly("frame_rate", &PyTimeline::frame_rate,
                    "frames per second of the times: the one given, else the file's (0.0: unknown)")
      .def_readonly("window_frames", &PyTimeline::window_frames, "window length used, in frames")
      .def_readonly("stride_frames", &PyTimeline::stride_frames, "stride used, in frames")
      .def_readonly("images_encoded", &PyTimeline::images_encoded,
                    "images through the image tower: 2 per distinct frame the windows chose")
      .def_readonly("first_frames", &PyTimeline::first_frames, "(W,) int64: each window is frames [first, end)")
      .def_readonly("end_frames", &PyTimeline::end_frames, "(W,) int64")
      .def_readonly("starts", &PyTimeline::starts, "(W,) float64 seconds: first_frames / frame_rate")
      .def_readonly("ends", &PyTimeline::ends, "(W,) float64 seconds: end_frames / frame_rate")
      .def_readonly("frames", &PyTimeline::frames, "(W, T) int64: the frames the model saw, video frame indices")
      .def_readonly("face_boxes_used", &PyTimeline::face_boxes_used, "(W,) int64: of those, how many had a face box")
      .def_readonly("faces_detected", &PyTimeline::faces_detected,
                    "(W,) int64: of those boxes, how many the face detector found")
      .def_readonly("logits", &PyTimeline::logits, "(W, C) float32")
      .def_readonly("probs", &PyTimeline::probs, "(W, C) float32")
      .def_readonly("indices", &PyTimeline::indices, "(W,) int64: the most likely class of each window")
      .def_readonly("labels", &PyTimeline::labels, "its name, per window")
      .def(
          "svg", [](const PyTimeline& t, const std::string& title) { return eval::timeline_svg(t.timeline, t.names, title); },
          py::arg("title") = "",
          "The timeline as an SVG picture (a str): each class's probability along the video, a band coloured by "
          "the predicted class, each class's share of the windows.")
      .def("__len__", [](const PyTimeline& t) { return t.labels.size(); })
      .def("__repr__", [](const PyTimeline& t) {
        return "<clipcaer.Timeline " + std::to_string(t.labels.size()) + " windows of " +
               std::to_string(t.window_frames) + " frames every " + std::to_string(t.stride_frames) + ">";
      });
}

void add_timeline_method(py::class_<Model>& cls) {
  cls.def(
      "timeline",
      [](const Model& self, const py::object& video, double window, double stride, const py::object& face_boxes,
         const py::object& body_box, std::size_t window_frames, std::size_t stride_frames, double frame_rate,
         const TextHead* head, const py::object& progress, const FaceDetector* face_detector) {
        const std::string path = py::str(py::module_::import("os").attr("fspath")(video));
        const ClipBoxes boxes = boxes_from_py(path, face_boxes, body_box);
        TimelineOptions o;
        o.window_seconds = window;
        o.stride_seconds = stride;
        o.window_frames = window_frames;
        o.stride_frames = stride_frames;
        o.frame_rate = frame_rate;
        o.head = head;
        o.face_detector = face_detector;
        // After each window: the Python callback, and Ctrl-C (signals are
        // only seen with the GIL held; a long video must stay interruptible).
        auto on_window = [&](std::size_t done, std::size_t total) {
          py::gil_scoped_acquire gil;
          if (PyErr_CheckSignals() != 0) throw py::error_already_set();
          if (!progress.is_none()) progress(done, total);
        };
        Timeline t;
        {
          py::gil_scoped_release release;
          t = classify_video_timeline(self, path, boxes, o, on_window);
        }
        return to_python(std::move(t), head ? head->names() : self.class_names());
      },
      py::arg("video"), py::arg("window") = 4.0, py::arg("stride") = 2.0, py::arg("face_boxes") = py::none(),
      py::arg("body_box") = py::none(), py::kw_only(), py::arg("window_frames") = 0, py::arg("stride_frames") = 0,
      py::arg("frame_rate") = 0.0, py::arg("head") = py::none(), py::arg("progress") = py::none(),
      py::arg("face_detector") = py::none(),
      R"doc(Classifies a long video window by window: windows of `window` seconds every
`stride` seconds (or window_frames / stride_frames frames when given), each
classified as a clip of its own, exactly as classify_folder would classify
those frames. The video is decoded once; frames that overlapping windows
share go through the image tower once.

video: a video file, or a folder of its frames (sorted by name; it states no
    frame rate: give frame_rate, or the window in frames).
frame_rate: frames per second (0: the one the file states).
face_boxes / body_box: as in load_clip (face boxes keyed by frame index,
"0", "17", ..., for a file, by file name for a folder; the body box applies
to every frame).
face_detector: a FaceDetector for frames without a face box (as in load_clip).
head: a TextHead of this model (default: the learned prompts).
progress: called as progress(done, total) after each window.
Returns a Timeline: one row per window (starts, ends, labels, probs, ...).)doc");
}

}  // namespace clipcaer::python
