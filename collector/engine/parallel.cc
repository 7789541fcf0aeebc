#include "collector/engine/parallel.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

namespace vmc {

int resolve_thread_count(int requested) {
  if (requested > 0) return requested;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return cpus > 0 ? static_cast<int>(cpus) : 1;
}

void parallel_for(int threads, int64_t n, const std::function<void(int64_t, int)>& body) {
  if (threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) body(i, 0);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) body(i, omp_get_thread_num());
#else
  for (int64_t i = 0; i < n; ++i) body(i, 0);
#endif
}

namespace {

// Waits for `value` to move off `old`. A short spin first: the next job
// usually comes within microseconds, and a sleep costs a wake-up that, on a
// virtual machine, can take longer than a grain of work.
template <typename T>
T await_change(const std::atomic<T>& value, T old, int spins) {
  for (int spin = 0; spin < spins; ++spin) {
    T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

// CPUs this process may run on.
int usable_cpus() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return resolve_thread_count(0);
}

}  // namespace

WorkPipeline::WorkPipeline(int threads) {
  // With more threads than CPUs a spinning thread holds the CPU that the
  // thread it waits for needs: sleep at once.
  spins_ = threads <= usable_cpus() ? 4096 : 0;
  for (int t = 1; t < threads; ++t) {
    try {
      helpers_.emplace_back([this, t] { helper(t); });
    } catch (const std::system_error&) {
      break;  // a capture kernel short of threads: fewer helpers, same result
    }
  }
}

WorkPipeline::~WorkPipeline() {
  if (submitted_ > 0) wait(submitted_ - 1);
  if (submitted_ > 1) wait(submitted_ - 2);
  published_.store(kStopped, std::memory_order_release);
  published_.notify_all();
  for (auto& h : helpers_) h.join();
}

WorkPipeline::Job WorkPipeline::submit(int64_t items, Body body) {
  const Job job = submitted_++;
  Slot& s = slot(job);
  s.first = published_.load(std::memory_order_relaxed);
  s.items = std::max<int64_t>(items, 0);
  s.body = std::move(body);
  s.done.store(0, std::memory_order_relaxed);
  if (s.items == 0) return job;  // no tickets: the slot keeps its old, lower end
  const uint64_t end = s.first + static_cast<uint64_t>(s.items);
  s.end.store(end, std::memory_order_relaxed);
  // Publishing makes the slot's fields visible to whoever takes its tickets.
  published_.store(end, std::memory_order_release);
  published_.notify_all();
  return job;
}

// Of the two slots, the job of a published ticket is the one with the
// smallest end above it: the other slot holds the job before (its end is at
// or below the ticket) or, once reused, the job after (a larger end).
WorkPipeline::Slot& WorkPipeline::slot_of_ticket(uint64_t ticket) {
  uint64_t e0 = slots_[0].end.load(std::memory_order_acquire);
  uint64_t e1 = slots_[1].end.load(std::memory_order_acquire);
  if (e0 <= ticket) return slots_[1];
  if (e1 <= ticket) return slots_[0];
  return e0 < e1 ? slots_[0] : slots_[1];
}

void WorkPipeline::run(Slot& s, uint64_t ticket, int thread) {
  const int64_t items = s.items;  // the slot may be reused once the last item is counted
  s.body(static_cast<int64_t>(ticket - s.first), thread);
  if (s.done.fetch_add(1, std::memory_order_acq_rel) + 1 == items) s.done.notify_all();
}

void WorkPipeline::helper(int thread) {
  for (;;) {
    const uint64_t ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
    uint64_t published = published_.load(std::memory_order_acquire);
    while (published != kStopped && ticket >= published) published = await_change(published_, published, spins_);
    if (published == kStopped) return;
    run(slot_of_ticket(ticket), ticket, thread);
  }
}

bool WorkPipeline::help_one(Job job) {
  const Slot& s = slot(job);
  const uint64_t end = s.first + static_cast<uint64_t>(s.items);
  // Tickets up to the job's end only (those of the job before it too): the
  // next job's are not published until the caller submits it.
  for (uint64_t ticket = next_ticket_.load(std::memory_order_relaxed); ticket < end;) {
    if (next_ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_relaxed)) {
      run(slot_of_ticket(ticket), ticket, 0);
      return true;
    }
  }
  return false;
}

void WorkPipeline::help(Job job) {
  while (help_one(job)) {
  }
}

bool WorkPipeline::done(Job job) const {
  const Slot& s = slot(job);
  return s.done.load(std::memory_order_acquire) >= s.items;
}

void WorkPipeline::wait(Job job) {
  help(job);
  Slot& s = slot(job);
  for (int64_t done = s.done.load(std::memory_order_acquire); done < s.items;) {
    done = await_change(s.done, done, spins_);
  }
}

}  // namespace vmc
