#!/usr/bin/env bash
# Byte-identical output on the real 6.1 dump, through the CLI: every codec in
# kdump and flattened (-F) output at --num-threads 1, 2 and 8, and ELF output
# (which takes no thread count) run twice. -d 31 keeps the runs short while the
# filter, the zero check and the parallel compression all do real work.
# Usage: same_bytes_vm.sh VMCOLLECT WORKDIR   (VMCOLLECT_VM_DIR names the dump)
set -euo pipefail
vmcollect=$1
work=$2
vmcore=${VMCOLLECT_VM_DIR:?VMCOLLECT_VM_DIR is not set}/vmcore
rm -rf "$work"
mkdir -p "$work"
fail=0

dump() {  # dump NAME ARGS...: the dump goes to $work/NAME (a file argument or stdout)
  local name=$1 rc=0
  shift
  "$vmcollect" --message-level 4 "$@" >"$work/$name.stdout" 2>"$work/$name.log" || rc=$?
  if ((rc != 0)); then
    echo "FAIL: vmcollect $* exited $rc"
    cat "$work/$name.log"
    exit 1
  fi
  [[ -s $work/$name ]] || mv "$work/$name.stdout" "$work/$name"
}

same() {  # same REF OTHER
  if cmp -s "$work/$1" "$work/$2"; then
    echo "same: $2 = $1 ($(stat -c %s "$work/$1") bytes)"
  else
    echo "FAIL: $2 differs from $1: $(cmp "$work/$1" "$work/$2" 2>&1 | head -1)"
    fail=1
  fi
}

for codec in none -c -l -p -z; do
  flag=$codec
  [[ $codec == none ]] && flag=
  for t in 1 2 8; do
    dump "kdump$codec-$t" $flag -d 31 --num-threads $t "$vmcore" "$work/kdump$codec-$t"
    [[ $t == 1 ]] || same "kdump$codec-1" "kdump$codec-$t"
  done
  rm -f "$work"/kdump"$codec"-[28]
done
for codec in -l -z; do
  for t in 1 8; do
    dump "flat$codec-$t" -F $codec -d 31 --num-threads $t "$vmcore"
  done
  same "flat$codec-1" "flat$codec-8"
done
dump elf-a -E -d 31 "$vmcore" "$work/elf-a"
dump elf-b -E -d 31 "$vmcore" "$work/elf-b"
same elf-a elf-b
rm -rf "$work"
exit $fail
