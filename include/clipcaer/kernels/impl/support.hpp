// Allocation and error reporting for kernel code.
//
// A translation unit compiled with an ISA's flags must not instantiate helpers
// shared with the rest of the program (clipcaer::throw_error, AlignedBuffer,
// std:: templates): the linker keeps one copy, maybe the AVX-512 one. So in
// the multi-arch runtime these are defined once, in the baseline TU
// (src/kernels_baseline.cpp defines CLIPCAER_KERNEL_SUPPORT_IMPL), and ISA TUs
// only call them. Header-only builds get inline definitions.
#pragma once

#include <cstddef>

#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::kernels {

#if defined(CLIPCAER_MULTIARCH) && !defined(CLIPCAER_KERNEL_SUPPORT_IMPL)
// Sets out's shape and type and resizes out.data to `bytes`; throws
// clipcaer::Error (unsupported) instead if the table cannot pack `type`.
void prepare_packed(PackedMatrix& out, std::size_t n, std::size_t k, WeightType type, bool supported,
                    std::size_t bytes);
// This thread's scratch buffer, at least `floats` floats, 64-byte aligned; grown
// on demand and kept, so steady-state calls do not allocate. One per thread,
// shared by all kernel tables; a kernel must not hold it across calls.
float* thread_scratch(std::size_t floats);
#else
}  // namespace clipcaer::kernels

#include "clipcaer/core/aligned_buffer.hpp"
#include "clipcaer/core/error.hpp"

#if defined(CLIPCAER_MULTIARCH)
#define CLIPCAER_KERNEL_SUPPORT_FN
#else
#define CLIPCAER_KERNEL_SUPPORT_FN inline
#endif

namespace clipcaer::kernels {

CLIPCAER_KERNEL_SUPPORT_FN void prepare_packed(PackedMatrix& out, std::size_t n, std::size_t k, WeightType type,
                                               bool supported, std::size_t bytes) {
  require(supported, ErrorCode::unsupported, "this kernel table cannot pack weights as ", weight_type_name(type));
  out.n = n;
  out.k = k;
  out.type = type;
  out.data.resize(bytes);
}

CLIPCAER_KERNEL_SUPPORT_FN float* thread_scratch(std::size_t floats) {
  // At least 2 MB, the most any GEMM of ViT-B and ViT-L asks for, at first
  // use: which pool thread runs which task is decided at run time, so a
  // thread may meet its largest request late; it should not allocate then.
  constexpr std::size_t kFloor = std::size_t{1} << 19;
  static thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats > kFloor ? floats : kFloor);
  return buffer.data();
}

#undef CLIPCAER_KERNEL_SUPPORT_FN
#endif

}  // namespace clipcaer::kernels
