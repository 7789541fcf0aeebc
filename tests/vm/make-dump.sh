#!/usr/bin/env bash
# Boots a Debian kernel under qemu (TCG), fills memory with a known workload,
# panics it and captures /proc/vmcore in the kdump capture kernel.
# See tests/vm/README.md. Writes DIR/ok last, only when everything worked.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

usage() {
  cat <<'EOF'
usage: tests/vm/make-dump.sh --kernel 6.1|6.12 --out DIR [options]
  --mem SIZE              guest RAM, qemu syntax (default 1G; crashkernel=256M is taken from it)
  --smp N                 first kernel's CPUs (default: max(1, capture cpus))
  --capture-cpus N        nr_cpus/maxcpus of the capture kernel (default 1)
  --capture-append ARGS   more capture kernel parameters, space separated, no commas
  --workload-pct P        anonymous workload size in % of MemTotal (default 35)
  --pagecache-mb N        size of the data disk read into the page cache (default 64)
  --vmcollect PATH        put this vmcollect binary (and its libraries) on the capture PATH
  --collect-script FILE   run FILE (busybox sh) in the capture kernel with OUT=/out
                          VMCORE=/proc/vmcore (default tests/vm/capture-collect.sh)
  --extra-bin FILE        copy FILE and its libraries to /usr/local/bin in the image (repeatable)
  --extra-initrd-dir DIR  copy DIR's contents into the image root (repeatable)
  --monitor-socket PATH   expose qemu's human monitor on this unix socket
  --pmemsave FILE         when the capture kernel is up and before it reads /proc/vmcore,
                          save guest-physical memory 0..top of RAM to FILE (VM paused meanwhile)
  --guest-dumps DIR       at WORKLOAD-READY, write QEMU dump-guest-memory dumps of the first
                          kernel to DIR: elf, kdump-zlib, kdump-lzo, kdump-snappy (via the
                          monitor; formats this qemu lacks are left out, with a note)
  --qemu-arg ARG          extra qemu argument (repeatable), e.g. --qemu-arg=-cpu --qemu-arg=max
  --timeout SECONDS       kill qemu after this long (default 900)
  --keep-work             keep DIR/.work (disk images, initrd pointers) for debugging
EOF
}

kernel='' out='' mem=1G smp='' ccpus=1 capture_append='' pct=35 cache_mb=64 vmcollect=''
collect=$HERE/capture-collect.sh timeout=900 monsock='' pmemsave='' keep_work=0 guest_dumps=''
extra_bins=() extra_dirs=() qemu_extra=()
while (($#)); do
  arg=$1
  val=
  if [[ $arg == --*=* ]]; then val=${arg#*=}; arg=${arg%%=*}; set -- "$arg" "$val" "${@:2}"; fi
  case $arg in
    -h | --help) usage; exit 0 ;;
    --keep-work) keep_work=1; shift; continue ;;
  esac
  (($# >= 2)) || { usage >&2; vm_die "$arg needs a value"; }
  val=$2
  case $arg in
    --kernel) kernel=$val ;;
    --out) out=$val ;;
    --mem) mem=$val ;;
    --smp) smp=$val ;;
    --capture-cpus) ccpus=$val ;;
    --capture-append) capture_append=$val ;;
    --workload-pct) pct=$val ;;
    --pagecache-mb) cache_mb=$val ;;
    --vmcollect) vmcollect=$val ;;
    --collect-script) collect=$val ;;
    --extra-bin) extra_bins+=("$val") ;;
    --extra-initrd-dir) extra_dirs+=("$val") ;;
    --monitor-socket) monsock=$val ;;
    --pmemsave) pmemsave=$val ;;
    --guest-dumps) guest_dumps=$val ;;
    --qemu-arg) qemu_extra+=("$val") ;;
    --timeout) timeout=$val ;;
    *) usage >&2; vm_die "unknown option $arg" ;;
  esac
  shift 2
