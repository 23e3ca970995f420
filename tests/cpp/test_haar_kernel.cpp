// The Haar cascade kernel (KernelTable::haar_row) on every table this CPU
// runs: random cascades against a window-by-window reference written here,
// and Cascade::detect with OpenCV's trained cascades on photographs, every
// table finding the same windows (Python's test_faces.py holds the best
// table to cv2 itself).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "clipcaer/detect/cascade.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "test_pictures.hpp"

using namespace clipcaer;

namespace {

// A random cascade over a random picture's integral images, with thresholds
// put at medians so that each stage rejects about half of what reaches it.
struct RandomCascade {
  int win = 12, stride;
  std::vector<std::uint32_t> sum, sq;
  std::vector<kernels::HaarStage> stages;
  std::vector<int> tree_sizes;
  std::vector<kernels::HaarNode> nodes;
  std::vector<float> leaves;
  std::vector<kernels::HaarFeatureOffsets> features;
  kernels::HaarRowArgs args;

  static int offset(int stride, int x, int y) { return y * stride + x; }

  // The reference: OpenCV's arithmetic one window at a time, written plainly
  // (volatile keeps each product rounded, as OpenCV's build has no FMA).
  float norm_of(int i, bool& pass) const {
    auto rect = [&](const std::vector<std::uint32_t>& p, const int* o) {
      return static_cast<std::int32_t>(p[i + o[0]] - p[i + o[1]] - p[i + o[2]] + p[i + o[3]]);
    };
    const std::int32_t s = rect(sum, args.norm_ofs);
    const std::uint32_t q = static_cast<std::uint32_t>(rect(sq, args.norm_ofs));
    volatile double a = args.norm_area * q, b = static_cast<double>(s) * s;
    const double nf = a - b;
    if (!(nf > 0)) return pass = false, 1.f;
    const float norm = static_cast<float>(1. / std::sqrt(nf));
    pass = args.norm_area * norm < 0.1;
    return norm;
  }
  float feature(int i, int f, float norm) const {
    const auto& ft = features[static_cast<std::size_t>(f)];
    auto rect = [&](int r) {
      const int* o = ft.ofs + 4 * r;
      return static_cast<float>(static_cast<std::int32_t>(sum[i + o[0]] - sum[i + o[1]] - sum[i + o[2]] + sum[i + o[3]]));
    };
    volatile float p0 = ft.weight[0] * rect(0), p1 = ft.weight[1] * rect(1);
    float v = p0 + p1;
    if (ft.weight[2] != 0.0f) {
      volatile float p2 = ft.weight[2] * rect(2);
      v += p2;
    }
    return v * norm;
  }
  // Stage sums of window i through stages [0, upto]; the stage that rejects it, or -1.
  int run(int i, std::size_t upto, std::vector<double>* totals = nullptr) const {
    bool pass = false;
    const float norm = norm_of(i, pass);
    if (!pass) return -2;
    std::size_t tree = 0, node = 0, leaf = 0;
    for (std::size_t s = 0; s <= upto && s < stages.size(); ++s) {
      double total = 0;
      for (int t = 0; t < stages[s].num_trees; ++t, ++tree) {
        int idx = 0;
        do {
          const auto& n = nodes[node + static_cast<std::size_t>(idx)];
          idx = feature(i, n.feature, norm) < n.threshold ? n.left : n.right;
        } while (idx > 0);
        total += leaves[leaf + static_cast<std::size_t>(-idx)];
        node += static_cast<std::size_t>(tree_sizes[tree]);
        leaf += static_cast<std::size_t>(tree_sizes[tree]) + 1;
      }
      if (totals) totals->push_back(total);
      if (total < stages[s].threshold) return static_cast<int>(s);
    }
    return -1;
  }
  // The windows OpenCV's scan accepts, a first-stage reject skipping the next.
  std::vector<int> accepted() const {
    std::vector<int> out;
    for (int i = 0; i < args.windows; ++i) {
      const int r = run(i, stages.size());
      if (r == -1) out.push_back(i);
      if (r == 0) ++i;
    }
    return out;
  }

