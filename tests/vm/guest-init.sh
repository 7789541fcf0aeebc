#!/bin/sh
# /init of the tests/vm initramfs (busybox sh). The same image serves both
# kernels: /proc/vmcore exists only in the capture kernel.
#
# Disks are found by their virtio serial (set by make-dump.sh):
#   vmc-data    read-only, non-zero data read once to fill the page cache
#   vmc-pre     raw: tar stream of the pre-panic files
#   vmc-vmcore  raw: a byte copy of /proc/vmcore
#   vmc-out     ext4: mounted at /out for the collect script
# Settings come from the kernel command line as vmcollect.NAME=VALUE.
# Lines starting with VMCOLLECT- on the console are markers make-dump.sh waits for.

export PATH=/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/local/lib
export HOME=/root TERM=dumb

mkdir -p /proc /sys /dev /tmp /run /out /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

log() { echo "vmcollect-init: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
halt_now() {
  sync
  poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 5
  reboot -f
}
fail() {
  echo "VMCOLLECT-FAIL: $*"
  halt_now
}
param() { # param NAME DEFAULT
  v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^vmcollect\.$1=//p" | tail -n1)
  echo "${v:-$2}"
}

load_modules() {
  for m in $(cat /etc/vmcollect/modules); do
    insmod "/lib/modules/$m" || log "insmod $m failed"
  done
}

find_disk() { # find_disk SERIAL -> /dev/vdX, waiting up to 20 s for it
  i=0
  while [ $i -lt 200 ]; do
    for b in /sys/block/vd*; do
      [ -e "$b/serial" ] || continue
      if [ "$(cat "$b/serial")" = "$1" ]; then
        echo "/dev/${b##*/}"
        return 0
      fi
    done
    i=$((i + 1))
    usleep 100000
  done
  return 1
}

stage_first() {
  echo "VMCOLLECT-STAGE1 $(uname -r) up=$(uptime_s)"
  load_modules
  pre=$(find_disk vmc-pre) || fail "no vmc-pre disk"
  data=$(find_disk vmc-data) || fail "no vmc-data disk"
  mkdir -p /tmp/pre

  pct=$(param workload_pct 35)
  log "workload: ${pct}% of MemTotal"
  rm -f /tmp/workload.ready
  /bin/workload -p "$pct" -r /tmp/workload.ready >/tmp/pre/workload.txt 2>&1 &
  i=0
  while [ ! -e /tmp/workload.ready ]; do
    kill -0 $! 2>/dev/null || { cat /tmp/pre/workload.txt; fail "workload died"; }
    i=$((i + 1))
    [ $i -lt 6000 ] || fail "workload not ready after 600 s"
    usleep 100000
  done
  cat /tmp/pre/workload.txt
  echo "VMCOLLECT-WORKLOAD-READY up=$(uptime_s)"

  # Page cache: the file on the data disk (Cached) and the first 16 MiB of the
  # raw device (Buffers). The mount keeps the device open: the kernel drops a
  # block device's cache on its last close.
  mkdir -p /mnt/data
  mount -t ext4 -o ro,noload "$data" /mnt/data || fail "mount $data"
  log "page cache: reading /mnt/data/cache.bin and 16 MiB of $data"
  cat /mnt/data/cache.bin >/dev/null || fail "reading cache.bin"
  dd if="$data" of=/dev/null bs=1M count=16 2>/dev/null || fail "reading $data"

  ccpus=$(param capture_cpus 1)
  append="console=ttyS0 nr_cpus=$ccpus maxcpus=$ccpus reset_devices irqpoll nousb panic=-1 no_timer_check"
  append="$append vmcollect.wait=$(param wait 0)"
  extra=$(param capture_append "")
  [ -n "$extra" ] && append="$append $(echo "$extra" | tr ',' ' ')"
  log "kexec -p /boot/vmlinuz --append=\"$append\""
  kexec -p /boot/vmlinuz --initrd=/boot/initrd.img --append="$append" ||
    kexec -p -s /boot/vmlinuz --initrd=/boot/initrd.img --append="$append" ||
    fail "kexec -p failed"
  [ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || fail "capture kernel not loaded"
  echo "$append" >/tmp/pre/capture-append

  for f in meminfo vmstat zoneinfo buddyinfo iomem cmdline slabinfo; do
    cat /proc/$f >/tmp/pre/$f 2>/dev/null
  done
  uname -r >/tmp/pre/uname
  # `dmesg -c` as an administrator would: the log up to here is read and
  # cleared, so --partial-dmesg has a mark to start from (clear_seq).
  dmesg -c >/tmp/pre/dmesg
  echo "vmcollect: the kernel log was cleared here" >/dev/kmsg
  echo "--- /proc/meminfo before panic"
  cat /tmp/pre/meminfo
  echo "--- /proc/vmstat before panic (nr_*)"
  grep '^nr_' /tmp/pre/vmstat | tr '\n' ' '
  echo
  tar -cf /tmp/pre.tar -C /tmp/pre . || fail "tar pre-panic"
  dd if=/tmp/pre.tar of="$pre" bs=64k conv=fsync 2>/dev/null || fail "writing $pre"
  sync
  echo "VMCOLLECT-PANIC up=$(uptime_s)"
  echo c >/proc/sysrq-trigger
  fail "still alive after sysrq-c"
}

stage_capture() {
  echo "VMCOLLECT-STAGE2 $(uname -r) up=$(uptime_s)"
  load_modules
  vmdisk=$(find_disk vmc-vmcore) || fail "no vmc-vmcore disk"
  outdisk=$(find_disk vmc-out) || fail "no vmc-out disk"
  mount -t ext4 "$outdisk" /out || fail "mount $outdisk /out"
  rmdir /out/lost+found 2>/dev/null
  times=/out/times
  echo "capture_up $(uptime_s)" >$times
  cat /proc/cmdline >/out/cmdline
  tr ' ' '\n' </proc/cmdline | sed -n 's/^elfcorehdr=//p' >/out/elfcorehdr
  cat /proc/meminfo >/out/meminfo
  cat /proc/iomem >/out/iomem
  nproc >/out/nproc
  log "elfcorehdr=$(cat /out/elfcorehdr)"

  if [ "$(param wait 0)" = 1 ]; then
    # Open the control port before printing the marker: opening a 8250 port
    # clears its FIFO, which would drop a "go" sent in between.
    stty -F /dev/ttyS1 -echo 2>/dev/null
    exec 3</dev/ttyS1
    echo "VMCOLLECT-CAPTURE-READY up=$(uptime_s)"
    if read -r -t 900 go <&3; then log "host said: $go"; else log "no go from host, going on"; fi
    exec 3<&-
    echo "host_go $(uptime_s)" >>$times
  else
    echo "VMCOLLECT-CAPTURE-READY up=$(uptime_s)"
  fi

  size=$(stat -c %s /proc/vmcore)
  echo "$size" >/out/vmcore-size
  log "copying /proc/vmcore ($size bytes) to $vmdisk"
  echo "copy_start $(uptime_s)" >>$times
  dd if=/proc/vmcore of="$vmdisk" bs=1M 2>/out/vmcore-copy.log || fail "copying /proc/vmcore"
  sync
  echo "copy_end $(uptime_s)" >>$times
  echo "VMCOLLECT-VMCORE-SAVED up=$(uptime_s)"

  echo "collect_start $(uptime_s)" >>$times
  (cd /out && OUT=/out VMCORE=/proc/vmcore sh /etc/vmcollect/collect.sh) >/out/collect.log 2>&1
  echo $? >/out/collect.rc
  echo "collect_end $(uptime_s)" >>$times
  log "collect script exit $(cat /out/collect.rc); last lines of its log:"
  tail -n 30 /out/collect.log
  sync
  umount /out || { sync; mount -o remount,ro /out; }
  echo "VMCOLLECT-CAPTURE-DONE up=$(uptime_s)"
  halt_now
}

if [ -e /proc/vmcore ]; then
  stage_capture
else
  stage_first
fi
