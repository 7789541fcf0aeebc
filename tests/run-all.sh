#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: unit tests, and the
# real-kernel tests that boot Debian's 6.1 and 6.12 kernels under QEMU, crash
# them and judge vmcollect's output with libkdumpfile, crash and makedumpfile;
# then the sanitizer stage. CI runs this with no arguments (.ci/run).
#
# Usage: tests/run-all.sh [ctest args...]   (e.g. -L unit, -LE vm)
#
# Stages:
#  1. the normal build in ${VMCOLLECT_BUILD_DIR:-build}, then ctest [args...]
#  2. tests/run-sanitizers.sh: ASan+UBSan over the unit tests and TSan over the
#     threaded ones, each in its own build directory (build-asan, build-tsan);
#     about 10 minutes on a 2-CPU machine. VMCOLLECT_SANITIZERS decides:
#       unset or auto  run it only when no ctest args were given (a full run,
#                      as CI's), so that e.g. `tests/run-all.sh -L unit` stays quick
#       0              never
#       1              always, whatever the args
# A failing build stops the run. A stage whose tests fail does not stop the
# next one; the exit status is non-zero when any stage failed.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=${VMCOLLECT_SANITIZERS:-auto}
case $sanitizers in
  auto) (($#)) && sanitizers=0 || sanitizers=1 ;;
  0 | 1) ;;
  *) echo "run-all: VMCOLLECT_SANITIZERS must be auto, 0 or 1 (not '$sanitizers')"; exit 2 ;;
esac
bash tests/setup-deps.sh
build=${VMCOLLECT_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMCOLLECT_WERROR=ON \
  -DVMCOLLECT_VM_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

# A whole run peaks at about 8 GiB on disk beside the source (dumps, images,
# outputs being judged; measured 2026-11-30), plus 2.4 GiB of kernel packages
# in /var/tmp/vmcollect-vm. CI's disk is not sized by us: say how much there
# was, and the least that was left, so that a "No space left on device" in a
# test's log is read for what it is.
free_mib() { df -B1M --output=avail "$build" | tail -n1 | tr -d ' '; }
free_before=$(free_mib)
echo "run-all: $free_before MiB free on the build's disk before ctest"
least_free=$build/least-free-mib
echo "$free_before" >"$least_free"
(least=$free_before
while sleep 3; do
  now=$(free_mib)
  if ((now < least)); then least=$now; echo "$least" >"$least_free"; fi
done) &
watcher=$!
failed=()
(cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 1800 "$@") || failed+=(ctest)
kill "$watcher" 2>/dev/null || true
disk_note="least free space on the build's disk during ctest: $(cat "$least_free") MiB"
echo "run-all: $disk_note"
if ((sanitizers)); then
  bash tests/run-sanitizers.sh || failed+=(sanitizers)
fi
if ((${#failed[@]})); then
  echo "run-all: FAILED: ${failed[*]} ($disk_note)"
  exit 1
fi
echo "run-all: all stages passed"