  RandomCascade(unsigned seed, int w, int h) : stride(w + 1) {
    std::mt19937 rng(seed);
    auto uni = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    // Smooth blobs plus noise, with a flat patch (no variance: rejected before any stage).
    sum.assign(static_cast<std::size_t>(stride) * (h + 1) + kernels::kHaarRowPadding, 0);
    sq.assign(sum.size(), 0);
    for (int y = 0; y < h; ++y) {
      std::uint32_t s = 0, q = 0;
      for (int x = 0; x < w; ++x) {
        const bool flat = x < 20 && y < 20;
        const double blob = 128 + 60 * std::sin(x * 0.3) * std::cos(y * 0.2) + pick(-40, 40);
        const std::uint32_t v = flat ? 90u : static_cast<std::uint32_t>(std::clamp(blob, 0.0, 255.0));
        s += v;
        q += v * v;
        sum[static_cast<std::size_t>((y + 1) * stride + x + 1)] = sum[static_cast<std::size_t>(y * stride + x + 1)] + s;
        sq[static_cast<std::size_t>((y + 1) * stride + x + 1)] = sq[static_cast<std::size_t>(y * stride + x + 1)] + q;
      }
    }
    for (int f = 0; f < 24; ++f) {
      kernels::HaarFeatureOffsets ft{};
      const int rects = pick(2, 3);
      for (int r = 0; r < 3; ++r) {
        const int x = pick(0, win - 2), y = pick(0, win - 2), rw = pick(1, win - x), rh = pick(1, win - y);
        int* o = ft.ofs + 4 * r;
        o[0] = offset(stride, x, y), o[1] = offset(stride, x + rw, y);
        o[2] = offset(stride, x, y + rh), o[3] = offset(stride, x + rw, y + rh);
        ft.weight[r] = r < rects ? static_cast<float>(uni(-3, 3)) : 0.0f;
      }
      features.push_back(ft);
    }
    args.norm_ofs[0] = offset(stride, 1, 1), args.norm_ofs[1] = offset(stride, win - 1, 1);
    args.norm_ofs[2] = offset(stride, 1, win - 1), args.norm_ofs[3] = offset(stride, win - 1, win - 1);
    args.norm_area = (win - 2.0) * (win - 2);
    args.windows = stride - win;  // the windows of one row (the test moves sum and sq down the rows)
    args.sum = sum.data();
    args.sq = sq.data();
    // Stages of stumps and trees of 2-3 nodes; node thresholds at the median
    // feature value over the row, stage thresholds at the median total of
    // the windows that reach them.
    for (int s = 0; s < 6; ++s) {
      kernels::HaarStage st;
      st.first_tree = static_cast<int>(tree_sizes.size());
      st.num_trees = pick(1, 5);
      st.threshold = -1e30f;
      stages.push_back(st);
      for (int t = 0; t < st.num_trees; ++t) {
        const int count = pick(1, 3);
        tree_sizes.push_back(count);
        for (int k = 0; k < count; ++k) {
          kernels::HaarNode n;
          n.feature = pick(0, 23);
          std::vector<float> values;
          for (int i = 0; i < args.windows; ++i) {
            bool pass = false;
            const float norm = norm_of(i, pass);
            if (pass) values.push_back(feature(i, n.feature, norm));
          }
          std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
          n.threshold = values.empty() ? 0.f : values[values.size() / 2];
          // Children later in the tree or leaves; the last node has two leaves.
          n.left = k + 1 < count && pick(0, 1) ? pick(k + 1, count - 1) : -pick(0, count);
          n.right = k + 1 < count && pick(0, 1) ? pick(k + 1, count - 1) : -pick(0, count);
          nodes.push_back(n);
        }
        for (int j = 0; j <= count; ++j) leaves.push_back(static_cast<float>(uni(-1, 1)));
      }
      args.stages = stages.data();
      args.num_stages = stages.size();
      args.tree_sizes = tree_sizes.data();
      args.nodes = nodes.data();
      args.leaves = leaves.data();
      args.features = features.data();
      std::vector<double> totals;
      for (int i = 0; i < args.windows; ++i) {
        std::vector<double> t;
        if (run(i, static_cast<std::size_t>(s), &t) == -1) totals.push_back(t.back());  // reached stage s
      }
      if (!totals.empty()) {
        std::nth_element(totals.begin(), totals.begin() + totals.size() / 2, totals.end());
        stages.back().threshold = static_cast<float>(totals[totals.size() / 2]);
      }
      args.stages = stages.data();
    }
  }
};

}  // namespace