done
[[ -n $kernel && -n $out ]] || { usage >&2; exit 2; }
[[ $capture_append != *,* ]] || vm_die "--capture-append must not contain commas"
[[ -z $vmcollect || -x $vmcollect ]] || vm_die "--vmcollect $vmcollect is not an executable"
[[ -f $collect ]] || vm_die "collect script $collect not found"
for f in "${extra_bins[@]}"; do [[ -x $f ]] || vm_die "--extra-bin $f is not an executable"; done
for d in "${extra_dirs[@]}"; do [[ -d $d ]] || vm_die "--extra-initrd-dir $d is not a directory"; done
vmcollect=${vmcollect:+$(readlink -f "$vmcollect")}
collect=$(readlink -f "$collect")

# Guest RAM in MiB (qemu reads a bare number as MiB).
case ${mem^^} in
  *G) mem_mib=$((${mem%[gG]} * 1024)) ;;
  *M) mem_mib=${mem%[mM]} ;;
  *[0-9]) mem_mib=$mem ;;
  *) vm_die "--mem $mem: use e.g. 1G, 1536M" ;;
esac
((mem_mib >= 768)) || vm_die "--mem must be at least 768M (crashkernel=256M comes out of it)"
[[ -n $smp ]] || smp=$ccpus
((smp >= 1)) || smp=1

vm_need_packages qemu-system-x86 busybox-static kexec-tools cpio xz-utils gcc libc6-dev \
  e2fsprogs kmod
vm_kernel_setup "$kernel"

# ---------------------------------------------------------------- initramfs
# Binaries go in stripped, as a distribution's initramfs holds them: the capture
# kernel unpacks the image into RAM, and debug info would take tens of MiB there.
copy_bin() { # copy_bin SRC DEST-IN-ROOT ROOT: the binary plus what ldd says it loads
  local src=$1 dst=$2 root=$3 lib
  install -D -m 755 -s "$src" "$root$dst"
  while read -r lib; do
    [[ -n $lib && -e $lib ]] || continue
    [[ -e $root$lib ]] || install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
  done < <(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
}

resolve_modules() { # prints module paths (relative to the modules dir) in load order
  local -A seen=()
  local order=() want name line
  add_path() {
    local p=$1 d
    [[ -z ${seen[$p]:-} ]] || return 0
    seen[$p]=1
    for d in $(awk -v k="$p:" '$1 == k {for (i = 2; i <= NF; i++) print $i}' "$VM_MODDIR/modules.dep"); do
      add_path "$d"
    done
    order+=("$p")
  }
  for want in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk \
    crc32c_generic ext4; do
    name=${want//[-_]/[-_]}
    line=$(grep -E "(^|/)${name}\.ko(\.(xz|zst|gz))?:" "$VM_MODDIR/modules.dep" | head -n1 || true)
    if [[ -n $line ]]; then
      add_path "${line%%:*}"
    elif grep -qE "(^|/)${name}\.ko$" "$VM_MODDIR/modules.builtin"; then
      :
    else
      vm_log "note: module $want is neither built in nor in modules.dep; skipped"
    fi
  done
  printf '%s\n' "${order[@]}"
}

build_initrd() { # builds $1/capture.cpio and $1/first.cpio
  local dst=$1 root
  root=$(mktemp -d "$VM_KDIR/stage.XXXXXX")
  mkdir -p "$root"/{bin,sbin,etc/vmcollect,lib/modules,proc,sys,dev,tmp,run,out,root,usr/local/bin}
  copy_bin /bin/busybox /bin/busybox "$root"
  local a
  for a in $(/bin/busybox --list); do
    [[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"
  done
  copy_bin "$(command -v kexec)" /sbin/kexec "$root"
  gcc -static -O2 -Wall -o "$root/bin/workload" "$HERE/workload.c" || vm_die "compiling workload.c"
  install -m 755 "$HERE/guest-init.sh" "$root/init"
  install -m 755 "$collect" "$root/etc/vmcollect/collect.sh"
  [[ -z $vmcollect ]] || copy_bin "$vmcollect" /usr/local/bin/vmcollect "$root"
  local f
  for f in "${extra_bins[@]}"; do copy_bin "$f" "/usr/local/bin/$(basename "$f")" "$root"; done
  local m base
  : >"$root/etc/vmcollect/modules"
  while read -r m; do
    [[ -n $m ]] || continue
    base=$(basename "$m")
    case $m in
      *.ko.xz) xz -dc "$VM_MODDIR/$m" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
      *.ko.zst) zstd -qdc "$VM_MODDIR/$m" >"$root/lib/modules/${base%.zst}"; base=${base%.zst} ;;
      *.ko.gz) gzip -dc "$VM_MODDIR/$m" >"$root/lib/modules/${base%.gz}"; base=${base%.gz} ;;
      *) cp "$VM_MODDIR/$m" "$root/lib/modules/$base" ;;
    esac
    echo "$base" >>"$root/etc/vmcollect/modules"
  done < <(resolve_modules)
  for d in "${extra_dirs[@]}"; do cp -a "$d/." "$root/"; done
  if [[ $(id -u) == 0 ]]; then mknod -m 600 "$root/dev/console" c 5 1; fi
  echo "$VM_KREL" >"$root/etc/vmcollect/kernel-release"
  (cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --quiet) >"$dst/capture.cpio"
  # The first kernel's image: the capture image plus /boot with the capture
  # kernel and a copy of the capture image (cpio archives concatenate).
  local boot
  boot=$(mktemp -d "$VM_KDIR/boot.XXXXXX")
  mkdir -p "$boot/boot"
  cp "$VM_VMLINUZ" "$boot/boot/vmlinuz"
  cp "$dst/capture.cpio" "$boot/boot/initrd.img"
  (cd "$boot" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --quiet) >"$dst/boot.cpio"
  cat "$dst/capture.cpio" "$dst/boot.cpio" >"$dst/first.cpio"
  rm -f "$dst/boot.cpio"
  cp "$root/etc/vmcollect/modules" "$dst/modules"
  rm -rf "$root" "$boot"
}

