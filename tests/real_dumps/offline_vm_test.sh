#!/usr/bin/env bash
# Offline work on a real dump (issue 6), judged by libkdumpfile and makedumpfile:
#   roundtrip  ELF -> kdump(zstd) -> flattened(lzo) -> kdump(zlib, -d 17) -> ELF(-d 31),
#              every page of every step equal to the raw vmcore (libkdumpfile;
#              the flattened step rebuilt by makedumpfile -R), the kernel log
#              and the page statistics read from every input kind.
#   makedumpfile  Debian makedumpfile -d 1 dumps (-c, -l, uncompressed) re-filtered
#              to -d 31 by vmcollect hold the pfn set of makedumpfile's own
#              re-filtering; a lower level is raised to the input's, as makedumpfile does.
#   split      --split 2 then --reassemble equals the unsplit dump in pages;
#              makedumpfile --reassemble of our set too; crash reads the set;
#              broken sets are errors.
#   qemu       QEMU dump-guest-memory dumps of the running first kernel (DIR/guest-dumps,
#              from make-dump.sh --guest-dumps; exit 77 = skipped without them): read with
#              -i, re-filtered, pages checked by libkdumpfile against QEMU's own dump.
# Usage: offline_vm_test.sh VMCOLLECT JUDGE PART...   (PART: roundtrip makedumpfile split qemu)
# Environment: VMCOLLECT_VM_DIR (a make-dump.sh output), VMCOLLECT_VM_KERNEL.
set -euo pipefail
VMC=$1 JUDGE=$2
shift 2
DIR=${VMCOLLECT_VM_DIR:?VMCOLLECT_VM_DIR must name a make-dump.sh output}
RAW=$DIR/vmcore
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/vmc-offline.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }
# run NAME CMD...: runs CMD with its output in $WORK/NAME.log, says how long it took.
run() {
  local name=$1 start rc=0
  shift
  start=$(date +%s.%N)
  "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  printf '%-28s rc=%d %6.1fs\n' "$name" "$rc" "$(echo "$(date +%s.%N) $start" | awk '{print $1 - $2}')"
  return $rc
}
must() { run "$@" || { fail "$1 failed:"; tail -20 "$WORK/$1.log"; }; }
judge() { local out; out=$($PY "$JUDGE" "$@" 2>&1) && say "  judge $1: $out" || fail "judge $*: $out"; }
# must_fail NAME PATTERN CMD...: CMD fails and says PATTERN.
must_fail() {
  local name=$1 pattern=$2
  shift 2
  if run "$name" "$@"; then fail "$name succeeded, expected an error"; return; fi
  grep -qiE "$pattern" "$WORK/$name.log" || { fail "$name: no '$pattern' in:"; cat "$WORK/$name.log"; }
}
original_pages() { grep -m1 'Original pages' "$WORK/$1.log" | awk '{print $NF}'; }

REF_DMESG=$WORK/raw.dmesg
must dmesg-raw "$VMC" --dump-dmesg "$RAW" "$REF_DMESG"
# dmesg_same NAME INPUT: --dump-dmesg of INPUT equals the raw vmcore's.
dmesg_same() {
  must "dmesg-$1" "$VMC" --dump-dmesg "$2" "$WORK/$1.dmesg" || return 0
  cmp -s "$REF_DMESG" "$WORK/$1.dmesg" || fail "kernel log of $2 differs from the raw vmcore's"
}

