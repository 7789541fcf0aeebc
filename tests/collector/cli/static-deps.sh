#!/bin/bash
# With VMCOLLECT_STATIC_DEPS (the default), vmcollect loads no shared object
# but libc: the README promises a kdump initramfs one file, and start-up
# without ten objects to map and relocate (bench/RESULTS.md, section 7).
#   static-deps.sh VMCOLLECT
set -euo pipefail
vmcollect=$1
extra=$(ldd "$vmcollect" | awk '{print $1}' | grep -vE '^(linux-vdso\.so|libc\.so|/lib64/ld-linux)' || true)
if [[ -n $extra ]]; then
  echo "FAIL: $vmcollect loads more than libc:" $extra
  exit 1
fi
echo "ok: $vmcollect loads only libc ($(ldd "$vmcollect" | wc -l) lines of ldd)"
