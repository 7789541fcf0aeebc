#!/usr/bin/env bash
# Sanitizer stage (issue 9): why it exists. A collector gets one run on a dead
# machine; memory errors and data races must be found here, not there.
# tests/run-all.sh (CI) runs it after the normal tests; see there.
#
#  1. asan: ASan + UBSan (-DVMCOLLECT_ASAN=ON, leaks too) in its own build
#     directory, over every unit test (ctest -L unit): the fuzz corpus replays,
#     and the vmcollect binary as the CLI tests run it, are among them.
#  2. tsan: TSan (-DVMCOLLECT_TSAN=ON) over the threaded tests: the engine's
#     compression pipeline at 1, 2 and 8 threads (tests/collector,
#     tests/collector/engine determinism), the parallel filter pass on the synthetic
#     terabyte machine (tests/collector/engine), --split's writer threads (tests/collector/cli) and
#     the page filter called from several threads (tests/vmcoreinfo). Debian's
#     libomp is not built with TSan, so its barriers and fork/join are
#     invisible to TSan by themselves; libomp's OMPT tool Archer (libarcher.so,
#     in libomp-14-dev) tells TSan about them. ignore_noninstrumented_modules=1
#     keeps reports about the uninstrumented runtime's own internals out.
#
# Both build with clang 14 at -O1 -gline-tables-only (asserts off, as in the
# normal build) and only what their tests run: that keeps the stage to a few
# minutes of CI. (gcc -O2 -g with ASan+UBSan compiled each file 4 times slower
# than this.) With clang, OpenMP is Debian's libomp in both builds.
#
# No suppressions. One third-party report is avoided instead: libomp 14 leaks
# 1440-byte blocks that __kmp_fork_call allocates when a "hot" (reused) thread
# team grows, as in the engine tests going from 2 to 8 threads; a 10-line
# OpenMP program does the same, and gcc's libgomp does not. The asan stage
# runs with KMP_HOT_TEAMS_MAX_LEVEL=0 (no hot teams, same semantics). The
# usual suppression, leak:libomp.so.5, would also hide leaks of ours made
# inside a parallel region: their stacks run through libomp's frames.
#
# Usage: tests/run-sanitizers.sh [asan|tsan]...   (default: both; each stage
# runs even when an earlier one failed, the exit status says if any did)
# Build directories: ${VMCOLLECT_ASAN_BUILD_DIR:-build-asan}, ${VMCOLLECT_TSAN_BUILD_DIR:-build-tsan}.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
((${#stages[@]})) || stages=(asan tsan)
jobs=$(nproc)
llvm=/usr/lib/llvm-14
for f in "$llvm/lib/libarcher.so" "$llvm/bin/llvm-symbolizer"; do
  [[ -e $f ]] || { echo "run-sanitizers: $f missing (bash tests/setup-deps.sh)"; exit 1; }
done
flags="-O1 -gline-tables-only -DNDEBUG"
common=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
        -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$flags"
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$flags"
        -DVMCOLLECT_WERROR=ON -DVMCOLLECT_BENCH=OFF -DVMCOLLECT_VM_TESTS=OFF)
if command -v ccache >/dev/null; then
  common+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
symbolizer=external_symbolizer_path=$llvm/bin/llvm-symbolizer

configure() {  # dir, cmake args...
  local dir=$1
  shift
  # A directory configured with another compiler (gcc, earlier versions of
  # this script) cannot switch in place.
  if [[ -f $dir/CMakeCache.txt ]] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++-14$' "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  cmake -S . -B "$dir" "${common[@]}" "$@" >/dev/null
}

run_asan() {
  local dir=${VMCOLLECT_ASAN_BUILD_DIR:-build-asan}
  configure "$dir" -DVMCOLLECT_ASAN=ON
  cmake --build "$dir" -j"$jobs"
  # detect_leaks: leaks are bugs too; halt_on_error: the first report fails the test.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:$symbolizer \
  KMP_HOT_TEAMS_MAX_LEVEL=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$symbolizer \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" -L unit --timeout 900
}

run_tsan() {
  local dir=${VMCOLLECT_TSAN_BUILD_DIR:-build-tsan}
  configure "$dir" -DVMCOLLECT_TSAN=ON
  cmake --build "$dir" -j"$jobs" --target engine_test cli_test \
    vmcoreinfo_test
  OMP_TOOL_LIBRARIES=$llvm/lib/libarcher.so \
  TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1:$symbolizer" \
    ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$jobs" -L unit --timeout 900 \
      -R '^(Codecs/(KdumpRoundTrip|OfflineSplit)|KdumpWriter|Engine|ElfWriter|Flattened|Kdump/SameBytes|Elf/SameBytes|TibDump\.Engine|PageFilter\.Concurrent|WorkPipeline)'
}

failed=()
for s in "${stages[@]}"; do
  [[ $s == asan || $s == tsan ]] || { echo "run-sanitizers: unknown stage $s (asan, tsan)"; exit 2; }
done
for s in "${stages[@]}"; do
  start=$(date +%s)
  # A subshell outside any `if`, with errexit on inside it, so that the stage
  # stops at its first failing command: a failed configure or build must fail
  # the stage, not go on to run old binaries or none.
  set +e
  (set -e; "run_$s")
  rc=$?
  set -e
  if ((rc == 0)); then
    echo "run-sanitizers: $s stage passed in $(($(date +%s) - start)) s"
  else
    echo "run-sanitizers: $s stage FAILED after $(($(date +%s) - start)) s"
    failed+=("$s")
  fi
done
if ((${#failed[@]})); then
  echo "run-sanitizers: failed: ${failed[*]}"
  exit 1
fi
