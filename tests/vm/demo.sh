#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine (as root), install
# what is needed, build vmcollect, boot Debian's kernel under QEMU, crash it,
# let vmcollect collect the dump inside the capture kernel, and show what came
# out: vmcollect's own log and exit code there, sizes against the raw
# /proc/vmcore, libkdumpfile reading every page back, and the kernel log.
#
# Usage: bash tests/vm/demo.sh [--kernel 6.1|6.12] [--out DIR] [--build DIR]
#   DIR defaults to /var/tmp/vmcollect-demo, the build to build-demo/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kernel=6.1 out=/var/tmp/vmcollect-demo build=$ROOT/build-demo
while (($#)); do
  case $1 in
    --kernel) kernel=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
((EUID == 0)) || { echo "demo: run as root (apt-get, mounts in the guest image)" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t_start=$(date +%s)

step "1/5 packages (tests/setup-deps.sh)"
bash "$ROOT/tests/setup-deps.sh"

step "2/5 building vmcollect in $build"
cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target vmcollect -j"$(nproc)" | tail -n 1
bin=$build/collector/vmcollect
[[ -x $bin ]] || { echo "demo: $bin was not built" >&2; exit 1; }

step "3/5 booting Debian's $kernel kernel under QEMU, crashing it, collecting in the capture kernel"
echo "   (about a minute on 2 cores without KVM; console in $out/console.log)"
bash "$ROOT/tests/vm/make-dump.sh" --kernel "$kernel" --out "$out" --vmcollect "$bin"

step "4/5 what vmcollect did inside the capture kernel ($(cat "$out/kernel-version"))"
cap=$out/capture
for log in "$cap"/vmcollect-*.log; do
  name=$(basename "$log" .log)
  printf '\n-- %s: exit code %s after %s s in the capture kernel\n' \
    "$name" "$(cat "$cap/$name.rc")" "$(cat "$cap/$name.seconds")"
  # The progress lines end in \r: keep the last of them only.
  tr '\r' '\n' <"$log" | grep -v '^Copying data' | grep -v '^$' | sed 's/^/   /'
done
raw_size=$(stat -c %s "$out/vmcore")
printf '\n%-40s %14s %8s\n' "file" "bytes" "of raw"
printf '%-40s %14s %8s\n' "vmcore (raw /proc/vmcore)" "$(printf "%'d" "$raw_size")" "100%"
for dump in "$cap"/vmcore-vmcollect-*; do
  size=$(stat -c %s "$dump")
  printf '%-40s %14s %7s%%\n' "capture/$(basename "$dump")" "$(printf "%'d" "$size")" \
    "$(awk -v a="$size" -v b="$raw_size" 'BEGIN { printf "%.1f", 100 * a / b }')"
done

step "5/5 judged by libkdumpfile, and the kernel log"
status=0
for rc in "$cap"/vmcollect-*.rc; do [[ $(cat "$rc") == 0 ]] || status=1; done
for dump in "$cap"/vmcore-vmcollect-*; do
  /usr/bin/python3 "$ROOT/tests/real_dumps/kdump_judge.py" pages "$dump" "$out/vmcore" || status=1
done
first=$(ls "$cap"/vmcore-vmcollect-* | head -n 1)
"$bin" -f --dump-dmesg "$first" "$out/dmesg.txt" >/dev/null
echo
echo "-- vmcollect --dump-dmesg capture/$(basename "$first") ($(wc -l <"$out/dmesg.txt") lines; all in $out/dmesg.txt):"
head -n 3 "$out/dmesg.txt" | sed 's/^/   /'
echo "   ..."
grep -n -A2 'sysrq: Trigger a crash' "$out/dmesg.txt" | head -n 3 | sed 's/^[0-9]*[:-]/   /'
echo "   ..."
tail -n 3 "$out/dmesg.txt" | sed 's/^/   /'

echo
if ((status == 0)); then
  echo "Demo done in $(($(date +%s) - t_start)) s. Everything is in $out (see tests/vm/README.md)."
  echo "Next: bash tests/run-all.sh runs every test."
else
  echo "Demo: vmcollect failed in the capture kernel or libkdumpfile found a problem (above)." >&2
fi
exit "$status"
