// A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace clipcaer::cli {

class Progress {
 public:
  Progress(std::size_t total, const char* unit)
      : total_(total), unit_(unit), enabled_(::isatty(2) == 1), start_(std::chrono::steady_clock::now()) {}
  ~Progress() { finish(); }

  void update(std::size_t done) {
    if (!enabled_ || total_ == 0) return;
    const double elapsed = seconds();
    const double rate = done ? elapsed / static_cast<double>(done) : 0.0;
    const double eta = rate * static_cast<double>(total_ - done);
    const int width = 30, filled = static_cast<int>(width * done / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu %s  %.2f s/%s  ETA %s   ", bar.c_str(), done, total_, unit_, rate, unit_,
                 clock(eta).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  static std::string clock(double s) {
    char buf[32];
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
      std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    return buf;
  }

  std::size_t total_;
  const char* unit_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace clipcaer::cli
