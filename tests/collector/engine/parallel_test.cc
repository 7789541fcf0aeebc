// The engine's WorkPipeline: every item of every job runs once, on a thread
// of the pipeline, and jobs flow into each other without a barrier. These
// tests also run under TSan (tests/run-sanitizers.sh).
#include "collector/engine/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace vmc {
namespace {

// Runs `jobs` jobs of varying sizes (some empty) through a pipeline of
// `threads`, the way the engine does: submit the next, wait for the one
// before, and checks each item ran exactly once on a valid thread.
void run_jobs(int threads, int jobs) {
  std::vector<std::vector<std::atomic<int>>> runs;
  runs.reserve(static_cast<size_t>(jobs));
  for (int j = 0; j < jobs; ++j) runs.emplace_back(static_cast<size_t>((j * 7) % 23));
  std::atomic<int> bad_thread{0};
  WorkPipeline pipeline(threads);  // declared last: it waits for its jobs before they go
  WorkPipeline::Job previous = 0;
  for (int j = 0; j < jobs; ++j) {
    auto& counts = runs[static_cast<size_t>(j)];
    auto body = [&counts, &bad_thread, threads](int64_t i, int t) {
      if (t < 0 || t >= threads) bad_thread.fetch_add(1);
      counts[static_cast<size_t>(i)].fetch_add(1);
    };
    WorkPipeline::Job job = pipeline.submit(static_cast<int64_t>(counts.size()), body);
    if (j > 0) {
      pipeline.wait(previous);
      for (auto& c : runs[static_cast<size_t>(j - 1)]) ASSERT_EQ(c.load(), 1) << "job " << j - 1;
    }
    previous = job;
  }
  pipeline.wait(previous);
  for (int j = 0; j < jobs; ++j) {
    for (auto& c : runs[static_cast<size_t>(j)]) EXPECT_EQ(c.load(), 1) << "job " << j;
  }
  EXPECT_EQ(bad_thread.load(), 0);
}

TEST(WorkPipeline, EveryItemOnceAtOneTwoAndEightThreads) {
  for (int threads : {1, 2, 8}) {
    SCOPED_TRACE(threads);
    run_jobs(threads, 300);
  }
}

TEST(WorkPipeline, HelpOneTakesItemsUntilNoneAreLeft) {
  WorkPipeline pipeline(1);  // no helpers: the caller runs everything
  std::vector<int> ran(5, 0);
  auto job = pipeline.submit(5, [&](int64_t i, int t) {
    EXPECT_EQ(t, 0);
    ran[static_cast<size_t>(i)]++;
  });
  int taken = 0;
  while (pipeline.help_one(job)) ++taken;
  EXPECT_EQ(taken, 5);
  EXPECT_TRUE(pipeline.done(job));
  EXPECT_EQ(ran, std::vector<int>(5, 1));
}

// An item of the first job waits for an item of the second: only a pipeline
// that lets a thread go on to the next job before the first is finished
// gets through.
TEST(WorkPipeline, ANewJobStartsWhileTheOneBeforeIsStillRunning) {
  WorkPipeline pipeline(2);
  std::atomic<int> second_ran{0};
  auto first = pipeline.submit(1, [&](int64_t, int) {
    for (int seen = second_ran.load(); seen == 0; seen = second_ran.load()) second_ran.wait(seen);
  });
  auto second = pipeline.submit(1, [&](int64_t, int) {
    second_ran.store(1);
    second_ran.notify_all();
  });
  // Waiting for the second job first: the caller may take either item, and
  // whichever thread holds the first one waits for the other thread.
  pipeline.wait(second);
  pipeline.wait(first);
  EXPECT_EQ(second_ran.load(), 1);
}

TEST(WorkPipeline, DestructorFinishesWhatWasSubmitted) {
  std::atomic<int> ran{0};
  {
    WorkPipeline pipeline(2);
    pipeline.submit(50, [&](int64_t, int) { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(WorkPipeline, EmptyJobsAreDoneAtOnce) {
  WorkPipeline pipeline(2);
  auto a = pipeline.submit(0, [](int64_t, int) { ADD_FAILURE(); });
  EXPECT_TRUE(pipeline.done(a));
  pipeline.wait(a);
  std::atomic<int> ran{0};
  auto b = pipeline.submit(3, [&](int64_t, int) { ran.fetch_add(1); });
  pipeline.wait(b);
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace vmc
