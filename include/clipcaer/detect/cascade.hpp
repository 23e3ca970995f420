// Viola-Jones cascade detection with OpenCV's trained cascades (the XML files
// of Debian's opencv-data package): Haar or LBP features, stumps or trees.
// `Cascade::detect` reproduces OpenCV 4.6's CascadeClassifier::detectMultiScale
// on the CPU: the same scales, the same grey image pyramid (cv::resize
// INTER_LINEAR_EXACT), the same integral images, float feature values, window
// steps and rectangle grouping, so it returns OpenCV's rectangles (tested
// against cv2 on real faces, candidates and grouped results alike). This file
// decides which windows are tried; a Haar cascade's arithmetic over a row of
// windows is a kernel (kernels/impl/haar_cascade.hpp: 8 windows at once with
// AVX2); LBP cascades run here, one window at a time.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <locale>
#include <sstream>
#include <numeric>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/detect/gray_image.hpp"
#include "clipcaer/detect/xml.hpp"
#include "clipcaer/kernels/dispatch.hpp"

namespace clipcaer::detect {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  friend bool operator==(const Rect& a, const Rect& b) noexcept {
    return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
  }
};

struct DetectParams {
  double scale_factor = 1.1;  // window growth between scales (> 1)
  int min_neighbors = 3;      // candidates a detection needs beyond itself; 0: every candidate, ungrouped
  int min_width = 0, min_height = 0;  // smallest object searched (0: the cascade's window)
  int max_width = 0, max_height = 0;  // largest (0: the image)
};

class Cascade {
 public:
  enum class Features { haar, lbp };

  // Reads an OpenCV cascade XML file (the format of OpenCV 2.4 and later, as
  // written by opencv_traincascade). Errors name the file and what is wrong.
  static Cascade load(const std::string& path) {
    Cascade c;
    c.path_ = path;
    c.parse(read_xml_file(path));
    return c;
  }
  static Cascade from_xml(const std::string& text, const std::string& name) {
    Cascade c;
    c.path_ = name;
    c.parse(parse_xml(text, "'" + name + "'"));
    return c;
  }

  const std::string& path() const noexcept { return path_; }
  Features features() const noexcept { return features_; }
  int window_width() const noexcept { return win_w_; }
  int window_height() const noexcept { return win_h_; }
  std::size_t num_stages() const noexcept { return stages_.size(); }

  // OpenCV's detectMultiScale on a grey picture; rectangles clipped to it.
  std::vector<Rect> detect(const GrayImage& image, const DetectParams& p = {}) const {
    return detect(image, p, kernels::best_table());
  }
  // The same with a given kernel table's Haar kernel (tests compare tables).
  std::vector<Rect> detect(const GrayImage& image, const DetectParams& p, const kernels::KernelTable& table) const;

 private:
  using Stage = kernels::HaarStage;
  using Node = kernels::HaarNode;  // LBP nodes leave threshold 0
  struct HaarFeature {
    Rect rect[3];
    float weight[3] = {0, 0, 0};
  };

  std::string path_;
  Features features_ = Features::haar;
  int win_w_ = 0, win_h_ = 0;
  int subset_size_ = 0;  // LBP: ints of category bits per node
  std::vector<Stage> stages_;
  std::vector<int> tree_sizes_;  // nodes per tree
  std::vector<Node> nodes_;
  std::vector<float> leaves_;
  std::vector<std::int32_t> subsets_;
  std::vector<HaarFeature> haar_;
  std::vector<Rect> lbp_;  // the block size and origin of each LBP feature

