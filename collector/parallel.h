// OpenMP lives here and nowhere else: one place sets the thread count, and a
// serial build (no OpenMP) still works.
#pragma once

#include <cstdint>
#include <functional>

namespace vmc {

// Threads to use: requested if > 0, else the CPUs online.
int resolve_thread_count(int requested);

// Calls body(i, thread_index) for i in [0, n) on `threads` threads with static
// chunks (deterministic assignment). body must not throw.
void parallel_for(int threads, int64_t n, const std::function<void(int64_t, int)>& body);

}  // namespace vmc
