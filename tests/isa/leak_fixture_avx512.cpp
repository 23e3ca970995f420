// Compiled with -mavx512f: its copy of shared_sum uses zmm registers.
#include "leak_fixture.hpp"

namespace clipcaer_fixture {
float sum_avx512(const float* x, std::size_t n) { return shared_sum(x, n); }
}  // namespace clipcaer_fixture