  [[noreturn]] void fail(const XmlNode& at, const std::string& what) const {
    throw_error(ErrorCode::format, "cascade '", path_, "': line ", at.line, ": ", what);
  }
  const XmlNode& need(const XmlNode& parent, const char* name) const {
    const XmlNode* c = parent.child(name);
    if (!c) fail(parent, std::string("<") + parent.name + "> has no <" + name + ">");
    return *c;
  }
  // The element's numbers, read in the C locale whatever the program's is
  // (strtod under a German locale would read "0.5" as 0).
  std::vector<double> numbers(const XmlNode& n) const {
    std::vector<double> out;
    std::istringstream in(n.text);
    in.imbue(std::locale::classic());
    for (double v = 0; !(in >> std::ws).eof();) {
      if (!(in >> v)) fail(n, "<" + n.name + "> holds something that is not a number");  // or out of range
      out.push_back(v);
    }
    return out;
  }
  int integer(const XmlNode& n, double v, double lo, double hi) const {
    if (!(v >= lo && v <= hi) || v != std::floor(v))
      fail(n, "<" + n.name + "> holds " + std::to_string(v) + ", not an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
    return static_cast<int>(v);
  }
  int one_integer(const XmlNode& parent, const char* name, double lo, double hi) const {
    const XmlNode& n = need(parent, name);
    const auto v = numbers(n);
    if (v.size() != 1) fail(n, std::string("<") + name + "> should hold one number");
    return integer(n, v[0], lo, hi);
  }

  void parse(const XmlNode& doc);
  void parse_features(const XmlNode& list);
  // A feature's corners as offsets into an integral image of a given row
  // stride, from the window's top-left corner (OpenCV's OptFeature).
  struct Offsets {
    int ofs[16];
    float weight[3];
  };
  std::vector<Offsets> lbp_offsets(int stride) const;
  // A Haar corner (x, y) of a window as an offset from its top-left corner in
  // integral images of row stride `stride`, stored as `step` column planes of
  // `plane` elements each (step 2: even columns, then odd ones).
  struct HaarLayout {
    int stride = 0, step = 1;
    std::size_t plane = 0;
    int offset(int x, int y) const noexcept {
      return static_cast<int>(static_cast<std::size_t>(x % step) * plane) + y * stride + x / step;
    }
  };
  std::vector<kernels::HaarFeatureOffsets> haar_offsets(const HaarLayout& layout) const;
  int run_lbp(const std::uint32_t* win, const Offsets* feats) const;
};

namespace detail {

// cvRound of a float / double: nearest, ties to even (the SSE conversions OpenCV uses).
inline int cv_round(double v) noexcept { return static_cast<int>(std::nearbyint(v)); }

// cv::groupRectangles(rects, threshold, eps = 0.2) without weights.
inline std::vector<Rect> group_rectangles(const std::vector<Rect>& rects, int threshold, double eps) {
  if (threshold <= 0 || rects.empty()) return rects;
  const std::size_t n = rects.size();
  auto similar = [eps](const Rect& a, const Rect& b) {
    const double delta = eps * (std::min(a.width, b.width) + std::min(a.height, b.height)) * 0.5;
    return std::abs(a.x - b.x) <= delta && std::abs(a.y - b.y) <= delta &&
           std::abs(a.x + a.width - b.x - b.width) <= delta && std::abs(a.y + a.height - b.y - b.height) <= delta;
  };
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  auto find = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (similar(rects[i], rects[j])) {
        const std::size_t a = find(i), b = find(j);
        if (a != b) parent[std::max(a, b)] = std::min(a, b);
      }
  // Classes numbered in order of first member.
  std::vector<int> label(n, -1), cls_of_root(n, -1);
  int nclasses = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = find(i);
    if (cls_of_root[r] < 0) cls_of_root[r] = nclasses++;
    label[i] = cls_of_root[r];
  }
  std::vector<Rect> sum(static_cast<std::size_t>(nclasses));
  std::vector<int> count(static_cast<std::size_t>(nclasses), 0);
  for (std::size_t i = 0; i < n; ++i) {
    Rect& s = sum[static_cast<std::size_t>(label[i])];
    s.x += rects[i].x;
    s.y += rects[i].y;
    s.width += rects[i].width;
    s.height += rects[i].height;
    ++count[static_cast<std::size_t>(label[i])];
  }
  for (int c = 0; c < nclasses; ++c) {
    Rect& r = sum[static_cast<std::size_t>(c)];
    const float s = 1.f / static_cast<float>(count[static_cast<std::size_t>(c)]);
    r = {cv_round(static_cast<float>(r.x) * s), cv_round(static_cast<float>(r.y) * s),
         cv_round(static_cast<float>(r.width) * s), cv_round(static_cast<float>(r.height) * s)};
  }
  std::vector<Rect> out;
  for (int i = 0; i < nclasses; ++i) {
    const Rect r1 = sum[static_cast<std::size_t>(i)];
    const int n1 = count[static_cast<std::size_t>(i)];
    if (n1 <= threshold) continue;
    bool inside = false;  // a small rectangle inside a stronger large one is dropped
    for (int j = 0; j < nclasses && !inside; ++j) {
      const int n2 = count[static_cast<std::size_t>(j)];
      if (j == i || n2 <= threshold) continue;
      const Rect r2 = sum[static_cast<std::size_t>(j)];
      const int dx = cv_round(r2.width * eps), dy = cv_round(r2.height * eps);
      inside = r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.width <= r2.x + r2.width + dx &&
               r1.y + r1.height <= r2.y + r2.height + dy && (n2 > std::max(3, n1) || n1 < 3);
    }
    if (!inside) out.push_back(r1);
  }
  return out;
}

}  // namespace detail

