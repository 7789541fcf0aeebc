#!/bin/bash
# The terabyte check: writes the synthetic dump of tests/builder/tib_dump.h
# (default 1 TiB of RAM, almost all free in order-10 buddy blocks; a sparse
# file holding ~1.3 GiB of data) and collects it with vmcollect -d 31 -z and
# with Debian's makedumpfile, the same flags, reporting wall time, CPU time
# and peak RSS (/usr/bin/time) and output sizes. vmcollect's own "Peak RSS"
# line (--message-level 23) is shown too. The issue's target: vmcollect's
# peak RSS at most 64 MiB.
#
#   bench/tib.sh --build build-perf [--gib 1024] [--dir /var/tmp/vmc-tib] [--keep]
#
# Debian's makedumpfile 1.7.2 is built without zstd: it ignores -z and
# writes the pages uncompressed; it is also run with -l for a like-for-like
# codec comparison.
set -euo pipefail
build='' gib=1024 dir=/var/tmp/vmc-tib keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --gib) gib=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 --build DIR [--gib N] [--dir DIR] [--keep]" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
[[ -n $build ]] || build=$here/build
gen=$build/tests/builder/make-tib-dump
vmc=$build/collector/vmcollect
mkdir -p "$dir"
dump=$dir/tib-${gib}g.vmcore
echo "free space: $(df -h --output=avail "$dir" | tail -n 1) in $dir"
if [[ ! -s $dump ]]; then
  /usr/bin/time -f 'generator: %e s, peak RSS %M KiB' "$gen" --gib "$gib" "$dump"
fi
echo "dump: $dump, $(stat -c %s "$dump") bytes apparent, $(du -k "$dump" | cut -f1) KiB allocated"

# run NAME CMD... : one timed run, output in $dir/out.NAME
run() {
  local name=$1
  shift
  local out=$dir/out.$name
  rm -f "$out"
  sync
  echo "== $name: $* $out"
  if /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" -o "$dir/time.$name" \
    "$@" "$out" >"$dir/log.$name" 2>&1; then
    cat "$dir/time.$name"
    echo "   output $(stat -c %s "$out") bytes"
  else
    echo "$name FAILED (exit $?):"
    cat "$dir/time.$name"
    tail -n 5 "$dir/log.$name"
  fi
  grep -E "Peak RSS|Remaining pages|Free pages" "$dir/log.$name" | sed 's/^/   /' || true
  rm -f "$out"
}
run vmcollect-z-d31 "$vmc" -z -d 31 --message-level 23 "$dump"
run vmcollect-z-d31-1thread "$vmc" -z -d 31 --num-threads 1 --message-level 23 "$dump"
run makedumpfile-z-d31 /usr/bin/makedumpfile -z -d 31 --message-level 23 "$dump"
run makedumpfile-l-d31 /usr/bin/makedumpfile -l -d 31 --message-level 23 "$dump"
run vmcollect-l-d31-1thread "$vmc" -l -d 31 --num-threads 1 --message-level 23 "$dump"
((keep)) || rm -f "$dump"
