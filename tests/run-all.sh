#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: unit tests, and the
# real-kernel tests that boot Debian's 6.1 and 6.12 kernels under QEMU, crash
# them and judge vmcollect's output with libkdumpfile, crash and makedumpfile.
# Usage: tests/run-all.sh [ctest args...]   (e.g. -L unit, -LE vm)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup-deps.sh
build=${VMCOLLECT_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMCOLLECT_WERROR=ON \
  -DVMCOLLECT_VM_TESTS=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 1800 "$@"
