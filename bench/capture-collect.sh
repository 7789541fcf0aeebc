#!/bin/sh
# Collect script for the capture-kernel benchmark (bench/capture-run.sh passes
# it to tests/vm/make-dump.sh --collect-script). Runs in the capture kernel
# (busybox sh, crashkernel=256M) with OUT=/out and VMCORE=/proc/vmcore: the
# point is what a real kdump does, so vmcollect reads /proc/vmcore itself and
# writes to disk, once per configuration, and reports its own peak RSS
# (--message-level 23: common + errors + progress + report). makedumpfile
# runs with the same flags when the image has it (--extra-bin).
# A second vmcollect build named vmcollect-base (--extra-bin) runs the same
# flags right after, for an A/B in one boot.
# Results: $OUT/<name>.{log,rc,seconds,durable} and the dumps $OUT/vmcore-<name>:
# .seconds until the tool exits, .durable until a sync after it returns. The
# second is what a kdump script waits for before it reboots: vmcollect fsyncs
# its output before it exits, makedumpfile leaves it to the sync.

run() { # run NAME CMD...
  name=$1
  shift
  echo "+ $*"
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
  t0=$(cut -d' ' -f1 /proc/uptime)
  "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  sync
  t2=$(cut -d' ' -f1 /proc/uptime)
  echo "$rc" >"$OUT/$name.rc"
  echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}' >"$OUT/$name.seconds"
  echo "$t0 $t2" | awk '{printf "%.2f\n", $2 - $1}' >"$OUT/$name.durable"
  echo "  exit $rc after $(cat "$OUT/$name.seconds") s, on disk after $(cat "$OUT/$name.durable") s"
  grep -E "Peak RSS|Write bytes" "$OUT/$name.log"
  tail -n 2 "$OUT/$name.log"
}

echo "nproc: $(nproc)"
grep -E "MemTotal|MemFree|MemAvailable" /proc/meminfo
for flags in "-l -d 31" "-c -d 31" "-z -d 31"; do
  tag=$(echo "$flags" | tr -d ' -')
  run "vmcollect-$tag" vmcollect $flags --message-level 23 "$VMCORE" "$OUT/vmcore-vmcollect-$tag"
  if command -v vmcollect-base >/dev/null 2>&1; then
    run "vmcollect-base-$tag" vmcollect-base $flags --message-level 23 "$VMCORE" \
      "$OUT/vmcore-vmcollect-base-$tag"
  fi
done
# /proc/vmcore read() into the reused buffers (--non-mmap) instead of mapped.
run vmcollect-ld31-nonmmap vmcollect -l -d 31 --non-mmap --message-level 23 "$VMCORE" \
  "$OUT/vmcore-vmcollect-ld31-nonmmap"
if command -v makedumpfile >/dev/null 2>&1; then
  run makedumpfile-ld31 makedumpfile -l -d 31 --message-level 23 "$VMCORE" "$OUT/vmcore-makedumpfile-ld31"
fi
ls -l "$OUT"
exit 0
