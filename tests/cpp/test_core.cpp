#include <doctest/doctest.h>

#include <atomic>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "clipcaer/core/dtype.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/core/tensor.hpp"
#include "clipcaer/core/thread_pool.hpp"

using namespace clipcaer;

TEST_CASE("ThreadPool runs every index exactly once") {
  for (std::size_t threads : {1u, 2u, 4u}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    std::vector<std::atomic<int>> hits(1000);
    pool.parallel_for(hits.size(), [&](std::size_t i) { hits[i]++; });
    for (auto& h : hits) CHECK(h.load() == 1);
  }
}

TEST_CASE("ThreadPool: nested loops run inline instead of deadlocking") {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.parallel_for(8, [&](std::size_t) { pool.parallel_for(8, [&](std::size_t) { total++; }); });
  CHECK(total.load() == 64);
}

namespace {
std::atomic<int> g_init_calls{0};
thread_local bool t_inited = false;
}  // namespace

TEST_CASE("ThreadPool runs its init hook on every worker before the pool is ready") {
  g_init_calls = 0;
  auto init = [] {
    g_init_calls++;
    t_inited = true;
  };
  ThreadPool pool(3, init);
  CHECK(g_init_calls.load() == 2);  // the two workers; the caller is not a worker
  // Every task on a worker sees the hook's effect; the calling thread never ran it.
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> wrong{0};
  pool.parallel_for(256, [&](std::size_t) {
    if (t_inited != (std::this_thread::get_id() != caller)) wrong++;
  });
  CHECK(wrong.load() == 0);
  pool.resize(5);
  CHECK(g_init_calls.load() == 2 + 4);  // the new workers ran it too
  ThreadPool single(1, init);
  CHECK(g_init_calls.load() == 6);  // no workers, no calls
}

TEST_CASE("ThreadPool rethrows a task's exception and stays usable") {
  ThreadPool pool(2);
  CHECK_THROWS_AS(pool.parallel_for(100, [](std::size_t i) { if (i == 37) throw std::runtime_error("task 37"); }),
                  std::runtime_error);
  std::atomic<int> n{0};
  pool.parallel_for(10, [&](std::size_t) { n++; });
  CHECK(n.load() == 10);
  pool.resize(3);
  CHECK(pool.size() == 3);
}

TEST_CASE("Tensor shapes and reshape errors") {
  Tensor t({2, 3, 4});
  CHECK(t.size() == 24);
  CHECK(shape_to_string(t.shape()) == "(2, 3, 4)");
  CHECK(shape_to_string({5}) == "(5,)");
  t.reshape({6, 4});
  CHECK(t.dim(0) == 6);
  CHECK_THROWS_AS(t.reshape({5, 5}), Error);
  CHECK_THROWS_AS(t.dim(7), Error);
  std::size_t n = 0;
  CHECK_FALSE(checked_numel({static_cast<std::size_t>(1) << 40, static_cast<std::size_t>(1) << 40}, n));
}

TEST_CASE("bf16 and f16 conversions") {
  CHECK(bf16_to_float(float_to_bf16(1.0f)) == 1.0f);
  CHECK(bf16_to_float(float_to_bf16(-2.5f)) == -2.5f);
  // 1 + 2^-8 is halfway between two bf16 values: ties go to even (1.0).
  CHECK(bf16_to_float(float_to_bf16(1.00390625f)) == 1.0f);
  CHECK(f16_to_float(0x3c00) == 1.0f);
  CHECK(f16_to_float(0xc000) == -2.0f);
  CHECK(f16_to_float(0x0001) == doctest::Approx(5.96046448e-8f));
  CHECK(f16_to_float(0x7c00) == std::numeric_limits<float>::infinity());
}

TEST_CASE("Error carries its code and message") {
  try {
    throw_error(ErrorCode::invalid_argument, "shape ", 3, " is wrong");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::invalid_argument);
    CHECK(std::string(e.what()) == "shape 3 is wrong");
  }
}
