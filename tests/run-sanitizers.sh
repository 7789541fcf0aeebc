#!/usr/bin/env bash
# Sanitizer stage (issue 9): why it exists. A collector gets one run on a dead
# machine; memory errors and data races must be found here, not there.
#
#  1. ASan + UBSan (gcc, -DVMCOLLECT_ASAN=ON) in its own build directory: every
#     unit test (ctest -L unit), the fuzz corpus replays among them.
#  2. TSan (clang 14 + Debian's libomp, -DVMCOLLECT_TSAN=ON) over the threaded
#     engine tests (tests/collector, tests/faults determinism). Debian's libomp
#     is not built with TSan, so its barriers and fork/join are invisible to
#     TSan by themselves; libomp's OMPT tool Archer (libarcher.so, shipped in
#     libomp-14-dev) tells TSan about them. ignore_noninstrumented_modules=1
#     keeps reports about the uninstrumented runtime's own internals out.
#
# Usage: tests/run-sanitizers.sh [asan|tsan]...   (default: both)
# Build directories: ${VMCOLLECT_ASAN_BUILD_DIR:-build-asan}, ${VMCOLLECT_TSAN_BUILD_DIR:-build-tsan}.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
((${#stages[@]})) || stages=(asan tsan)
jobs=$(nproc)
common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMCOLLECT_WERROR=ON -DVMCOLLECT_BENCH=OFF
        -DVMCOLLECT_VM_TESTS=OFF)
if command -v ccache >/dev/null; then
  common+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

run_asan() {
  local dir=${VMCOLLECT_ASAN_BUILD_DIR:-build-asan}
  cmake -S . -B "$dir" "${common[@]}" -DVMCOLLECT_ASAN=ON >/dev/null
  cmake --build "$dir" -j"$jobs"
  # detect_leaks: leaks are bugs too; halt_on_error: the first report fails the test.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -L unit --timeout 900
}

run_tsan() {
  local dir=${VMCOLLECT_TSAN_BUILD_DIR:-build-tsan}
  local archer=/usr/lib/llvm-14/lib/libarcher.so
  [[ -f $archer ]] || { echo "run-sanitizers: $archer missing (libomp-14-dev)"; exit 1; }
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" "${common[@]}" -DVMCOLLECT_TSAN=ON >/dev/null
  cmake --build "$dir" -j"$jobs" --target collector_test determinism_test
  OMP_TOOL_LIBRARIES=$archer \
  TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1" \
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -L unit --timeout 900 \
      -R '^(Codecs/KdumpRoundTrip|KdumpWriter|Engine|ElfWriter|Flattened|Kdump/SameBytes|Elf/SameBytes)'
}

for s in "${stages[@]}"; do
  start=$(date +%s)
  case $s in
    asan) run_asan ;;
    tsan) run_tsan ;;
    *) echo "run-sanitizers: unknown stage $s (asan, tsan)"; exit 2 ;;
  esac
  echo "run-sanitizers: $s stage passed in $(( $(date +%s) - start )) s"
done
