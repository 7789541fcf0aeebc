#include "collector/parallel.h"

#include <unistd.h>

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

void parallel_for_with_side_task(int threads, int64_t n, int64_t grain, const std::function<void()>& side,
                                 const std::function<void(int64_t, int)>& body) {
#ifdef _OPENMP
  if (threads > 1) {
    const int64_t g = grain > 0 ? grain : 1;
#pragma omp parallel num_threads(threads)
    {
#pragma omp single nowait
      side();
#pragma omp for schedule(dynamic, g)
      for (int64_t i = 0; i < n; ++i) body(i, omp_get_thread_num());
    }
    return;
  }
#endif
  (void)grain;
  side();
  for (int64_t i = 0; i < n; ++i) body(i, 0);
}

}  // namespace vmc
