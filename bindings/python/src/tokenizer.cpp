// clipcaer.Tokenizer: the C++ CLIP tokenizer from Python.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "clipcaer/text/tokenizer.hpp"
#include "text_args.hpp"

namespace clipcaer::python {

void register_tokenizer(py::module_& m) {
  using text::Tokenizer;
  py::class_<Tokenizer>(m, "Tokenizer",
                        "OpenAI CLIP's BPE tokenizer (without ftfy.fix_text), in C++. Safe to share between threads.")
      .def(py::init<const std::string&>(), py::arg("vocab_path"),
           "Loads the gzip BPE merges file (bpe_simple_vocab_16e6.txt.gz).")
      .def_static(
          "from_gzip_bytes",
          [](const py::bytes& data) {
            const std::string bytes = data;
            return Tokenizer::from_gzip_bytes(bytes.data(), bytes.size(), "gzip bytes");
          },
          py::arg("data"), "Loads the merges file from its gzip bytes.")
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly_static("start_of_text", [](py::object) { return Tokenizer::kStartOfText; })
      .def_property_readonly_static("end_of_text", [](py::object) { return Tokenizer::kEndOfText; })
      .def(
          "encode", [](const Tokenizer& t, const py::str& text) { return t.encode(utf8_of(text)); }, py::arg("text"),
          "Token ids of a text, without <|startoftext|> and <|endoftext|>.")
      .def(
          "tokenize",
          [](const Tokenizer& t, const py::handle& texts, std::int64_t context_length, bool truncate) {
            if (context_length < 0) throw py::value_error("context_length must be at least 2, got " +
                                                          std::to_string(context_length));
            const std::vector<std::string> list = texts_from(texts);
            text::TokenBatch batch;
            {
              py::gil_scoped_release release;
              batch = t.tokenize(list, static_cast<std::size_t>(context_length), truncate);
            }
            py::array_t<std::int32_t> out({batch.rows, batch.cols});
            std::copy(batch.ids.begin(), batch.ids.end(), out.mutable_data());
            return out;
          },
          py::arg("texts"), py::arg("context_length") = Tokenizer::kDefaultContextLength, py::arg("truncate") = true,
          "clip.tokenize: an int32 array (N, context_length) of <|startoftext|>, tokens, <|endoftext|>, zeros.\n"
          "A text longer than the context is cut (ending in <|endoftext|>) when truncate is true, else a ValueError.")
      .def(
          "decode",
          [](const Tokenizer& t, const std::vector<std::int64_t>& ids) {
            std::vector<std::int32_t> narrow(ids.size());
            for (std::size_t i = 0; i < ids.size(); ++i) {
              require(ids[i] >= 0 && static_cast<std::uint64_t>(ids[i]) < t.vocab_size(), ErrorCode::invalid_argument,
                      "decode: token id ", ids[i], " at position ", i, " is outside the vocabulary [0, ",
                      t.vocab_size(), ")");
              narrow[i] = static_cast<std::int32_t>(ids[i]);
            }
            return t.decode(narrow);
          },
          py::arg("ids"), "The text of token ids (for debugging).")
      .def("__repr__", [](const Tokenizer& t) {
        return "<clipcaer.Tokenizer vocab_size=" + std::to_string(t.vocab_size()) + ">";
      });
}

}  // namespace clipcaer::python
