// What an op needs to run: the kernel table and the thread pool.
#pragma once

#include "clipcaer/core/thread_pool.hpp"
#include "clipcaer/kernels/kernel_table.hpp"

namespace clipcaer::ops {

struct Context {
  const kernels::KernelTable& kernels;
  ThreadPool& pool;
};

}  // namespace clipcaer::ops
