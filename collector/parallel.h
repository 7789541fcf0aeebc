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

// One thread runs side() while the others start on body(i, thread_index) for
// i in [0, n); that thread then joins them. Iterations are handed out
// dynamically, `grain` at a time, so pages that cost little (zero pages) and
// the side task do not leave a thread idle. Which thread runs an iteration
// is not deterministic: body must give the same result on any thread. With
// one thread: side(), then the loop. Neither may throw.
void parallel_for_with_side_task(int threads, int64_t n, int64_t grain, const std::function<void()>& side,
                                 const std::function<void(int64_t, int)>& body);

}  // namespace vmc
