// Python text arguments as UTF-8 strings, shared by the tokenizer and text bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

namespace clipcaer::python {

namespace py = pybind11;

// UTF-8 of a str; a str that has none (lone surrogates) raises UnicodeEncodeError, a ValueError.
inline std::string utf8_of(const py::handle& s) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s.ptr(), &size);
  if (!data) throw py::error_already_set();
  return std::string(data, static_cast<std::size_t>(size));
}

// A str, or a list/tuple of str (as clip.tokenize accepts).
inline std::vector<std::string> texts_from(const py::handle& texts) {
  if (py::isinstance<py::str>(texts)) return {utf8_of(texts)};
  if (!py::isinstance<py::list>(texts) && !py::isinstance<py::tuple>(texts))
    throw py::type_error("texts must be a str or a list of str, not " +
                         std::string(py::str(texts.get_type().attr("__name__"))));
  std::vector<std::string> out;
  for (const py::handle& t : texts) {
    if (!py::isinstance<py::str>(t))
      throw py::type_error("texts[" + std::to_string(out.size()) + "] must be a str, not " +
                           std::string(py::str(t.get_type().attr("__name__"))));
    out.push_back(utf8_of(t));
  }
  return out;
}

}  // namespace clipcaer::python
