#!/usr/bin/env bash
# Usage: tests/vm/fetch-debug-vmlinux.sh 6.1|6.12
# Downloads Debian's -dbg package of the kernel that make-dump.sh boots (the
# one the meta package currently depends on; about 0.9-1 GB), extracts only
# usr/lib/debug/boot/vmlinux-* into the cache and prints the vmlinux path (for
# crash). Cached: a second run prints the path at once.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $# == 1 ]] || { echo "usage: $0 6.1|6.12" >&2; exit 2; }
meta=$(vm_kernel_meta "$1") || exit 1
pkg=${meta% *}
ver=${meta#* }
krel=${pkg#linux-image-}
kdir=$VM_CACHE/${pkg}_${ver}
vmlinux=$kdir/dbg/usr/lib/debug/boot/vmlinux-$krel

fetch_dbg() {
  [[ -f $vmlinux ]] && return 0
  local dl=$kdir/dbg-download deb
  rm -rf "$dl" "$kdir/dbg"
  vm_log "downloading $pkg-dbg $ver (large)"
  deb=$(vm_download "$pkg-dbg" "$ver" "$dl") || exit 1
  mkdir -p "$kdir/dbg.tmp"
  dpkg-deb --fsys-tarfile "$deb" |
    tar -x -C "$kdir/dbg.tmp" --wildcards './usr/lib/debug/boot/vmlinux-*' ||
    vm_die "extracting vmlinux from $deb failed"
  rm -rf "$dl"
  [[ -f $kdir/dbg.tmp/usr/lib/debug/boot/vmlinux-$krel ]] || vm_die "no vmlinux-$krel in $pkg-dbg"
  mv -T "$kdir/dbg.tmp" "$kdir/dbg"
}
vm_locked fetch_dbg || exit 1
echo "$vmlinux"