inline void Cascade::parse(const XmlNode& doc) {
  if (doc.name != "opencv_storage" || doc.children.empty())
    fail(doc, "not an OpenCV cascade file (no <opencv_storage> root with a cascade in it)");
  const XmlNode& root = doc.children.front();
  const XmlNode* stage_type = root.child("stageType");
  if (!stage_type)
    fail(root, "<" + root.name +
                   "> has no <stageType>: an old-format (OpenCV 1.x) cascade, which is not supported; convert it "
                   "with OpenCV's opencv_traincascade or use one of opencv-data's haarcascade_*.xml files");
  auto trimmed = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  if (trimmed(stage_type->text) != "BOOST") fail(*stage_type, "stage type '" + trimmed(stage_type->text) + "' is not BOOST");
  const XmlNode& ftype = need(root, "featureType");
  const std::string ft = trimmed(ftype.text);
  if (ft == "HAAR") features_ = Features::haar;
  else if (ft == "LBP") features_ = Features::lbp;
  else fail(ftype, "feature type '" + ft + "' is not supported (HAAR or LBP)");
  win_h_ = one_integer(root, "height", 3, 1024);
  win_w_ = one_integer(root, "width", 3, 1024);
  const int ncategories = one_integer(need(root, "featureParams"), "maxCatCount", 0, 1 << 16);
  if (features_ == Features::lbp && ncategories != 256)
    fail(root, "an LBP cascade needs maxCatCount 256, not " + std::to_string(ncategories));
  if (features_ == Features::haar && ncategories != 0)
    fail(root, "a Haar cascade needs maxCatCount 0, not " + std::to_string(ncategories));
  subset_size_ = (ncategories + 31) / 32;
  const std::size_t node_step = 3 + static_cast<std::size_t>(ncategories > 0 ? subset_size_ : 1);

  parse_features(need(root, "features"));
  const int nfeatures = static_cast<int>(features_ == Features::haar ? haar_.size() : lbp_.size());

  const XmlNode& stages = need(root, "stages");
  if (stages.children.empty()) fail(stages, "the cascade has no stages");
  for (const XmlNode& s : stages.children) {
    Stage stage;
    const XmlNode& th = need(s, "stageThreshold");
    const auto tv = numbers(th);
    if (tv.size() != 1) fail(th, "<stageThreshold> should hold one number");
    stage.threshold = static_cast<float>(tv[0]) - 1e-5f;  // OpenCV's THRESHOLD_EPS
    stage.first_tree = static_cast<int>(tree_sizes_.size());
    const XmlNode& weak = need(s, "weakClassifiers");
    if (weak.children.empty()) fail(weak, "a stage has no weak classifiers");
    for (const XmlNode& w : weak.children) {
      const XmlNode& in = need(w, "internalNodes");
      const XmlNode& lv = need(w, "leafValues");
      const auto iv = numbers(in);
      const auto leaves = numbers(lv);
      if (iv.empty() || iv.size() % node_step != 0)
        fail(in, "<internalNodes> holds " + std::to_string(iv.size()) + " numbers, not a multiple of " +
                     std::to_string(node_step));
      const int count = static_cast<int>(iv.size() / node_step);
      if (leaves.size() != static_cast<std::size_t>(count) + 1)
        fail(lv, "a tree of " + std::to_string(count) + " nodes needs " + std::to_string(count + 1) + " leaves, not " +
                     std::to_string(leaves.size()));
      for (int k = 0; k < count; ++k) {
        const double* v = iv.data() + static_cast<std::size_t>(k) * node_step;
        Node node;
        node.left = integer(in, v[0], -count, count - 1);
        node.right = integer(in, v[1], -count, count - 1);
        node.feature = integer(in, v[2], 0, nfeatures - 1);
        if (features_ == Features::lbp) {
          for (int j = 0; j < subset_size_; ++j)
            subsets_.push_back(integer(in, v[3 + j], -2147483648.0, 2147483647.0));
        } else {
          node.threshold = static_cast<float>(v[3]);
        }
        // A child node must come later in the tree, so evaluation ends.
        if ((node.left > 0 && node.left <= k) || (node.right > 0 && node.right <= k))
          fail(in, "a tree node points back to an earlier node");
        nodes_.push_back(node);
      }
      for (double l : leaves) leaves_.push_back(static_cast<float>(l));
      tree_sizes_.push_back(count);
      ++stage.num_trees;
    }
    stages_.push_back(stage);
  }
}

