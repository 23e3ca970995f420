// One register_*() per file, each adding one part of the API to the module.
#pragma once

#include <pybind11/pybind11.h>

namespace clipcaer {
class Model;
}

namespace clipcaer::python {

namespace py = pybind11;

void register_errors(py::module_& m);
void register_model(py::module_& m);
void register_preprocess(py::module_& m);
void register_tokenizer(py::module_& m);
void register_text(py::module_& m);
void add_text_methods(py::class_<Model>& cls);  // text.cpp: Model's text methods

}  // namespace clipcaer::python
