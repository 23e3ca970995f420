// Runs a benchmark body alternately with a peak loop on the same threads, so
// results can be given as ratios to a peak measured alongside (the machine
// is shared: slow drift in frequency and load cancels out). Used by
// bench_kernels and bench_model.
#pragma once

#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "clipcaer/core/thread_pool.hpp"
#include "fma_peak.hpp"

namespace clipcaer::bench {

inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Runs fn once per benchmark iteration (wall-clock, manual time) and, after
// each, peak_loop(isa) on every thread of `pool` for about as long (peak_guess:
// single-thread flop/s, to size the loop). Counters:
//   <unit>        work_per_iter per wall-clock second, unit "FLOPS" or "OPS"
//                 (int8; default: the peak's unit); omitted when work_per_iter is 0
//   peak_G<unit>  the peak measured alongside, all threads, in the peak's unit (a load gauge)
//   peak_frac     wall-clock flop/s over wall-clock peak flop/s (includes load
//                 imbalance and scaling; what a user sees on a quiet machine)
//   cpu_frac      flop per CPU-second over peak flop per CPU-second (time the
//                 threads were descheduled by other processes drops out; idle
//                 waiting in the pool is not CPU time either)
// Returns the kernel's wall-clock work per second (0 if no work or no iteration).
template <class F>
double run_against_peak(benchmark::State& state, ThreadPool& pool, const std::string& isa, double peak_guess,
                        double work_per_iter, F&& fn, const char* work_unit = nullptr) {
  using clock = std::chrono::steady_clock;
  const std::string unit = peak_unit(isa), wunit = work_unit ? work_unit : unit;
  const double flops_per_loop = static_cast<double>(peak_loop(isa, 1));
  const bool probe = flops_per_loop > 0;
  if (peak_guess <= 0) peak_guess = 1e11;
  const std::size_t threads = pool.size();
  double kernel_s = 0, kernel_cpu = 0, probe_s = 0, probe_cpu = 0, probe_flops = 0;
  std::vector<double> done(threads, 0.0);
  for (auto _ : state) {
    const double c0 = process_cpu_seconds();
    const auto t0 = clock::now();
    fn();
    benchmark::ClobberMemory();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    kernel_cpu += process_cpu_seconds() - c0;
    state.SetIterationTime(dt);
    kernel_s += dt;
    if (!probe) continue;
    const auto iters = static_cast<std::uint64_t>(std::max(2e-4, dt) * peak_guess / flops_per_loop) + 1;
    const double c1 = process_cpu_seconds();
    const auto p0 = clock::now();
    pool.parallel_for(threads, [&](std::size_t i) { done[i] = static_cast<double>(peak_loop(isa, iters)); });
    probe_s += std::chrono::duration<double>(clock::now() - p0).count();
    probe_cpu += process_cpu_seconds() - c1;
    for (double d : done) probe_flops += d;
  }
  const double work = work_per_iter * static_cast<double>(state.iterations());
  if (work > 0) state.counters[wunit] = benchmark::Counter(work, benchmark::Counter::kIsRate);
  if (probe && probe_s > 0) state.counters["peak_G" + unit] = probe_flops / probe_s * 1e-9;
  if (work > 0 && probe && kernel_s > 0 && probe_s > 0)
    state.counters["peak_frac"] = (work / kernel_s) / (probe_flops / probe_s);
  if (work > 0 && probe && kernel_cpu > 0 && probe_cpu > 0)
    state.counters["cpu_frac"] = (work / kernel_cpu) / (probe_flops / probe_cpu);
  return work > 0 && kernel_s > 0 ? work / kernel_s : 0.0;
}

}  // namespace clipcaer::bench
