// ThreadPool: a persistent pool; parallel_for hands out task indices from an
// atomic counter and the calling thread works too. No heap allocation per
// call. A pool serves one parallel_for at a time: a second caller (another
// thread sharing the model, or a nested call) runs its loop inline, so work
// never deadlocks and results never depend on who ran a task.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace clipcaer {

inline std::size_t hardware_threads() noexcept {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

class ThreadPool {
 public:
  // Run once by each worker thread when it starts, before the pool is ready
  // (e.g. to size its thread-local scratch up front, so that a worker that
  // happens to meet its first task late does not allocate then).
  using ThreadInit = void (*)();

  // threads: total worker count including the caller; 0 means one per core.
  explicit ThreadPool(std::size_t threads = 0, ThreadInit init = nullptr) : init_(init) {
    start(threads == 0 ? hardware_threads() : threads);
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() { stop(); }

  std::size_t size() const noexcept { return workers_.size() + 1; }

  // Restarts the pool with a new size. Not to be called while a loop runs.
  void resize(std::size_t threads) {
    if (threads == 0) threads = hardware_threads();
    if (threads == size()) return;
    stop();
    start(threads);
  }

  // Runs fn(i) for every i in [0, n). The first exception thrown by a task is
  // rethrown here after all started tasks finish.
  template <class F>
  void parallel_for(std::size_t n, F&& fn) {
    if (n == 0) return;
    bool expected = false;
    if (n == 1 || workers_.empty() || !busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      for (std::size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    struct Release {
      std::atomic<bool>& flag;
      ~Release() { flag.store(false, std::memory_order_release); }
    } release{busy_};

    using Fn = std::remove_reference_t<F>;
    job_.context = const_cast<void*>(static_cast<const void*>(&fn));
    job_.invoke = [](void* ctx, std::size_t i) { (*static_cast<Fn*>(ctx))(i); };
    job_.count = n;
    job_.next.store(0, std::memory_order_relaxed);
    job_.error = nullptr;
    std::size_t helpers = std::min(workers_.size(), n - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_.pending = helpers;
      job_.helpers = helpers;
      ++generation_;
    }
    wake_.notify_all();
    run_tasks();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return job_.pending == 0; });
    if (job_.error) std::rethrow_exception(job_.error);
  }

 private:
  struct Job {
    void* context = nullptr;
    void (*invoke)(void*, std::size_t) = nullptr;
    std::size_t count = 0;
    std::atomic<std::size_t> next{0};
    std::size_t pending = 0;  // helpers still working, guarded by mutex_
    std::size_t helpers = 0;  // how many workers join this job
    std::exception_ptr error;
  };

  void start(std::size_t threads) {
    stopping_ = false;
    started_ = 0;
    for (std::size_t w = 1; w < threads; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return started_ == workers_.size(); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void run_tasks() {
    for (;;) {
      std::size_t i = job_.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job_.count) break;
      try {
        job_.invoke(job_.context, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!job_.error) job_.error = std::current_exception();
        job_.next.store(job_.count, std::memory_order_relaxed);  // stop handing out work
      }
    }
  }

  void worker_loop(std::size_t index) {
    if (init_) init_();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++started_;
    }
    done_.notify_all();
    std::size_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        if (index > job_.helpers) continue;  // this job needs fewer helpers
      }
      run_tasks();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--job_.pending == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::size_t generation_ = 0;
  std::size_t started_ = 0;  // workers past init_, guarded by mutex_
  ThreadInit init_ = nullptr;
  bool stopping_ = false;
  std::atomic<bool> busy_{false};
  Job job_;
};

}  // namespace clipcaer
