// clipcaer.TextHead, combine_heads, and Model's text methods (encode_text,
// encode_texts, make_head, head_from_json, learned_head); GIL released around compute.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "clipcaer/model.hpp"
#include "numpy_util.hpp"
#include "text_args.hpp"

namespace clipcaer::python {

namespace {

using IdArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// (N, L) or (L,) ids of any integer dtype -> int32, naming any id int32 cannot hold.
std::vector<std::int32_t> ids_from(const IdArray& ids, std::size_t vocab_size, std::size_t* rows, std::size_t* cols) {
  require(ids.ndim() == 1 || ids.ndim() == 2, ErrorCode::invalid_argument,
          "token ids must have shape (N, L) or (L,), got ", shape_of(ids));
  *rows = ids.ndim() == 2 ? static_cast<std::size_t>(ids.shape(0)) : 1;
  *cols = static_cast<std::size_t>(ids.shape(ids.ndim() - 1));
  std::vector<std::int32_t> out(static_cast<std::size_t>(ids.size()));
  const std::int64_t* src = ids.data();
  for (std::size_t i = 0; i < out.size(); ++i) {
    require(src[i] >= 0 && src[i] <= std::numeric_limits<std::int32_t>::max(), ErrorCode::invalid_argument,
            "token id ", src[i], " at text ", i / *cols, ", position ", i % *cols, " is outside the vocabulary [0, ",
            vocab_size, ")");
    out[i] = static_cast<std::int32_t>(src[i]);
  }
  return out;
}

// The classes argument of make_head: a list of dicts, read by the JSON head
// parser so both accept the same keys; its complaints are ValueErrors here.
text::HeadText classes_from(const py::handle& classes) {
  const std::string text = py::str(py::module_::import("json").attr("dumps")(py::dict(py::arg("classes") = classes)));
  try {
    return text::parse_head_json(text, "classes");
  } catch (const Error& e) {
    throw Error(ErrorCode::invalid_argument, e.what());
  }
}

HeadOptions head_options(const py::object& templates, bool truncate) {
  HeadOptions o;
  if (!templates.is_none()) o.templates = texts_from(templates);
  o.truncate = truncate;
  return o;
}

py::array copy_to_numpy(const Tensor& t) {
  Tensor copy(t.shape());
  std::copy(t.begin(), t.end(), copy.begin());
  return to_numpy(std::move(copy));
}

}  // namespace

void register_text(py::module_& m) {
  py::class_<TextHead>(m, "TextHead",
                       "Class names and their (C, E) L2-normalised text features, made by one Model "
                       "(learned_head, make_head, head_from_json) or by combine_heads.")
      .def(py::init([](const Model& model, const std::vector<std::string>& names, const FloatArray& features) {
             require(features.ndim() == 2 && static_cast<std::size_t>(features.shape(1)) == model.embed_dim(),
                     ErrorCode::invalid_argument, "features must have shape (C, ", model.embed_dim(), "), got ",
                     shape_of(features));
             auto t = std::make_shared<Tensor>(Shape{static_cast<std::size_t>(features.shape(0)), model.embed_dim()});
             std::copy(features.data(), features.data() + features.size(), t->begin());
             for (std::size_t r = 0; r < t->dim(0); ++r) text::normalize_row(t->row(r), t->dim(1));
             return TextHead(names, std::move(t), model.id());
           }),
           py::arg("model"), py::arg("names"), py::arg("features"),
           "A head of your own (C, E) text features for `model` (rows are L2-normalised here).")
      .def_property_readonly("names", &TextHead::names)
      .def_property_readonly("num_classes", &TextHead::num_classes)
      .def_property_readonly("features", [](const TextHead& h) { return copy_to_numpy(h.features()); },
                             "(C, E) float32, rows L2-normalised (a copy)")
      .def("shares_features_with", &TextHead::shares_features_with, py::arg("other"),
           "True when both heads hold the same cached features.")
      .def("__len__", &TextHead::num_classes)
      .def("__repr__", [](const TextHead& h) {
        return "<clipcaer.TextHead " + std::to_string(h.num_classes()) + " classes>";
      });

  m.def(
      "combine_heads",
      [](const TextHead& a, const TextHead& b, float weight) { return combine_heads(a, b, weight); },
      py::arg("a"), py::arg("b"), py::arg("weight") = 0.5f,
      "normalise((1 - weight) * a + weight * b) per class; the heads must come from one model and list the "
      "same classes in the same order.");
}

void add_text_methods(py::class_<Model>& cls) {
  cls.def(
         "encode_text",
         [](const Model& self, const IdArray& ids) {
           std::size_t rows = 0, cols = 0;
           const std::vector<std::int32_t> v = ids_from(ids, self.config().text.vocab_size, &rows, &cols);
           Tensor out;
           {
             py::gil_scoped_release release;
             out = self.encode_text(v.data(), rows, cols);
           }
           return to_numpy(std::move(out));
         },
         py::arg("ids"),
         "(N, E) float32 text features (not normalised) of (N, L) token ids, L <= context_length; each row's "
         "EOT is its largest id, as in CLIP's encode_text.")
      .def(
          "encode_texts",
          [](const Model& self, const py::object& texts, bool truncate) {
            const std::vector<std::string> t = texts_from(texts);
            Tensor out;
            {
              py::gil_scoped_release release;
              out = self.encode_texts(t, truncate);
            }
            return to_numpy(std::move(out));
          },
          py::arg("texts"), py::arg("truncate") = false,
          "Tokenises (the file's embedded vocabulary, else vocab_path) and encodes: (N, E) float32.")
      .def_property_readonly("learned_head", &Model::learned_head, py::return_value_policy::copy,
                             "The learned prompts of a CLIP-CAER file as a TextHead (classify_clip's default).")
      .def(
          "make_head",
          [](const Model& self, const py::object& classes, const py::object& templates, bool truncate) {
            const text::HeadText t = classes_from(classes);
            const HeadOptions o = head_options(templates, truncate);
            py::gil_scoped_release release;
            return self.make_head(t.classes, o);
          },
          py::arg("classes"), py::arg("templates") = py::none(), py::arg("truncate") = false,
          "A prompt-ensemble head from [{'name': ..., 'prompts': [...], 'descriptor(s)': ...}, ...]; templates "
          "(e.g. 'a photo of a {} student.') are filled with each class's descriptors or name. Cached per model.")
      .def(
          "head_from_json",
          [](const Model& self, const std::string& path, const py::object& templates, bool truncate) {
            const HeadOptions o = head_options(templates, truncate);
            py::gil_scoped_release release;
            return self.head_from_json(path, o);
          },
          py::arg("path"), py::arg("templates") = py::none(), py::arg("truncate") = false,
          "A head from a JSON file {'classes': [...], 'templates': [...]} (docs/text.md).")
      .def_property_readonly("cached_heads", &Model::cached_heads, "How many heads this model has cached.");
}

}  // namespace clipcaer::python
