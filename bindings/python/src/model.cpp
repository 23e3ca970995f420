// clipcaer.Model: load once, classify clips (numpy in, numpy out, GIL released).
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "clipcaer/model.hpp"
#include "numpy_util.hpp"

namespace clipcaer::python {

namespace {

ClipBatch as_batch(const FloatArray& faces, const FloatArray& frames, bool batched) {
  return make_clip_batch(faces.data(), Shape(faces.shape(), faces.shape() + faces.ndim()), frames.data(),
                         Shape(frames.shape(), frames.shape() + frames.ndim()), batched);
}

struct PyPrediction {
  py::array logits, probs;
  std::size_t index;
  std::string label;
};

struct PyBatchPrediction {
  py::array logits, probs, indices;
  std::vector<std::string> labels;
};

PyPrediction to_python(const Prediction& p) { return {to_numpy(p.logits), to_numpy(p.probs), p.index, p.label}; }

PyBatchPrediction to_python(const std::vector<Prediction>& ps) {
  const auto N = static_cast<py::ssize_t>(ps.size()),
             C = static_cast<py::ssize_t>(ps.empty() ? 0 : ps.front().logits.size());
  py::array_t<float> logits({N, C}), probs({N, C});
  py::array_t<std::int64_t> indices(N);
  PyBatchPrediction out;
  for (py::ssize_t i = 0; i < N; ++i) {
    std::copy(ps[i].logits.begin(), ps[i].logits.end(), logits.mutable_data(i, 0));
    std::copy(ps[i].probs.begin(), ps[i].probs.end(), probs.mutable_data(i, 0));
    indices.mutable_at(i) = static_cast<std::int64_t>(ps[i].index);
    out.labels.push_back(ps[i].label);
  }
  out.logits = logits;
  out.probs = probs;
  out.indices = indices;
  return out;
}

// The head a call uses: the given one, else the learned prompts.
const TextHead& head_or_learned(const Model& self, const TextHead* head) {
  return head ? *head : self.learned_head();
}

Tensor tensor_of(const FloatArray& a) {
  Tensor t(Shape(a.shape(), a.shape() + a.ndim()));
  std::copy(a.data(), a.data() + a.size(), t.begin());
  return t;
}

}  // namespace

void register_model(py::module_& m) {
  py::class_<PyPrediction>(m, "Prediction", "One clip's result.")
      .def_readonly("logits", &PyPrediction::logits, "(C,) float32: 100 x cosine(video, class text)")
      .def_readonly("probs", &PyPrediction::probs, "(C,) float32: softmax of logits")
      .def_readonly("index", &PyPrediction::index, "index of the most likely class")
      .def_readonly("label", &PyPrediction::label, "name of the most likely class")
      .def("__repr__", [](const PyPrediction& p) {
        return "<clipcaer.Prediction label='" + p.label + "' index=" + std::to_string(p.index) + ">";
      });

  py::class_<PyBatchPrediction>(m, "BatchPrediction", "Results for N clips.")
      .def_readonly("logits", &PyBatchPrediction::logits, "(N, C) float32")
      .def_readonly("probs", &PyBatchPrediction::probs, "(N, C) float32")
      .def_readonly("indices", &PyBatchPrediction::indices, "(N,) int64 argmax per clip")
      .def_readonly("labels", &PyBatchPrediction::labels, "class name per clip");

  py::class_<Model> cls(m, "Model", "A converted CLIP-CAER or plain CLIP model (see weights/convert.py).");
  cls.def(py::init([](const py::object& path_like, std::size_t threads, const std::string& isa,
                      const py::object& vocab_path, const std::string& dtype, const std::string& device) {
             // Paths as str or os.PathLike (pathlib.Path), as everywhere else in the module.
             auto fspath = [](const py::object& p) -> std::string {
               return py::str(py::module_::import("os").attr("fspath")(p));
             };
             const std::string path = fspath(path_like);
             ModelOptions o;
             o.threads = threads;
             o.isa = isa;
             o.vocab_path = fspath(vocab_path);
             o.dtype = dtype;
             o.device = device;
             py::gil_scoped_release release;
             return std::make_unique<Model>(path, o);
           }),
           py::arg("path"), py::arg("threads") = 0, py::arg("isa") = "", py::arg("vocab_path") = "",
           py::arg("dtype") = "", py::arg("device") = "",
           "Loads a .safetensors weights file. threads=0 uses one thread per core; isa forces a kernel set; "
           "vocab_path: CLIP's bpe_simple_vocab_16e6.txt.gz for encode_texts when the file embeds no vocabulary; "
           "dtype: 'float32', 'bfloat16' or 'int8' storage for the Linear weights ('' = the file's choice); "
           "device: where the image tower runs, 'cpu' (or ''), 'cuda', 'cuda:N'.")
      .def_property_readonly("class_names", &Model::class_names)
      .def_property_readonly("num_classes", &Model::num_classes)
      .def_property_readonly("num_frames", &Model::num_frames, "T: the most frames per clip")
      .def_property_readonly("image_size", &Model::image_size, "S: input images are S x S")
      .def_property_readonly("embed_dim", &Model::embed_dim)
      .def_property_readonly("kernel_set", &Model::kernel_set)
      .def_property_readonly("dtype", &Model::dtype, "storage type of the Linear weights")
      .def_property_readonly("device", &Model::device, "where the image tower runs: 'cpu' or the GPU's name")
      .def_property("threads", &Model::threads, &Model::set_threads)
      .def_property_readonly("path", &Model::path)
      .def_property_readonly("config", [](const Model& self) {
        const ModelConfig& c = self.config();
        py::dict d;
        d["model_type"] = c.model_type;
        d["vision"] = py::dict(py::arg("width") = c.vision.width, py::arg("layers") = c.vision.layers,
                               py::arg("heads") = c.vision.heads, py::arg("patch_size") = c.vision.patch_size,
                               py::arg("image_size") = c.vision.image_size);
        d["text"] = py::dict(py::arg("width") = c.text.width, py::arg("layers") = c.text.layers,
                             py::arg("heads") = c.text.heads, py::arg("context_length") = c.text.context_length,
                             py::arg("vocab_size") = c.text.vocab_size);
        d["embed_dim"] = c.embed_dim;
        d["temporal"] = py::dict(py::arg("num_frames") = c.temporal.num_frames, py::arg("depth") = c.temporal.depth,
                                 py::arg("heads") = c.temporal.heads, py::arg("dim_head") = c.temporal.dim_head,
                                 py::arg("mlp_dim") = c.temporal.mlp_dim);
        d["n_ctx"] = c.n_ctx;
        d["class_specific_ctx"] = c.class_specific_ctx;
        d["eot_positions"] = c.eot_positions;
        d["logit_scale"] = c.logit_scale;
        d["input_normalization"] = c.input_normalization;
        py::list classes;
        for (const auto& ci : c.classes)
          classes.append(py::dict(py::arg("name") = ci.name, py::arg("descriptor") = ci.descriptor));
        d["classes"] = classes;
        return d;
      })
      .def_property_readonly("text_features",
                             [](const Model& self) {
                               const Tensor& t = self.text_features();
                               Tensor copy(t.shape());
                               std::copy(t.begin(), t.end(), copy.begin());
                               return to_numpy(std::move(copy));
                             },
                             "(C, E) L2-normalised class text features")
      .def(
          "classify_clip",
          [](const Model& self, const FloatArray& faces, const FloatArray& frames, const TextHead* head) {
            ClipBatch b = as_batch(faces, frames, false);
            const TextHead& h = head_or_learned(self, head);
            Prediction p;
            {
              py::gil_scoped_release release;
              p = self.classify_clips(b, h).front();
            }
            return to_python(p);
          },
          py::arg("faces"), py::arg("frames"), py::arg("head") = py::none(),
          "Classifies one clip: faces and frames are float32 (T, 3, S, S) RGB in [0, 1]; head: a TextHead of this "
          "model (default: the learned prompts).")
      .def(
          "classify_clips",
          [](const Model& self, const FloatArray& faces, const FloatArray& frames, const TextHead* head) {
            ClipBatch b = as_batch(faces, frames, true);
            const TextHead& h = head_or_learned(self, head);
            std::vector<Prediction> ps;
            {
              py::gil_scoped_release release;
              ps = self.classify_clips(b, h);
            }
            return to_python(ps);
          },
          py::arg("faces"), py::arg("frames"), py::arg("head") = py::none(),
          "Classifies N clips: faces and frames are float32 (N, T, 3, S, S); all frames share one image-tower pass.")
      .def(
          "features",
          [](const Model& self, const FloatArray& faces, const FloatArray& frames, const TextHead* head) {
            const bool batched = faces.ndim() == 5;
            ClipBatch b = as_batch(faces, frames, batched);
            const TextHead& h = head_or_learned(self, head);
            ClipFeatures f;
            {
              py::gil_scoped_release release;
              f = self.features(b, h);
            }
            auto squeeze = [&](Tensor&& t) {
              std::vector<py::ssize_t> shape(t.shape().begin() + (batched ? 0 : 1), t.shape().end());
              return to_numpy(std::move(t), shape);
            };
            py::dict d;
            d["face_image"] = squeeze(std::move(f.face_image));
            d["context_image"] = squeeze(std::move(f.context_image));
            d["face_video"] = squeeze(std::move(f.face_video));
            d["context_video"] = squeeze(std::move(f.context_video));
            d["video"] = squeeze(std::move(f.video));
            d["logits"] = squeeze(std::move(f.logits));
            return d;
          },
          py::arg("faces"), py::arg("frames"), py::arg("head") = py::none(),
          "Every intermediate of the forward pass as a dict of float32 arrays: face_image, context_image (T, E), "
          "face_video, context_video, video (E,), logits (C,) against head (default: the learned prompts); with a "
          "leading N for (N, T, 3, S, S) input.")
      .def(
          "classify_encoded",
          [](const Model& self, const FloatArray& face_image, const FloatArray& context_image, const TextHead* head) {
            Tensor faces = tensor_of(face_image), contexts = tensor_of(context_image);
            const TextHead& h = head_or_learned(self, head);
            Prediction p;
            {
              py::gil_scoped_release release;
              p = self.classify_encoded(faces, contexts, h);
            }
            return to_python(p);
          },
          py::arg("face_image"), py::arg("context_image"), py::arg("head") = py::none(),
          "The model after the image tower: (T, E) encode_images features of a clip's face crops and context frames "
          "-> the Prediction classify_clip gives on those images, bit for bit (reuse the features of frames that "
          "several clips share).")
      .def(
          "encode_images",
          [](const Model& self, const FloatArray& images) {
            require(images.ndim() == 4, ErrorCode::invalid_argument, "images must have shape (N, 3, S, S), got ",
                    shape_of(images));
            Tensor in = tensor_of(images);
            Tensor out;
            {
              py::gil_scoped_release release;
              out = self.encode_images(in);
            }
            return to_numpy(std::move(out));
          },
          py::arg("images"),
          "Image-tower features (N, E) for float32 (N, 3, S, S) images in [0, 1] (CLIP mean/std applied by the "
          "library for plain CLIP files).")
      .def(
          "classify_image",
          [](const Model& self, const FloatArray& image, const TextHead& head) {
            require(image.ndim() == 3, ErrorCode::invalid_argument, "image must have shape (3, S, S), got ",
                    shape_of(image));
            Tensor in = tensor_of(image);
            Prediction p;
            {
              py::gil_scoped_release release;
              p = self.classify_image(in, head);
            }
            return to_python(p);
          },
          py::arg("image"), py::arg("head"),
          "Zero-shot: a float32 (3, S, S) image in [0, 1] against a TextHead; logits = logit_scale x cosine.")
      .def(
          "classify_images",
          [](const Model& self, const FloatArray& images, const TextHead& head) {
            require(images.ndim() == 4, ErrorCode::invalid_argument, "images must have shape (N, 3, S, S), got ",
                    shape_of(images));
            Tensor in = tensor_of(images);
            std::vector<Prediction> ps;
            {
              py::gil_scoped_release release;
              ps = self.classify_images(in, head);
            }
            return to_python(ps);
          },
          py::arg("images"), py::arg("head"), "Zero-shot for (N, 3, S, S) images: a BatchPrediction.");
  add_text_methods(cls);
  add_timeline_method(cls);
}

}  // namespace clipcaer::python
