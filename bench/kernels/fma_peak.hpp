// Measured floating-point peak of one core, per instruction set: independent
// FMA chains (enough to cover latency x ports), so GEMM results can be given
// as a fraction of what this machine really does, measured in the same run.
#pragma once

#include <cstdint>
#include <string>

namespace clipcaer::bench {

// Runs `iters` iterations of the peak loop for `isa` ("avx512": zmm FMA,
// "avx2": ymm FMA, "sse2": xmm mul + add) and returns the flops performed.
// Returns 0 if this CPU or build cannot run `isa`.
std::uint64_t peak_loop(const std::string& isa, std::uint64_t iters);

// Best-of-`reps` single-thread flop/s of peak_loop over about `seconds` each.
double measure_peak_flops(const std::string& isa, double seconds = 0.05, int reps = 5);

}  // namespace clipcaer::bench