TEST_CASE("haar_row: random cascades, every table against the window-by-window reference") {
  int accepted_somewhere = 0, rejected_first = 0;
  for (unsigned seed = 1; seed <= 12; ++seed) {
    RandomCascade rc(seed, 40 + static_cast<int>(seed) * 7, 30);
    for (int row = 0; row < 30 - rc.win; row += 3) {
      kernels::HaarRowArgs args = rc.args;
      args.sum = rc.sum.data() + row * rc.stride;
      args.sq = rc.sq.data() + row * rc.stride;
      RandomCascade shifted = rc;  // the reference reads from the row's start
      shifted.sum.erase(shifted.sum.begin(), shifted.sum.begin() + row * rc.stride);
      shifted.sq.erase(shifted.sq.begin(), shifted.sq.begin() + row * rc.stride);
      shifted.sum.resize(rc.sum.size(), 0);
      shifted.sq.resize(rc.sq.size(), 0);
      const std::vector<int> want = shifted.accepted();
      for (int i = 0; i < args.windows; ++i) rejected_first += shifted.run(i, 0) == 0;
      accepted_somewhere += static_cast<int>(want.size());
      for (const kernels::KernelTable* t : kernels::usable_tables()) {
        INFO("table " << t->name << ", seed " << seed << ", row " << row);
        std::vector<int> got(static_cast<std::size_t>(args.windows), -1);
        got.resize(static_cast<std::size_t>(t->haar_row(args, got.data())));
        CHECK(got == want);
      }
    }
  }
  // The cases reach every path: windows accepted, first-stage rejects (which skip their neighbour).
  CHECK(accepted_somewhere > 20);
  CHECK(rejected_first > 100);
}

TEST_CASE("Cascade::detect: OpenCV's face cascades find the same windows on every table") {
  const std::filesystem::path pictures = test::test_pictures_dir();
  const bool have = std::filesystem::exists(pictures / "astronaut.png") && std::filesystem::exists(pictures / "coffee.png");
  if (!have) {
    // CI must have them (install-deps.sh --test fetches them).
    if (std::getenv("CI")) FAIL("test photographs missing in " << pictures << ": run scripts/fetch-test-pictures.sh");
    MESSAGE("skipped: no test photographs in " << pictures << " (scripts/fetch-test-pictures.sh)");
    return;
  }
  std::vector<std::string> cascades;
  for (const char* name : {"haarcascade_frontalface_alt2.xml", "haarcascade_frontalface_default.xml",
                           "haarcascade_profileface.xml"}) {
    try {
      cascades.push_back(find_cascade(std::string("haarcascades/") + name));
    } catch (const Error&) {
      if (std::getenv("CI")) FAIL("opencv-data's " << name << " is missing");
    }
  }
  REQUIRE(!cascades.empty());
  const auto tables = kernels::usable_tables();
  std::size_t candidates = 0;
  for (const char* picture : {"astronaut.png", "coffee.png"}) {
    const detect::GrayImage g = detect::to_gray(io::read_image((pictures / picture).string()).view());
    for (const auto& path : cascades) {
      const auto cascade = detect::Cascade::load(path);
      detect::DetectParams raw;  // every accepted window, ungrouped; down to the cascade's own size
      raw.min_neighbors = 0;
      const auto want = cascade.detect(g, raw, *tables.back());
      candidates += want.size();
      for (const kernels::KernelTable* t : tables) {
        INFO(picture << ", " << path << ", table " << t->name);
        CHECK(cascade.detect(g, raw, *t) == want);
      }
    }
  }
  CHECK(candidates > 50);
}