key=$(vm_hash_inputs "$HERE/make-dump.sh" "$HERE/guest-init.sh" "$HERE/workload.c" "$collect" \
  /bin/busybox "$(command -v kexec)" ${vmcollect:+"$vmcollect"} "${extra_bins[@]}" "${extra_dirs[@]}" \
  "kernel:$VM_KDIR")
INITRD=$VM_KDIR/initrd-$key
if [[ ! -f $INITRD/first.cpio ]]; then
  vm_log "building initramfs $INITRD"
  tmp=$(mktemp -d "$VM_KDIR/initrd-tmp.XXXXXX")
  build_initrd "$tmp"
  mv -T "$tmp" "$INITRD" 2>/dev/null || rm -rf "$tmp" # another job may have won the race
  # keep the 4 newest images of this kernel
  ls -dt "$VM_KDIR"/initrd-[0-9a-f]* 2>/dev/null | tail -n +5 | xargs -r rm -rf || true
fi
touch "$INITRD"
vm_log "kernel $VM_KREL ($VM_KPKG $VM_KVER_PKG), initramfs $INITRD, modules: $(tr '\n' ' ' <"$INITRD/modules")"

# ---------------------------------------------------------------- disks
# The page cache disk: ext4 holding cache.bin (cache_mb MiB of random bytes).
# The guest reads the file (page cache: "Cached") and 16 MiB of the raw device
# (block device cache with buffer heads: "Buffers"), keeping the disk mounted so
# that the kernel does not drop them.
DATA=$VM_CACHE/pagecache-${cache_mb}M.ext4
if [[ ! -f $DATA ]]; then
  dtmp=$(mktemp -d "$VM_CACHE/pagecache.XXXXXX")
  mkdir "$dtmp/d"
  head -c "$((cache_mb << 20))" /dev/urandom >"$dtmp/d/cache.bin"
  truncate -s "$((cache_mb + cache_mb / 8 + 16))M" "$dtmp/img"
  mkfs.ext4 -q -F -O ^has_journal -m 0 -L vmc-data -d "$dtmp/d" "$dtmp/img" ||
    vm_die "mkfs.ext4 of the page cache disk failed"
  mv -f "$dtmp/img" "$DATA"
  rm -rf "$dtmp"
