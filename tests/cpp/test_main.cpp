#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "clipcaer/gpu/open_device.hpp"
#include "clipcaer/kernels/dispatch.hpp"

// CLIPCAER_ISA naming a table this CPU cannot run: report "skipped" to ctest.
int main(int argc, char** argv) {
  if (const char* isa = std::getenv("CLIPCAER_ISA"); isa && *isa && !clipcaer::kernels::find_table(isa)) {
    std::printf("CLIPCAER_ISA=%s: this CPU cannot run that kernel table, skipping\n", isa);
    return 77;
  }
  // GPU-only runs (ctest test_gpu_cuda) on a machine without a CUDA GPU: skipped, not passed.
  if (const char* cuda = std::getenv("CLIPCAER_TEST_REQUIRE_CUDA"); cuda && *cuda && clipcaer::gpu::cuda_device_count() == 0) {
    std::printf("CLIPCAER_TEST_REQUIRE_CUDA: %s, skipping\n",
                clipcaer::gpu::cuda_built() ? "no CUDA device here" : "this build has no CUDA backend");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
