// Image: an owning 8-bit RGB picture (rows top to bottom, pixels R,G,B
// interleaved, no padding), and ImageView: a borrowed window into one, so the
// preprocessing steps can work on a crop without copying it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <new>
#include <utility>

#include "clipcaer/core/error.hpp"

namespace clipcaer {

// Largest picture we accept: 2^28 pixels (768 MiB as RGB). Stops a crafted
// file from asking for gigabytes; real video frames are far smaller.
inline constexpr std::size_t kMaxImagePixels = std::size_t{1} << 28;
inline constexpr std::size_t kMaxImageSide = std::size_t{1} << 20;

// Read-only view: `stride` bytes between rows (>= 3 * width).
struct ImageView {
  const std::uint8_t* data = nullptr;
  std::size_t width = 0;
  std::size_t height = 0;
  std::size_t stride = 0;

  const std::uint8_t* row(std::size_t y) const noexcept { return data + y * stride; }
  bool empty() const noexcept { return width == 0 || height == 0; }
};

// Writable view, same layout.
struct MutableImageView {
  std::uint8_t* data = nullptr;
  std::size_t width = 0;
  std::size_t height = 0;
  std::size_t stride = 0;

  std::uint8_t* row(std::size_t y) const noexcept { return data + y * stride; }
  operator ImageView() const noexcept { return {data, width, height, stride}; }
};

namespace detail {
struct FreeDeleter {
  void operator()(std::uint8_t* p) const noexcept { std::free(p); }
};

inline bool within_image_limits(std::size_t width, std::size_t height) noexcept {
  return width <= kMaxImageSide && height <= kMaxImageSide && width * height <= kMaxImagePixels;
}

// A decoder's refusal of a file whose header declares an empty or too large picture.
[[noreturn]] inline void throw_image_size(const std::string& name, long long width, long long height) {
  throw_error(ErrorCode::format, "image '", name, "' has size ", width, "x", height, ", beyond the limit of ",
              kMaxImagePixels, " pixels");
}

// Checks a picture size and returns its byte count (3 * width * height).
inline std::size_t rgb_bytes(std::size_t width, std::size_t height, const char* what) {
  require(width > 0 && height > 0, ErrorCode::invalid_argument, what, " size ", width, "x", height, " is empty");
  require(within_image_limits(width, height), ErrorCode::invalid_argument, what, " size ", width, "x", height,
          " exceeds the limit of ", kMaxImagePixels, " pixels (", kMaxImageSide, " per side)");
  return 3 * width * height;
}
}  // namespace detail

class Image {
 public:
  Image() = default;

  // A black (all zero) picture.
  Image(std::size_t width, std::size_t height) : width_(width), height_(height) {
    const std::size_t n = detail::rgb_bytes(width, height, "image");
    data_.reset(static_cast<std::uint8_t*>(std::calloc(n, 1)));
    if (!data_) throw std::bad_alloc();
  }

  // Takes ownership of a malloc'ed RGB buffer of 3 * width * height bytes
  // (what stb_image returns), so a decoded frame is never copied.
  static Image adopt_malloced(std::uint8_t* pixels, std::size_t width, std::size_t height) {
    Image im;
    im.data_.reset(pixels);
    detail::rgb_bytes(width, height, "image");
    require(pixels != nullptr, ErrorCode::internal, "Image::adopt_malloced got no pixels");
    im.width_ = width;
    im.height_ = height;
    return im;
  }

  // Copies RGB pixels; `stride` is the distance between rows in bytes (0 = 3 * width).
  static Image copy_of(const std::uint8_t* pixels, std::size_t width, std::size_t height, std::size_t stride = 0) {
    Image im(width, height);
    if (stride == 0) stride = 3 * width;
    require(pixels != nullptr && stride >= 3 * width, ErrorCode::invalid_argument,
            "image copy: null pixels or row stride ", stride, " < 3 * width ", width);
    for (std::size_t y = 0; y < height; ++y) std::memcpy(im.row(y), pixels + y * stride, 3 * width);
    return im;
  }
  static Image copy_of(const ImageView& v) { return copy_of(v.data, v.width, v.height, v.stride); }

  Image(const Image& other) {
    if (!other.empty()) *this = copy_of(other.view());
  }
  Image& operator=(const Image& other) {
    if (this != &other) {
      Image tmp(other);
      *this = std::move(tmp);
    }
    return *this;
  }
  Image(Image&& other) noexcept
      : width_(std::exchange(other.width_, 0)), height_(std::exchange(other.height_, 0)), data_(std::move(other.data_)) {}
  Image& operator=(Image&& other) noexcept {
    width_ = std::exchange(other.width_, 0);
    height_ = std::exchange(other.height_, 0);
    data_ = std::move(other.data_);
    return *this;
  }

  std::size_t width() const noexcept { return width_; }
  std::size_t height() const noexcept { return height_; }
  std::size_t stride() const noexcept { return 3 * width_; }
  std::size_t size_bytes() const noexcept { return 3 * width_ * height_; }
  bool empty() const noexcept { return width_ == 0 || height_ == 0; }

  std::uint8_t* data() noexcept { return data_.get(); }
  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::uint8_t* row(std::size_t y) noexcept { return data_.get() + y * stride(); }
  const std::uint8_t* row(std::size_t y) const noexcept { return data_.get() + y * stride(); }

  ImageView view() const noexcept { return {data_.get(), width_, height_, stride()}; }
  MutableImageView mutable_view() noexcept { return {data_.get(), width_, height_, stride()}; }

 private:
  std::size_t width_ = 0;
  std::size_t height_ = 0;
  std::unique_ptr<std::uint8_t, detail::FreeDeleter> data_;
};

}  // namespace clipcaer
