#include "bindings.hpp"

PYBIND11_MODULE(_clipcaer, m) {
  using namespace clipcaer::python;
  m.doc() = "clipcaer: CLIP-CAER inference (C++ core)";
  register_errors(m);
  register_text(m);  // TextHead before Model, whose methods take and return it
  register_model(m);
  register_preprocess(m);
  register_tokenizer(m);
}