part_roundtrip() {
  say "== round trip ELF -> kdump -> flattened -> kdump -> ELF"
  must rt-1-kdump "$VMC" --message-level 31 -z -d 1 "$RAW" "$WORK/rt1.kdump"
  judge pages "$WORK/rt1.kdump" "$RAW"
  must rt-2-flat sh -c "'$VMC' --message-level 31 -F -l -d 1 '$WORK/rt1.kdump' > '$WORK/rt2.flat'"
  must rt-2-rearrange sh -c "makedumpfile -R '$WORK/rt2.re' < '$WORK/rt2.flat'"
  judge pages "$WORK/rt2.re" "$RAW"
  judge same-set "$WORK/rt1.kdump" "$WORK/rt2.re"
  must rt-3-kdump "$VMC" --message-level 31 -c -d 17 "$WORK/rt2.flat" "$WORK/rt3.kdump"
  judge pages "$WORK/rt3.kdump" "$RAW"
  judge subset "$WORK/rt3.kdump" "$WORK/rt1.kdump"
  must rt-4-elf "$VMC" --message-level 31 -E -d 31 "$WORK/rt3.kdump" "$WORK/rt4.elf"
  judge pages "$WORK/rt4.elf" "$RAW"
  judge subset "$WORK/rt4.elf" "$WORK/rt3.kdump"
  # The ELF output, read back and written again at its own level: the same pages.
  must rt-5-kdump "$VMC" --message-level 31 -p -d 31 "$WORK/rt4.elf" "$WORK/rt5.kdump"
  judge same-set "$WORK/rt5.kdump" "$WORK/rt4.elf"
  # A -d 17 input asked for -d 1: raised to 17, as makedumpfile does.
  grep -q "dump_level is changed to 17" "$WORK/rt-2-flat.log" && fail "rt-2 should keep level 1" || true
  grep -q "dump_level is changed to 31" "$WORK/rt-4-elf.log" && fail "rt-4 asked 31 already" || true
  must rt-lower "$VMC" --message-level 31 -l -d 1 "$WORK/rt3.kdump" "$WORK/rt-lower.kdump"
  grep -q "dump_level is changed to 17" "$WORK/rt-lower.log" || fail "re-filtering a -d 17 dump at -d 1 did not say the level became 17"
  judge same-set "$WORK/rt-lower.kdump" "$WORK/rt3.kdump"
  # Statistics: every input kind sees the same RAM.
  local want; want=$(original_pages rt-1-kdump)
  for n in rt-2-flat rt-3-kdump rt-4-elf; do
    [[ $(original_pages $n) == "$want" ]] || fail "$n: Original pages $(original_pages $n), the raw vmcore has $want"
  done
  # The kernel log from every input kind (VMCOREINFO and notes carried over).
  dmesg_same kdump "$WORK/rt1.kdump"
  dmesg_same flat "$WORK/rt2.flat"
  dmesg_same kdump-zlib "$WORK/rt3.kdump"
  dmesg_same elf "$WORK/rt4.elf"
  rm -f "$WORK"/rt*.kdump "$WORK"/rt*.flat "$WORK"/rt*.re "$WORK"/rt*.elf
}

