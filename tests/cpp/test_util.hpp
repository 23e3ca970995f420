// Helpers shared by the C++ tests: temp files, a tiny safetensors writer,
// deterministic random numbers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "clipcaer/core/tensor.hpp"
#include "clipcaer/io/safetensors.hpp"
#include "clipcaer/io/weight_reader.hpp"

namespace clipcaer::test {

inline std::string temp_path(const std::string& stem) {
  static int counter = 0;
  return "/tmp/clipcaer_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + stem;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& stem) : path(temp_path(stem)) {}
  ~TempFile() { std::remove(path.c_str()); }
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Builds a safetensors file in memory: add tensors, then bytes().
class SafetensorsBuilder {
 public:
  SafetensorsBuilder& add(const std::string& name, const std::string& dtype, std::vector<std::size_t> shape,
                          const void* data, std::size_t nbytes) {
    header_[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data_.size(), data_.size() + nbytes}}};
    data_.append(static_cast<const char*>(data), nbytes);
    return *this;
  }
  SafetensorsBuilder& add_f32(const std::string& name, std::vector<std::size_t> shape, const std::vector<float>& v) {
    return add(name, "F32", std::move(shape), v.data(), v.size() * sizeof(float));
  }
  SafetensorsBuilder& meta(const std::string& key, const std::string& value) {
    header_["__metadata__"][key] = value;
    return *this;
  }
  nlohmann::json& header() { return header_; }
  std::string bytes() const {
    std::string h = header_.dump();
    while ((8 + h.size()) % 8) h += ' ';
    std::string out(8, '\0');
    std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + h + data_;
  }
  void write(const std::string& path) const { write_bytes(path, bytes()); }

 private:
  nlohmann::json header_ = nlohmann::json::object();
  std::string data_;
};

// A float tensor of a safetensors file (goldens, inputs), widened to float.
inline Tensor read_tensor(const io::SafetensorsFile& f, const std::string& name) {
  const auto& t = f.tensor(name);
  Tensor out(t.shape);
  io::WeightReader::to_float(t, out.data());
  return out;
}

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace clipcaer::test

namespace clipcaer::test {

// Rewrites a safetensors file's JSON header, keeping the data section.
template <class F>
std::string rewrite_header(const std::string& bytes, F&& edit) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  edit(header);
  std::string h = header.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((h.size() >> (8 * i)) & 0xff);
  return out + h + bytes.substr(8 + n);
}

// CLIP-CAER fixtures listed in tests/fixtures/manifest.json (written by
// weights/make_fixtures.py): name -> weights file, relative to the fixtures dir.
struct Fixture {
  std::string name, weights, io;
  bool procedural_inputs = false;  // inputs not stored: see procedural_clips()
  std::size_t clips = 0, frames = 0;
};

inline std::vector<Fixture> caer_fixtures() {
  const std::string dir = CLIPCAER_FIXTURES_DIR;
  nlohmann::json manifest = nlohmann::json::parse(read_bytes(dir + "/manifest.json"));
  std::vector<Fixture> out;
  for (auto it = manifest.begin(); it != manifest.end(); ++it)
    if (it.value().value("kind", "") == "clip-caer")
      out.push_back({it.key(), dir + "/" + it.value()["weights"].get<std::string>(),
                     dir + "/" + it.value()["io"].get<std::string>(),
                     it.value().value("inputs", "") == "procedural", it.value().value("clips", std::size_t{0}),
                     it.value().value("clip_frames", std::size_t{0})});
  return out;
}

// The procedural clips of weights/fixture_inputs.py, bit for bit: stream 0
// faces, 1 frames; (clips, frames, 3, size, size) floats.
inline std::vector<float> procedural_clips(std::size_t clips, std::size_t frames, std::size_t size, int stream) {
  std::vector<float> out(clips * frames * 3 * size * size);
  std::size_t i = 0;
  for (std::size_t n = 0; n < clips; ++n)
    for (std::size_t t = 0; t < frames; ++t)
      for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t y = 0; y < size; ++y)
          for (std::size_t x = 0; x < size; ++x) {
            std::size_t v = ((7 + 10 * n) * x + (13 + 6 * n) * y + 3 * ((x * y) % 31) + 29 * t + 53 * c +
                             97 * static_cast<std::size_t>(stream)) % 256 >> n;
            out[i++] = static_cast<float>(v) / 255.0f;
          }
  return out;
}



}  // namespace clipcaer::test