fi

mkdir -p "$out"
out=$(readlink -f "$out")
rm -rf "$out"/{ok,vmcore,pre-panic,capture,console.log,kernel-version,kernel-package,params,timings,.work}
work=$out/.work
mkdir -p "$work"
truncate -s 32M "$work/pre.img"
truncate -s "$((mem_mib + 64))M" "$work/vmcore.img"
truncate -s "$((mem_mib * 3 + 1024))M" "$work/out.img"
mkfs.ext4 -q -F -O ^has_journal -m 0 -E lazy_itable_init=1,nodiscard -L vmc-out "$work/out.img" ||
  vm_die "mkfs.ext4 failed"

# ---------------------------------------------------------------- qemu
# no_timer_check: on a loaded host TCG is too slow for the IO-APIC timer check,
# and the kernel panics at boot ("IO-APIC + timer doesn't work!").
append="console=ttyS0 crashkernel=256M panic=-1 no_timer_check vmcollect.workload_pct=$pct vmcollect.capture_cpus=$ccpus"
[[ -z $pmemsave ]] || append="$append vmcollect.wait=1"
[[ -z $capture_append ]] || append="$append vmcollect.capture_append=${capture_append// /,}"

qemu=(qemu-system-x86_64 -machine "pc,accel=tcg" -m "${mem_mib}M" -smp "$smp" -nodefaults
  -display none -no-reboot
  -kernel "$VM_VMLINUZ" -initrd "$INITRD/first.cpio" -append "$append"
  -serial "file:$out/console.log")
disk() { # disk ID FILE SERIAL [readonly]
  local ro=
  [[ ${4:-} != readonly ]] || ro=,readonly=on
  qemu+=(-drive "if=none,id=$1,file=$2,format=raw,cache=unsafe$ro"
    -device "virtio-blk-pci,drive=$1,serial=$3")
}
disk data "$DATA" vmc-data readonly
disk pre "$work/pre.img" vmc-pre
disk vmcore "$work/vmcore.img" vmc-vmcore
disk out "$work/out.img" vmc-out

bg_pids=()
if [[ -n $pmemsave ]]; then
  pmemsave=$(readlink -f "$pmemsave")
  mkfifo "$work/ctl.in" "$work/ctl.out" "$work/qmp.in" "$work/qmp.out"
  qemu+=(-serial "pipe:$work/ctl" -chardev "pipe,id=qmp,path=$work/qmp" -mon "chardev=qmp,mode=control")
  cat "$work/qmp.out" >"$work/qmp.log" &
  bg_pids+=($!)
  cat "$work/ctl.out" >/dev/null &
  bg_pids+=($!)
fi
[[ -z $guest_dumps || -n $monsock ]] || monsock=$work/mon.sock
if [[ -n $monsock ]]; then
  rm -f "$monsock"
  qemu+=(-chardev "socket,id=usermon,path=$monsock,server=on,wait=off" -mon "chardev=usermon,mode=readline")
fi
qemu+=("${qemu_extra[@]}")

# Top of guest-physical RAM for pmemsave: qemu's pc machine puts RAM beyond
# 3 GiB above 4 GiB once it has 3.5 GiB or more.
if ((mem_mib >= 3584)); then top_mib=$((4096 + mem_mib - 3072)); else top_mib=$mem_mib; fi