inline void Cascade::parse_features(const XmlNode& list) {
  if (list.children.empty()) fail(list, "the cascade has no features");
  for (const XmlNode& f : list.children) {
    if (features_ == Features::haar) {
      if (const XmlNode* t = f.child("tilted")) {
        const auto v = numbers(*t);
        if (v.size() != 1 || v[0] != 0) fail(*t, "tilted Haar features are not supported");
      }
      const XmlNode& rects = need(f, "rects");
      if (rects.children.empty() || rects.children.size() > 3) fail(rects, "a Haar feature needs 1 to 3 rectangles");
      HaarFeature h;
      for (std::size_t r = 0; r < rects.children.size(); ++r) {
        const XmlNode& rn = rects.children[r];
        const auto v = numbers(rn);
        if (v.size() != 5) fail(rn, "a Haar rectangle needs 5 numbers (x y width height weight)");
        Rect rc{integer(rn, v[0], 0, win_w_), integer(rn, v[1], 0, win_h_), integer(rn, v[2], 0, win_w_),
                integer(rn, v[3], 0, win_h_)};
        if (rc.x + rc.width > win_w_ || rc.y + rc.height > win_h_)
          fail(rn, "a Haar rectangle reaches outside the " + std::to_string(win_w_) + "x" + std::to_string(win_h_) +
                       " window");
        h.rect[r] = rc;
        h.weight[r] = static_cast<float>(v[4]);
      }
      haar_.push_back(h);
    } else {
      const XmlNode& rn = need(f, "rect");
      const auto v = numbers(rn);
      if (v.size() != 4) fail(rn, "an LBP feature needs 4 numbers (x y width height)");
      Rect rc{integer(rn, v[0], 0, win_w_), integer(rn, v[1], 0, win_h_), integer(rn, v[2], 1, win_w_),
              integer(rn, v[3], 1, win_h_)};
      if (rc.x + 3 * rc.width > win_w_ || rc.y + 3 * rc.height > win_h_)
        fail(rn, "an LBP feature's 3x3 blocks reach outside the window");
      lbp_.push_back(rc);
    }
  }
}

inline std::vector<Cascade::Offsets> Cascade::lbp_offsets(int stride) const {
  std::vector<Offsets> out(lbp_.size());
  for (std::size_t i = 0; i < lbp_.size(); ++i) {
    const Rect& b = lbp_[i];
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) out[i].ofs[4 * j + k] = (b.y + j * b.height) * stride + b.x + k * b.width;
  }
  return out;
}

inline std::vector<kernels::HaarFeatureOffsets> Cascade::haar_offsets(const HaarLayout& l) const {
  std::vector<kernels::HaarFeatureOffsets> out(haar_.size());
  for (std::size_t i = 0; i < haar_.size(); ++i)
    for (int r = 0; r < 3; ++r) {
      const Rect& b = haar_[i].rect[r];
      int* o = out[i].ofs + 4 * r;
      o[0] = l.offset(b.x, b.y);
      o[1] = l.offset(b.x + b.width, b.y);
      o[2] = l.offset(b.x, b.y + b.height);
      o[3] = l.offset(b.x + b.width, b.y + b.height);
      out[i].weight[r] = haar_[i].weight[r];
    }
  return out;
}

