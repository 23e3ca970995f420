// SafetensorsFile: memory-maps a .safetensors file and validates its header
// before any tensor is touched (see docs/weights.md "What the loader checks").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "clipcaer/core/dtype.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/io/mapped_file.hpp"

namespace clipcaer::io {

struct TensorInfo {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  const unsigned char* data = nullptr;  // inside the mapping; not necessarily aligned
  std::size_t nbytes = 0;
  std::size_t file_offset = 0;
  std::size_t numel() const { return nbytes / dtype_size(dtype); }
};

class SafetensorsFile {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 100u << 20;

  explicit SafetensorsFile(const std::string& path) : file_(path) { parse(); }

  const std::string& path() const noexcept { return file_.path(); }
  std::size_t file_size() const noexcept { return file_.size(); }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

  const TensorInfo& tensor(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw_error(ErrorCode::format, "weights file '", path(), "' has no tensor '", name, "'");
    return it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(tensors_.size());
    for (const auto& kv : tensors_) out.push_back(kv.first);
    return out;
  }

  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

  const std::string& metadata(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end())
      throw_error(ErrorCode::format, "weights file '", path(), "' has no metadata key '", key, "'");
    return it->second;
  }

  // Lets the OS drop the tensor's pages once their contents were copied.
  void release(const TensorInfo& t) const noexcept { file_.release(t.file_offset, t.nbytes); }

 private:
  template <class... Parts>
  [[noreturn]] void fail(Parts&&... parts) const {
    throw_error(ErrorCode::format, "weights file '", path(), "' ", std::forward<Parts>(parts)...);
  }

  void parse() {
    const std::size_t size = file_.size();
    if (size < 8) fail("is not a safetensors file: ", size, " bytes is shorter than the 8-byte header size");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file_.data()[i];
    if (header_len > kMaxHeaderBytes)
      fail("is not a safetensors file: header size ", header_len, " exceeds the ", kMaxHeaderBytes, "-byte limit");
    if (header_len > size - 8)
      fail("is not a safetensors file or is truncated: header size ", header_len, " exceeds the file size ", size);
    const char* hbegin = reinterpret_cast<const char*>(file_.data() + 8);
    if (header_len == 0 || hbegin[0] != '{') fail("is not a safetensors file: the header is not a JSON object");
    nlohmann::json header = nlohmann::json::parse(hbegin, hbegin + header_len, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded() || !header.is_object()) fail("has a malformed JSON header");

    const std::size_t data_start = 8 + static_cast<std::size_t>(header_len);
    const std::size_t data_size = size - data_start;
    std::vector<std::pair<std::size_t, std::string>> spans;  // (begin, name) for the coverage check
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string& name = it.key();
      if (name == "__metadata__") {
        parse_metadata(it.value());
        continue;
      }
      TensorInfo t = parse_entry(name, it.value(), data_size);
      t.file_offset = data_start + t.file_offset;
      t.data = file_.data() + t.file_offset;
      spans.emplace_back(t.file_offset - data_start, name);
      tensors_.emplace(name, std::move(t));
    }
    // Entries must tile the data section exactly: no gaps, no overlaps.
    std::sort(spans.begin(), spans.end());
    std::size_t expected = 0;
    for (const auto& [begin, name] : spans) {
      const TensorInfo& t = tensors_.at(name);
      if (begin != expected)
        fail("is corrupt: tensor '", name, "' starts at data byte ", begin, " but the previous tensor ends at ",
             expected, begin < expected ? " (overlap)" : " (gap)");
      expected = begin + t.nbytes;
    }
    if (expected != data_size)
      fail("is corrupt: its tensors cover ", expected, " bytes of a ", data_size, "-byte data section");
  }

  void parse_metadata(const nlohmann::json& meta) {
    if (!meta.is_object()) fail("has a '__metadata__' entry that is not an object");
    for (auto it = meta.begin(); it != meta.end(); ++it) {
      if (!it.value().is_string()) fail("has metadata key '", it.key(), "' whose value is not a string");
      metadata_[it.key()] = it.value().get<std::string>();
    }
  }

  TensorInfo parse_entry(const std::string& name, const nlohmann::json& e, std::size_t data_size) const {
    if (!e.is_object()) fail("has a header entry '", name, "' that is not an object");
    TensorInfo t;
    t.name = name;
    auto dt = e.find("dtype");
    if (dt == e.end() || !dt->is_string()) fail("tensor '", name, "' has no dtype");
    if (!parse_dtype(dt->get<std::string>(), t.dtype))
      fail("tensor '", name, "' has unsupported dtype '", dt->get<std::string>(), "'");
    auto sh = e.find("shape");
    if (sh == e.end() || !sh->is_array()) fail("tensor '", name, "' has no shape");
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) fail("tensor '", name, "' has a shape entry that is not a non-negative integer");
      t.shape.push_back(d.get<std::size_t>());
    }
    auto off = e.find("data_offsets");
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail("tensor '", name, "' has no valid data_offsets");
    const std::size_t begin = (*off)[0].get<std::size_t>(), end = (*off)[1].get<std::size_t>();
    if (begin > end) fail("tensor '", name, "' has data_offsets [", begin, ", ", end, ") that run backwards");
    if (end > data_size)
      fail("is truncated or corrupt: tensor '", name, "' data [", begin, ", ", end, ") runs past the ", data_size,
           "-byte data section");
    std::size_t count = 0;
    if (!checked_numel(t.shape, count) || count > static_cast<std::size_t>(-1) / dtype_size(t.dtype))
      fail("tensor '", name, "' has an impossible shape ", shape_to_string(t.shape));
    t.nbytes = count * dtype_size(t.dtype);
    if (end - begin != t.nbytes)
      fail("tensor '", name, "' holds ", end - begin, " bytes but shape ", shape_to_string(t.shape), " of ",
           dtype_name(t.dtype), " needs ", t.nbytes);
    t.file_offset = begin;
    return t;
  }

  MappedFile file_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace clipcaer::io
