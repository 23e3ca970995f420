// clipcaer::Error -> the Python exception a Python user expects.
#include "bindings.hpp"

#include "clipcaer/core/error.hpp"

namespace clipcaer::python {

void register_errors(py::module_&) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const clipcaer::Error& e) {
      switch (e.code()) {
        case ErrorCode::invalid_argument: PyErr_SetString(PyExc_ValueError, e.what()); return;
        case ErrorCode::file_not_found: PyErr_SetString(PyExc_FileNotFoundError, e.what()); return;
        default: PyErr_SetString(PyExc_RuntimeError, e.what()); return;
      }
    }
  });
}

}  // namespace clipcaer::python