printf '%s\n' "kernel=$kernel" "kernel_release=$VM_KREL" "kernel_package=$VM_KPKG" \
  "kernel_package_version=$VM_KVER_PKG" "mem_mib=$mem_mib" "smp=$smp" "capture_cpus=$ccpus" \
  "workload_pct=$pct" "pagecache_mb=$cache_mb" "vmcollect=${vmcollect:-}" "collect_script=$collect" \
  "append=$append" "pmemsave=${pmemsave:-}" "pmemsave_bytes=$((top_mib << 20))" \
  "initramfs=$INITRD" >"$out/params"
printf '%q ' "${qemu[@]}" >"$work/qemu-cmdline"
echo >>"$work/qemu-cmdline"

cleanup() {
  local p
  [[ -z ${qpid:-} ]] || kill "$qpid" 2>/dev/null || true
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

fail_console() {
  echo "[vm] ERROR: $* (kernel $kernel, see $out/console.log)" >&2
  if [[ -f $out/console.log ]]; then
    echo "---- last 40 lines of $out/console.log" >&2
    tail -n 40 "$out/console.log" | tr -d '\r' >&2
  fi
  [[ ! -s $work/qemu.out ]] || { echo "---- qemu said:" >&2; cat "$work/qemu.out" >&2; }
  exit 1
}

do_pmemsave() {
  # QMP, because HMP's pmemsave takes a 32-bit size.
  vm_log "pmemsave: saving ${top_mib}M of guest-physical memory to $pmemsave"
  rm -f "$pmemsave"
  printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"stop"}' \
    "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":0,\"size\":$((top_mib << 20)),\"filename\":\"$pmemsave\"}}" \
    >"$work/qmp.in"
  local i=0
  until (($(grep -ac '"return"' "$work/qmp.log") >= 3)); do
    grep -aq '"error"' "$work/qmp.log" && fail_console "pmemsave: $(grep -a '"error"' "$work/qmp.log")"
    sleep 0.5
    ((++i < 1200)) || fail_console "pmemsave did not finish"
  done
  printf '%s\n' '{"execute":"cont"}' >"$work/qmp.in"
  printf 'go\n' >"$work/ctl.in"
  local got
  got=$(stat -c %s "$pmemsave" 2>/dev/null || echo 0)
  ((got == top_mib << 20)) || fail_console "pmemsave wrote $got bytes, not $((top_mib << 20))"
  vm_log "pmemsave done: $got bytes"
}

# QEMU's own dumps of the running first kernel, through the human monitor
# (dump-guest-memory is synchronous there: the VM is paused while it writes).
do_guest_dumps() {
  mkdir -p "$guest_dumps"
  local d
  d=$(readlink -f "$guest_dumps")
  rm -f "$d"/{elf,kdump-zlib,kdump-lzo,kdump-snappy}
  vm_log "guest dumps: dump-guest-memory to $d"
  /usr/bin/python3 - "$monsock" "dump-guest-memory $d/elf" "dump-guest-memory -z $d/kdump-zlib" \
    "dump-guest-memory -l $d/kdump-lzo" "dump-guest-memory -s $d/kdump-snappy" <<'PY' ||
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        data = s.recv(65536)
        if not data:
            sys.exit("the monitor closed")
        buf += data
    return buf.decode(errors="replace")
prompt()
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\n")
    out = prompt()
    if "is not available" in out:  # a codec this qemu build lacks (Debian 12: lzo, snappy)
        print(cmd + ": " + out.strip().splitlines()[-2 if len(out.strip().splitlines()) > 1 else -1])
        continue
    if "rror" in out:
        sys.exit(cmd + ": " + out)
PY
    fail_console "dump-guest-memory failed"
  vm_log "guest dumps done: $(cd "$d" && du -sh -- * | tr '\n\t' '  ')"
}