// An LBP window through every stage: 1 accepted, -k rejected by stage k (0 the first).
inline int Cascade::run_lbp(const std::uint32_t* win, const Offsets* feats) const {
  std::size_t node_ofs = 0, leaf_ofs = 0;
  for (std::size_t si = 0; si < stages_.size(); ++si) {
    const Stage& stage = stages_[si];
    double total = 0;
    for (int t = 0; t < stage.num_trees; ++t) {
      const int count = tree_sizes_[static_cast<std::size_t>(stage.first_tree + t)];
      int idx = 0;
      do {
        const Node& node = nodes_[node_ofs + static_cast<std::size_t>(idx)];
        const int* o = feats[node.feature].ofs;  // a 4 x 4 grid of corners
        auto block = [&](int i, int j) {
          const int* c = o + 4 * j + i;
          return static_cast<std::int32_t>(win[c[0]] - win[c[1]] - win[c[4]] + win[c[5]]);
        };
        const std::int32_t c = block(1, 1);
        const int code = (block(0, 0) >= c ? 128 : 0) | (block(1, 0) >= c ? 64 : 0) | (block(2, 0) >= c ? 32 : 0) |
                         (block(2, 1) >= c ? 16 : 0) | (block(2, 2) >= c ? 8 : 0) | (block(1, 2) >= c ? 4 : 0) |
                         (block(0, 2) >= c ? 2 : 0) | (block(0, 1) >= c ? 1 : 0);
        const std::int32_t* subset =
            &subsets_[(node_ofs + static_cast<std::size_t>(idx)) * static_cast<std::size_t>(subset_size_)];
        idx = (static_cast<std::uint32_t>(subset[code >> 5]) & (1u << (code & 31))) ? node.left : node.right;
      } while (idx > 0);
      total += leaves_[leaf_ofs + static_cast<std::size_t>(-idx)];
      node_ofs += static_cast<std::size_t>(count);
      leaf_ofs += static_cast<std::size_t>(count) + 1;
    }
    if (total < stage.threshold) return -static_cast<int>(si);
  }
  return 1;
}

