// Classification metrics as the paper reports them: WAR (accuracy), UAR (mean
// per-class recall) and the confusion matrix (rows: true class, columns:
// predicted class).
#pragma once

#include <cstddef>
#include <vector>

#include "clipcaer/core/error.hpp"

namespace clipcaer::eval {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::size_t classes) : classes_(classes), counts_(classes * classes, 0) {
    require(classes >= 1, ErrorCode::invalid_argument, "a confusion matrix needs at least one class");
  }

  void add(std::size_t truth, std::size_t predicted) {
    require(truth < classes_ && predicted < classes_, ErrorCode::invalid_argument, "class index (", truth, ", ",
            predicted, ") is out of range for ", classes_, " classes");
    ++counts_[truth * classes_ + predicted];
  }

  std::size_t classes() const noexcept { return classes_; }
  std::size_t at(std::size_t truth, std::size_t predicted) const { return counts_[truth * classes_ + predicted]; }
  std::size_t row_total(std::size_t truth) const {
    std::size_t n = 0;
    for (std::size_t p = 0; p < classes_; ++p) n += at(truth, p);
    return n;
  }
  std::size_t total() const {
    std::size_t n = 0;
    for (std::size_t c : counts_) n += c;
    return n;
  }

 private:
  std::size_t classes_;
  std::vector<std::size_t> counts_;
};

struct Metrics {
  double war = 0;                   // correct / total, in [0, 1]
  double uar = 0;                   // mean recall over classes that have samples, in [0, 1]
  std::vector<double> recall;       // per class; 0 for a class without samples
  std::vector<bool> has_samples;    // per class
  std::size_t samples = 0;
};

// UAR averages the recall of classes with at least one sample. (The official
// script's sklearn matrix would give NaN for a class that is predicted but
// never true; classes absent from both are dropped there and here alike.)
inline Metrics compute_metrics(const ConfusionMatrix& cm) {
  Metrics m;
  const std::size_t C = cm.classes();
  m.samples = cm.total();
  m.recall.assign(C, 0.0);
  m.has_samples.assign(C, false);
  std::size_t correct = 0, with_samples = 0;
  double recall_sum = 0;
  for (std::size_t c = 0; c < C; ++c) {
    correct += cm.at(c, c);
    const std::size_t n = cm.row_total(c);
    if (n == 0) continue;
    m.has_samples[c] = true;
    m.recall[c] = static_cast<double>(cm.at(c, c)) / static_cast<double>(n);
    recall_sum += m.recall[c];
    ++with_samples;
  }
  m.war = m.samples ? static_cast<double>(correct) / static_cast<double>(m.samples) : 0.0;
  m.uar = with_samples ? recall_sum / static_cast<double>(with_samples) : 0.0;
  return m;
}

}  // namespace clipcaer::eval
