#include "bindings.hpp"

#include "clipcaer/version.hpp"

PYBIND11_MODULE(_clipcaer, m) {
  using namespace clipcaer::python;
  m.doc() = "clipcaer: CLIP-CAER inference (C++ core)";
  m.attr("__version__") = CLIPCAER_VERSION_STRING;
  register_errors(m);
  register_text(m);  // TextHead before Model, whose methods take and return it
  register_model(m);
  register_preprocess(m);
  register_tokenizer(m);
}