inline std::vector<Rect> Cascade::detect(const GrayImage& image, const DetectParams& p,
                                        const kernels::KernelTable& table) const {
  require(p.scale_factor > 1.0 && std::isfinite(p.scale_factor), ErrorCode::invalid_argument,
          "cascade detection: scale factor ", p.scale_factor, " must be a number above 1");
  require(p.min_neighbors >= 0, ErrorCode::invalid_argument, "cascade detection: min_neighbors ", p.min_neighbors,
          " is negative");
  require(p.min_width >= 0 && p.min_height >= 0 && p.max_width >= 0 && p.max_height >= 0,
          ErrorCode::invalid_argument, "cascade detection: a negative minimum or maximum size");
  // Window offsets into the integral images are ints, as in OpenCV.
  require((static_cast<double>(image.width) + 1) * (static_cast<double>(image.height) + 1) < 1e9,
          ErrorCode::invalid_argument, "cascade detection: a ", image.width, "x", image.height,
          " picture is too large (at most about 1e9 pixels)");
  require(image.width >= 0 && image.height >= 0 &&
              image.pixels.size() == static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height),
          ErrorCode::invalid_argument, "cascade detection: the grey image's size does not match its pixels");
  const int W = image.width, H = image.height;
  const int max_w = p.max_width > 0 ? p.max_width : W, max_h = p.max_height > 0 ? p.max_height : H;
  std::vector<float> scales;
  for (double factor = 1;; factor *= p.scale_factor) {
    const int ww = detail::cv_round(win_w_ * factor), wh = detail::cv_round(win_h_ * factor);
    if (ww > max_w || wh > max_h || ww > W || wh > H) break;
    if (ww < p.min_width || wh < p.min_height) continue;
    scales.push_back(static_cast<float>(factor));
  }

  std::vector<Rect> found;
  std::vector<std::uint32_t> sum, sq, split_sum, split_sq;
  std::vector<int> accepted;
  for (const float sc : scales) {
    const int sw = detail::cv_round(static_cast<float>(W) / sc), sh = detail::cv_round(static_cast<float>(H) / sc);
    if (sw <= 0 || sh <= 0) continue;
    const GrayImage scaled = resize_linear_exact(image, sw, sh);
    // Integral images of size (sw + 1) x (sh + 1), wrapping like OpenCV's
    // 32-bit ones, padded for the kernel's blocks of windows.
    const int stride = sw + 1;
    const std::size_t size = static_cast<std::size_t>(stride) * static_cast<std::size_t>(sh + 1);
    sum.assign(size + kernels::kHaarRowPadding, 0);
    sq.assign(sum.size(), 0);
    for (int y = 0; y < sh; ++y) {
      const std::uint8_t* r = scaled.row(y);
      std::uint32_t s = 0, q = 0;
      const std::size_t above = static_cast<std::size_t>(y) * stride, here = above + stride;
      for (int x = 0; x < sw; ++x) {
        const std::uint32_t v = r[x];
        s += v;
        q += v * v;
        sum[here + x + 1] = sum[above + x + 1] + s;
        sq[here + x + 1] = sq[above + x + 1] + q;
      }
    }
    const int work_w = std::max(stride - win_w_, 0), work_h = std::max(sh + 1 - win_h_, 0);
    const int step = sc >= 2 ? 1 : 2;  // OpenCV's window step: every window, or every other row and column
    const int win_w = detail::cv_round(static_cast<float>(win_w_) * sc);
    const int win_h = detail::cv_round(static_cast<float>(win_h_) * sc);
    auto found_at = [&](int x, int y) {
      found.push_back(
          {detail::cv_round(static_cast<float>(x) * sc), detail::cv_round(static_cast<float>(y) * sc), win_w, win_h});
    };
    if (features_ == Features::lbp) {
      const std::vector<Offsets> feats = lbp_offsets(stride);
      for (int y = 0; y < work_h; y += step)
        for (int x = 0; x < work_w; x += step) {
          const int result = run_lbp(sum.data() + static_cast<std::size_t>(y) * stride + x, feats.data());
          if (result > 0) found_at(x, y);
          if (result == 0) x += step;  // rejected by the first stage: skip the next window too
        }
      continue;
    }
    // Haar: the kernel runs a row of windows; neighbouring windows must be
    // neighbouring elements, so at a step of 2 the columns go to two planes.
    HaarLayout layout{stride, 1, size};
    const std::uint32_t* sum_at = sum.data();
    const std::uint32_t* sq_at = sq.data();
    if (step == 2) {
      layout.stride = (stride + 1) / 2;
      layout.step = 2;
      layout.plane = static_cast<std::size_t>(layout.stride) * static_cast<std::size_t>(sh + 1);
      split_sum.assign(2 * layout.plane + kernels::kHaarRowPadding, 0);
      split_sq.assign(split_sum.size(), 0);
      for (int y = 0; y <= sh; ++y)
        for (int x = 0; x < stride; ++x) {
          const std::size_t from = static_cast<std::size_t>(y) * stride + x;
          const std::size_t to = static_cast<std::size_t>(layout.offset(x, y));
          split_sum[to] = sum[from];
          split_sq[to] = sq[from];
        }
      sum_at = split_sum.data();
      sq_at = split_sq.data();
    }
    const std::vector<kernels::HaarFeatureOffsets> feats = haar_offsets(layout);
    kernels::HaarRowArgs args;
    args.stages = stages_.data();
    args.num_stages = stages_.size();
    args.tree_sizes = tree_sizes_.data();
    args.nodes = nodes_.data();
    args.leaves = leaves_.data();
    args.features = feats.data();
    args.norm_ofs[0] = layout.offset(1, 1);
    args.norm_ofs[1] = layout.offset(win_w_ - 1, 1);
    args.norm_ofs[2] = layout.offset(1, win_h_ - 1);
    args.norm_ofs[3] = layout.offset(win_w_ - 1, win_h_ - 1);
    args.norm_area = static_cast<double>(win_w_ - 2) * (win_h_ - 2);
    args.windows = (work_w + step - 1) / step;
    accepted.resize(static_cast<std::size_t>(args.windows));
    for (int y = 0; y < work_h; y += step) {
      args.sum = sum_at + static_cast<std::size_t>(y) * static_cast<std::size_t>(layout.stride);
      args.sq = sq_at + static_cast<std::size_t>(y) * static_cast<std::size_t>(layout.stride);
      const int n = table.haar_row(args, accepted.data());
      for (int k = 0; k < n; ++k) found_at(accepted[static_cast<std::size_t>(k)] * step, y);
    }
  }
  std::vector<Rect> grouped = detail::group_rectangles(found, p.min_neighbors, 0.2);
  // clipObjects: intersect with the picture, drop the empty.
  std::vector<Rect> out;
  for (const Rect& r : grouped) {
    const int x0 = std::max(r.x, 0), y0 = std::max(r.y, 0);
    const int x1 = std::min(r.x + r.width, W), y1 = std::min(r.y + r.height, H);
    if (x1 > x0 && y1 > y0) out.push_back({x0, y0, x1 - x0, y1 - y0});
  }
  return out;
}

}  // namespace clipcaer::detect
