// Kernel templates live in an inline namespace named per translation unit.
// Each ISA's dispatch TU (src/kernels_<isa>.cpp) defines CLIPCAER_KERNEL_NS
// before including them, so no inline helper compiled with AVX-512 flags can
// be merged by the linker into code that runs on an AVX2-only CPU.
#pragma once

#ifndef CLIPCAER_KERNEL_NS
#define CLIPCAER_KERNEL_NS native
#endif

#include <xsimd/xsimd.hpp>