vm_log "booting $VM_KREL with ${mem_mib}M under TCG (timeout ${timeout}s)"
start=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $start" | awk '{printf "%.1f", $1 - $2}'; }
: >"$out/console.log"
timeout -k 15 "$timeout" "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!
markers=(STAGE1 WORKLOAD-READY PANIC STAGE2 CAPTURE-READY VMCORE-SAVED CAPTURE-DONE)
declare -A seen=()
pmem_done=0 guest_dumps_done=0
: >"$out/timings"
while kill -0 "$qpid" 2>/dev/null; do
  for m in "${markers[@]}"; do
    if [[ -z ${seen[$m]:-} ]] && grep -aq "^VMCOLLECT-$m" "$out/console.log"; then
      seen[$m]=$(elapsed)
      echo "$m ${seen[$m]}" >>"$out/timings"
      vm_log "$m at ${seen[$m]} s"
    fi
  done
  if [[ -n $pmemsave && $pmem_done == 0 && -n ${seen[CAPTURE-READY]:-} ]]; then
    do_pmemsave
    pmem_done=1
  fi
  if [[ -n $guest_dumps && $guest_dumps_done == 0 && -n ${seen[WORKLOAD-READY]:-} ]]; then
    do_guest_dumps
    guest_dumps_done=1
  fi
  sleep 0.5
done
rc=0
wait "$qpid" || rc=$?
qpid=
total=$(elapsed)
for m in "${markers[@]}"; do # markers printed after the last poll
  if [[ -z ${seen[$m]:-} ]] && grep -aq "^VMCOLLECT-$m" "$out/console.log"; then
    seen[$m]=$total
    echo "$m $total" >>"$out/timings"
  fi
done
echo "qemu-exit $total" >>"$out/timings"
vm_log "qemu exited with $rc after $total s"
tr -d '\r' <"$out/console.log" >"$out/console.log.tmp" && mv "$out/console.log.tmp" "$out/console.log"

((rc != 124 && rc != 137)) || fail_console "timed out after ${timeout}s"
if grep -aq '^VMCOLLECT-FAIL' "$out/console.log"; then
  fail_console "guest reported: $(grep -a '^VMCOLLECT-FAIL' "$out/console.log" | head -n1)"
fi
grep -aq '^VMCOLLECT-CAPTURE-DONE' "$out/console.log" ||
  fail_console "the capture kernel did not finish (qemu exit $rc)"
[[ -z $pmemsave || $pmem_done == 1 ]] || fail_console "pmemsave was not done"

# ---------------------------------------------------------------- results
mkdir -p "$out/pre-panic" "$out/capture"
tar -xf "$work/pre.img" -C "$out/pre-panic" || fail_console "no pre-panic tar on the results disk"
debugfs -R "rdump / $out/capture" "$work/out.img" >/dev/null 2>"$work/debugfs.err" ||
  fail_console "debugfs rdump failed: $(cat "$work/debugfs.err")"
rm -rf "$out/capture/lost+found"
for f in meminfo vmstat zoneinfo buddyinfo iomem cmdline uname; do
  [[ -s $out/pre-panic/$f ]] || fail_console "pre-panic/$f missing"
done
size=$(cat "$out/capture/vmcore-size" 2>/dev/null || true)
[[ $size =~ ^[0-9]+$ && $size -gt 0 ]] || fail_console "capture/vmcore-size missing"
((size <= (mem_mib + 64) << 20)) || fail_console "vmcore ($size bytes) larger than its disk"
truncate -s "$size" "$work/vmcore.img"
mv "$work/vmcore.img" "$out/vmcore"
[[ $(head -c 4 "$out/vmcore" | od -An -c | tr -d ' ') == '177ELF' ]] || fail_console "vmcore is not ELF"
tr -d '\n' <"$out/pre-panic/uname" >"$out/kernel-version"
echo >>"$out/kernel-version"
echo "$VM_KPKG $VM_KVER_PKG" >"$out/kernel-package"
[[ $keep_work == 1 ]] || rm -rf "$work"
vm_sparsify "$out/vmcore" ${pmemsave:+"$pmemsave"} ${guest_dumps:+"$guest_dumps"/*}
touch "$out/ok"
vm_log "done: $out (vmcore $size bytes, $(cat "$out/kernel-version"), ${total}s)"
