#!/usr/bin/env bash
# Usage: tests/vm/ensure-dump.sh --kernel K --out DIR [make-dump.sh options...]
# The CTest fixture step: runs make-dump.sh unless DIR already holds a good
# result made with the same options and the kernel package apt offers now,
# newer than the tests/vm scripts and than the files named in the options (the
# --vmcollect binary, ...). VMCOLLECT_VM_FORCE=1 always redoes it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
out='' kernel=''
args=("$@")
inputs=("$HERE"/make-dump.sh "$HERE"/guest-init.sh "$HERE"/workload.c "$HERE"/capture-collect.sh "$HERE"/lib.sh)
while (($#)); do
  case $1 in
    --out) out=$2; shift ;;
    --kernel) kernel=$2; shift ;;
    *) [[ ! -f $1 ]] || inputs+=("$1") ;; # --vmcollect BIN, --collect-script FILE, ...
  esac
  shift
done
[[ -n $out && -n $kernel ]] || { echo "usage: $0 --kernel K --out DIR [make-dump.sh options]" >&2; exit 2; }
request=$(printf '%q ' "${args[@]}")
fresh=1
if [[ ${VMCOLLECT_VM_FORCE:-0} == 1 || ! -f $out/ok || ! -f $out/request ]]; then
  fresh=0
elif [[ $(cat "$out/request") != "$request" ]]; then
  fresh=0
elif [[ $(cat "$out/kernel-package" 2>/dev/null) != "$(vm_kernel_meta "$kernel")" ]]; then
  fresh=0
else
  for f in "${inputs[@]}"; do
    [[ $out/ok -nt $f ]] || fresh=0
  done
fi
if [[ $fresh == 1 ]]; then
  echo "ensure-dump: $out is up to date ($(cat "$out/kernel-version")); VMCOLLECT_VM_FORCE=1 redoes it"
  exit 0
fi
rm -f "$out/ok" "$out/request"
"$HERE/make-dump.sh" "${args[@]}"
echo "$request" >"$out/request"
