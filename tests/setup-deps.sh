#!/usr/bin/env bash
# Installs everything vmcollect needs to build, test and make real dumps on a
# fresh Debian 12 machine. Idempotent and quick when all is present.
set -euo pipefail
packages=(
  # build
  cmake g++ make pkg-config libelf-dev zlib1g-dev liblzo2-dev libzstd-dev libsnappy-dev
  libgtest-dev libgmock-dev libbenchmark-dev libomp-dev
  # real dumps under QEMU (tests/vm)
  qemu-system-x86 busybox-static kexec-tools cpio xz-utils gzip libc6-dev
  # independent readers that judge our output
  makedumpfile crash python3 python3-libkdumpfile python3-drgn file
  # sanitizer stage (tests/run-sanitizers.sh): clang 14 and its sanitizer
  # runtimes, libomp with its TSan tool Archer, llvm-symbolizer for the stacks
  clang-14 libclang-rt-14-dev libomp-14-dev llvm-14
  # packaging test (tests/collector/cli/package.sh: cpack's DEB generator runs dpkg-shlibdeps)
  dpkg-dev
  # benchmarks (bench/compare.sh, bench/tib.sh: /usr/bin/time for peak RSS)
  hyperfine time
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
