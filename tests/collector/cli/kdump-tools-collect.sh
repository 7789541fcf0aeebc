#!/bin/sh
# Collect script for the kdump-tools judge (tests/collector/cli/kdump-tools-dump.sh):
# runs in the capture kernel (busybox sh) with OUT=/out. Installs vmcollect
# under the name makedumpfile the way the vmcollect package does
# (/usr/bin/makedumpfile -> /etc/alternatives/makedumpfile -> /usr/sbin/vmcollect,
# and the same for vmcore-dmesg), then runs Debian's unmodified
# `kdump-config savecore` under dash, as kdump-tools-dump.service would.
# /var/crash (KDUMP_COREDIR's default) is a link into $OUT so that the
# results come out of the VM.
echo "+ installing vmcollect as makedumpfile"
mkdir -p /usr/bin /usr/sbin /etc/alternatives /var/lib/kdump "$OUT/crash"
ln -sf /usr/local/bin/vmcollect /usr/sbin/vmcollect
for name in makedumpfile vmcore-dmesg; do
  ln -sf /usr/sbin/vmcollect /etc/alternatives/$name
  ln -sf /etc/alternatives/$name /usr/bin/$name
done
rm -rf /var/crash
ln -s "$OUT/crash" /var/crash
PATH=/bin:/usr/bin:/sbin:/usr/sbin command -v makedumpfile
makedumpfile -v >"$OUT/makedumpfile-v.txt" 2>&1

echo "+ kdump-config savecore"
t0=$(cut -d' ' -f1 /proc/uptime)
/usr/local/bin/dash /usr/sbin/kdump-config savecore >"$OUT/kdump-config.log" 2>&1
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
echo "$rc" >"$OUT/kdump-config.rc"
echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}' >"$OUT/kdump-config.seconds"
echo "  exit $rc after $(cat "$OUT/kdump-config.seconds") s"
cat "$OUT/kdump-config.log"
ls -lR "$OUT/crash"
exit 0