part_makedumpfile() {
  say "== makedumpfile -d 1 dumps re-filtered to -d 31"
  local c name
  for c in -c -l none; do
    name=md${c#-}
    local opt=(); [[ $c == none ]] || opt=("$c")
    must "$name-d1" makedumpfile "${opt[@]}" -d 1 "$RAW" "$WORK/$name.d1"
    must "$name-md31" makedumpfile "${opt[@]}" -d 31 "$WORK/$name.d1" "$WORK/$name.md31"
    must "$name-vmc31" "$VMC" --message-level 31 "${opt[@]}" -d 31 "$WORK/$name.d1" "$WORK/$name.vmc31"
    judge same-set "$WORK/$name.vmc31" "$WORK/$name.md31"
    rm -f "$WORK/$name.md31"
    [[ $c == -l ]] && judge pages "$WORK/$name.vmc31" "$RAW"
    [[ $c == -c ]] && dmesg_same "$name" "$WORK/$name.d1"
    rm -f "$WORK/$name.d1" "$WORK/$name.vmc31"
  done
}

part_split() {
  say "== --split 2, --reassemble"
  must split-whole "$VMC" -l -d 31 "$RAW" "$WORK/whole"
  must split "$VMC" --message-level 31 --split -l -d 31 "$RAW" "$WORK/s1" "$WORK/s2"
  must reassemble "$VMC" --reassemble "$WORK/s1" "$WORK/s2" "$WORK/joined"
  judge same-set "$WORK/joined" "$WORK/whole"
  judge pages "$WORK/joined" "$RAW"
  must md-reassemble makedumpfile --reassemble "$WORK/s1" "$WORK/s2" "$WORK/md-joined"
  judge same-set "$WORK/md-joined" "$WORK/whole"
  judge pages "$WORK/md-joined" "$RAW"
  cmp -s "$WORK/joined" "$WORK/md-joined" && say "  our --reassemble output is byte-identical to makedumpfile's" ||
    say "  (our --reassemble output differs in bytes from makedumpfile's; pages are equal)"
  # A split file is a dump of its own range (the kernel log may lie in another file's).
  judge subset "$WORK/s1" "$WORK/whole"
  judge subset "$WORK/s2" "$WORK/whole"
  judge pages "$WORK/s2" "$RAW"
  # crash reads a split set as it is (libkdumpfile 0.5.1's python binding cannot open one).
  local vmlinux here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if vmlinux=$(bash "$here/../vm/fetch-debug-vmlinux.sh" "${VMCOLLECT_VM_KERNEL:-6.1}" 2>"$WORK/fetch.log"); then
    printf 'sys\nlog\nquit\n' >"$WORK/crash.cmds"
    run crash-split timeout 600 crash -s "$vmlinux" "$WORK/s1" "$WORK/s2" -i "$WORK/crash.cmds" </dev/null || true
    grep -q "sysrq triggered crash" "$WORK/crash-split.log" && grep -q "RELEASE:" "$WORK/crash-split.log" &&
      say "  crash: opened the split set, log ends with the panic" ||
      { fail "crash cannot read our split set:"; tail -5 "$WORK/crash-split.log"; }
  else
    fail "no -dbg vmlinux for crash: $(tail -2 "$WORK/fetch.log")"
  fi
  # Broken sets.
  must_fail re-twice "given twice" "$VMC" --reassemble "$WORK/s1" "$WORK/s1" "$WORK/bad1"
  head -c $(($(stat -c %s "$WORK/s2") - 4096)) "$WORK/s2" > "$WORK/s2.cut"
  must_fail re-truncated "truncated|beyond the end" "$VMC" --reassemble "$WORK/s1" "$WORK/s2.cut" "$WORK/bad2"
  must split-other "$VMC" --split -l -d 1 "$RAW" "$WORK/o1" "$WORK/o2"
  must_fail re-mismatch "differ|not from" "$VMC" --reassemble "$WORK/s1" "$WORK/o2" "$WORK/bad3"
  must_fail re-notsplit "not a file of a --split set" "$VMC" --reassemble "$WORK/s1" "$WORK/whole" "$WORK/bad4"
  [[ ! -e $WORK/bad1 && ! -e $WORK/bad2 && ! -e $WORK/bad3 && ! -e $WORK/bad4 ]] || fail "a failed --reassemble left a file"
  rm -f "$WORK"/s? "$WORK"/o? "$WORK"/whole "$WORK"/joined "$WORK"/md-joined "$WORK"/s2.cut
}

# QEMU dump-guest-memory dumps of the first kernel (make-dump.sh --guest-dumps):
# "elf" and "kdump-*" (QEMU 7.2 writes kdump in the flattened format; Debian's
# build has zlib only). No vmcoreinfo device in the guest, so they lack
# VMCOREINFO: -i gives the one of the same boot (from its vmcore), and the
# re-filtered dump must then carry it.
part_qemu() {
  local q=$DIR/guest-dumps
  say "== QEMU dump-guest-memory dumps in $q"
  if [[ ! -d $q ]]; then  # the shared fixture makes them only when asked (they cost 25-70 s)
    say "SKIP: no $q (add --guest-dumps DIR/guest-dumps to the fixture's make-dump.sh options)"
    exit 77
  fi
  local vi=$WORK/vmcoreinfo f n ref
  $PY -c 'import sys, kdumpfile
open(sys.argv[2], "wb").write(bytes(kdumpfile.kdumpfile(sys.argv[1]).attr["linux.vmcoreinfo.raw"]))' "$RAW" "$vi"
  [[ -e $q/elf && -e $q/kdump-zlib ]] || fail "$q lacks elf or kdump-zlib"
  for f in "$q"/*; do
    n=$(basename "$f")
    ref=$f
    if [[ $n == kdump-* ]]; then  # libkdumpfile reads no flattened file: rebuild it first
      ref=$WORK/q-$n.rearranged
      must "qemu-$n-R" sh -c "makedumpfile -R '$ref' < '$f'"
    fi
    must_fail "qemu-$n-noinfo" "VMCOREINFO.*-i" "$VMC" -d 31 "$f" "$WORK/q-$n.noinfo"
    must "qemu-$n-d31" "$VMC" --message-level 31 -i "$vi" -z -d 31 "$f" "$WORK/q-$n"
    judge pages "$WORK/q-$n" "$ref"
    judge subset "$WORK/q-$n" "$ref"
    # Level 0: every page QEMU wrote (pages checked at -d 31 above, to keep the run short).
    must "qemu-$n-d0" "$VMC" --message-level 31 -i "$vi" -l "$f" "$WORK/q-$n.d0"
    judge same-set "$WORK/q-$n.d0" "$ref"
    must "qemu-$n-dmesg" "$VMC" -i "$vi" --dump-dmesg "$f" "$WORK/q-$n.dmesg"
    grep -q "Linux version" "$WORK/q-$n.dmesg" || fail "no kernel log from $f"
    # The output carries the VMCOREINFO -i gave: no -i needed any more.
    must "qemu-$n-out-dmesg" "$VMC" --dump-dmesg "$WORK/q-$n" "$WORK/q-$n.out.dmesg"
    cmp -s "$WORK/q-$n.dmesg" "$WORK/q-$n.out.dmesg" || fail "kernel log of the re-filtered $n differs"
    rm -f "$WORK/q-$n"*
  done
}

for p in "$@"; do "part_$p"; done
if ((failures)); then
  say "$failures check(s) failed"
  exit 1
fi
say "all checks passed"
