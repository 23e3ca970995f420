#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "clipcaer/kernels/dispatch.hpp"

// CLIPCAER_ISA naming a table this CPU cannot run: report "skipped" to ctest.
int main(int argc, char** argv) {
  if (const char* isa = std::getenv("CLIPCAER_ISA"); isa && *isa && !clipcaer::kernels::find_table(isa)) {
    std::printf("CLIPCAER_ISA=%s: this CPU cannot run that kernel table, skipping\n", isa);
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
