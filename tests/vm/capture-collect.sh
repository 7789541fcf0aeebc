#!/bin/sh
# Default collect script, run by the capture kernel's /init (busybox sh, not
# bash) with OUT=/out (an ext4 disk; everything written here ends up in
# DIR/capture/) and VMCORE=/proc/vmcore. Its stdout/stderr go to
# $OUT/collect.log and its exit status to $OUT/collect.rc. Failures of the
# tools are recorded, never fatal: the raw vmcore is already saved.

run() { # run NAME CMD...: output in $OUT/NAME.log, exit code in $OUT/NAME.rc
  name=$1
  shift
  echo "+ $*"
  t0=$(cut -d' ' -f1 /proc/uptime)
  "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  echo "$rc" >"$OUT/$name.rc"
  echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}' >"$OUT/$name.seconds"
  echo "  exit $rc after $(cat "$OUT/$name.seconds") s"
  tail -n 5 "$OUT/$name.log"
}

if command -v vmcollect >/dev/null 2>&1; then
  # As kdump does: the kernel log first (small, and most of the story), then
  # the dump. tests/real_dumps/vm_dmesg_cli.py checks it equals vmcore-dmesg on the raw vmcore.
  run vmcollect-dmesg vmcollect --dump-dmesg "$VMCORE" "$OUT/vmcore-dmesg.txt"
  run vmcollect-l-d1 vmcollect -l --message-level 7 -d 1 "$VMCORE" "$OUT/vmcore-vmcollect-l-d1"
  run vmcollect-c-d1 vmcollect -c -d 1 "$VMCORE" "$OUT/vmcore-vmcollect-c-d1"
  ls -l "$OUT"
else
  echo "vmcollect is not in this image: nothing to collect"
fi
exit 0
