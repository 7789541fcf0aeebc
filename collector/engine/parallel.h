// OpenMP lives here and nowhere else: one place sets the thread count, and a
// serial build (no OpenMP) still works. So do the engine's helper threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace vmc {

// Threads to use: requested if > 0, else the CPUs online.
int resolve_thread_count(int requested);

// Calls body(i, thread_index) for i in [0, n) on `threads` threads with static
// chunks (deterministic assignment). body must not throw.
void parallel_for(int threads, int64_t n, const std::function<void(int64_t, int)>& body);

// Jobs of independent items, run by the calling thread and `threads - 1`
// helper threads that stay for the pipeline's life, so consecutive jobs flow
// into each other without a barrier: a helper that finds no item left in one
// job takes the next job's first item as soon as it is submitted, while the
// caller, between jobs, does the serial work (writing the job before, reading
// the next). At most two jobs are outstanding: submit() the next only after
// wait() on the one before the last.
//
//   auto a = pipeline.submit(n, body);  // helpers start on a
//   pipeline.help(a);                   // the caller joins in, returns when
//                                       // nothing of a is left to take
//   auto b = pipeline.submit(m, body2); // helpers finish a, go on to b
//   pipeline.wait(a);                   // a is done: its results may be used
//
// body(item, thread) is called once per item, thread in [0, threads) (0: the
// caller), concurrently on different items; it must not throw. The
// destructor waits for what was submitted.
class WorkPipeline {
 public:
  using Body = std::function<void(int64_t item, int thread)>;
  using Job = uint64_t;

  explicit WorkPipeline(int threads);
  ~WorkPipeline();
  WorkPipeline(const WorkPipeline&) = delete;
  WorkPipeline& operator=(const WorkPipeline&) = delete;

  Job submit(int64_t items, Body body);
  // Runs one item of `job` (or of the job before it) on the calling thread;
  // false when none is left to take.
  bool help_one(Job job);
  void help(Job job);
  bool done(Job job) const;
  void wait(Job job);

 private:
  // Items are numbered by tickets across jobs: job j holds [first, end).
  struct Slot {
    uint64_t first = 0;
    int64_t items = 0;
    std::atomic<uint64_t> end{0};  // first + items once published; only grows
    Body body;
    std::atomic<int64_t> done{0};
  };
  static constexpr uint64_t kStopped = ~uint64_t{0};

  Slot& slot(Job job) { return slots_[job % 2]; }
  const Slot& slot(Job job) const { return slots_[job % 2]; }
  Slot& slot_of_ticket(uint64_t ticket);
  void run(Slot& s, uint64_t ticket, int thread);
  void helper(int thread);

  Slot slots_[2];
  int spins_ = 0;                            // pauses before a waiting thread sleeps
  Job submitted_ = 0;                        // jobs submitted so far (the caller's)
  std::atomic<uint64_t> next_ticket_{0};     // the next item to take
  std::atomic<uint64_t> published_{0};       // tickets below it belong to a submitted job
  std::vector<std::thread> helpers_;
};

}  // namespace vmc
