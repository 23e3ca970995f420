// Baseline TU: calls shared_sum directly, so on an AVX2-only CPU it would run
// whichever copy the linker kept.
#include <cstdio>
#include <cstdlib>

#include "leak_fixture.hpp"

int main(int argc, char**) {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i);
  // Never executed (argc is 1): the binary only exists to be disassembled.
  if (argc > 5) std::printf("%f %f\n", clipcaer_fixture::shared_sum(x, 32), clipcaer_fixture::sum_avx512(x, 32));
  return EXIT_SUCCESS;
}
