# shellcheck shell=bash
# Shared helpers for tests/vm scripts. Source it; do not run it.
# Everything host-side that touches apt or the kernel cache lives here.

VM_CACHE=${VMCOLLECT_VM_CACHE:-/var/tmp/vmcollect-vm}
# apt, depmod, kexec live in sbin; CI shells may not have it on PATH.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

vm_log() { echo "[vm $(date +%H:%M:%S)] $*" >&2; }
vm_die() { echo "[vm] ERROR: $*" >&2; exit 1; }

# vm_sparsify FILE... : turns runs of zero blocks into holes. A 1 GiB guest's
# raw vmcore, pmemsave image and QEMU ELF dump are 30-50 % zero pages; CI's
# disk is not ours to size, and the tests read holes as the zeros they were.
# Best effort: a filesystem without hole punching keeps the file as it is.
vm_sparsify() {
  local f before after
  for f in "$@"; do
    [[ -f $f ]] || continue
    before=$(du -k "$f" | cut -f1)
    fallocate --dig-holes "$f" 2>/dev/null || continue
    after=$(du -k "$f" | cut -f1)
    vm_log "sparsify $(basename "$f"): $((before >> 10)) MiB -> $((after >> 10)) MiB on disk"
  done
}

# Runs "$@" holding a lock on the cache, so that parallel CTest jobs do not run
# apt at the same time or extract into the same directory.
vm_locked() {
  mkdir -p "$VM_CACHE"
  local lock=$VM_CACHE/.lock
  ( flock -w 1800 9 || vm_die "could not lock $lock"; "$@" ) 9>"$lock"
}

_vm_apt_updated=0
_vm_apt_update() {
  if [[ $_vm_apt_updated == 0 ]]; then
    vm_log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || vm_die "apt-get update failed"
    _vm_apt_updated=1
  fi
}

# vm_need_packages PKG... : apt-get install the ones not installed yet.
vm_need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || vm_die "missing packages ${missing[*]} (run as root or install them)"
  vm_locked _vm_install "${missing[@]}" || exit 1
}
_vm_install() {
  vm_log "installing ${*}"
  _vm_apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@" >&2 || vm_die "apt-get install $* failed"
}

# vm_kernel_meta 6.1|6.12 : prints "<binary package> <version>" of the kernel
# image package that Debian's meta package currently depends on.
vm_kernel_meta() {
  local meta
  case $1 in
    6.1) meta=linux-image-amd64 ;;
    6.12) meta=linux-image-6.12-amd64 ;;
    *) vm_die "unknown kernel '$1' (want 6.1 or 6.12)" ;;
  esac
  local pkg ver
  pkg=$(LC_ALL=C apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  if [[ -z $pkg ]]; then
    vm_locked _vm_apt_update || exit 1
    pkg=$(LC_ALL=C apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
  fi
  [[ -n $pkg ]] || vm_die "cannot resolve $meta with apt-cache depends"
  ver=$(LC_ALL=C apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
  [[ -n $ver && $ver != "(none)" ]] || vm_die "apt-cache policy $pkg gave no candidate version"
  echo "$pkg $ver"
}

# vm_download PKG VERSION DESTDIR : apt-get download into DESTDIR (a directory
# the _apt user can write, to avoid apt's sandbox warning). Prints the .deb path.
# Call it holding the lock (inside vm_locked).
vm_download() {
  local pkg=$1 ver=$2 dest=$3
  mkdir -p "$dest"
  chmod 777 "$dest"
  ( cd "$dest" && apt-get download -q "$pkg=$ver" >&2 ) || {
    _vm_apt_update
    ( cd "$dest" && apt-get download -q "$pkg=$ver" >&2 ) || vm_die "apt-get download $pkg=$ver failed"
  }
  local deb
  deb=$(ls "$dest"/"${pkg}"_*.deb 2>/dev/null | head -n1)
  [[ -f $deb ]] || vm_die "apt-get download $pkg gave no .deb in $dest"
  echo "$deb"
}

# vm_kernel_setup 6.1|6.12 : makes sure the kernel package is extracted in the
# cache, $VM_CACHE/<pkg>_<version>/pkg (the dpkg-deb -x tree), and sets VM_KPKG,
# VM_KVER_PKG, VM_KREL (uname -r), VM_KDIR, VM_VMLINUZ, VM_MODDIR.
vm_kernel_setup() {
  local meta
  meta=$(vm_kernel_meta "$1") || exit 1
  VM_KPKG=${meta% *}
  VM_KVER_PKG=${meta#* }
  VM_KDIR=$VM_CACHE/${VM_KPKG}_${VM_KVER_PKG}
  if [[ ! -f $VM_KDIR/pkg/.complete ]]; then
    vm_need_packages kmod xz-utils
    vm_locked _vm_extract_kernel || exit 1
  fi
  VM_KREL=${VM_KPKG#linux-image-}
  VM_VMLINUZ=$VM_KDIR/pkg/boot/vmlinuz-$VM_KREL
  VM_MODDIR=$VM_KDIR/pkg/lib/modules/$VM_KREL
  [[ -f $VM_VMLINUZ ]] || vm_die "no $VM_VMLINUZ in the extracted package"
  [[ -f $VM_MODDIR/modules.dep ]] || vm_die "no $VM_MODDIR/modules.dep"
}
_vm_extract_kernel() {
  [[ -f $VM_KDIR/pkg/.complete ]] && return 0
  vm_log "fetching $VM_KPKG $VM_KVER_PKG into $VM_KDIR"
  local dl=$VM_KDIR/download
  rm -rf "$VM_KDIR/pkg" "$dl"
  local deb
  deb=$(vm_download "$VM_KPKG" "$VM_KVER_PKG" "$dl") || exit 1
  mkdir -p "$VM_KDIR/pkg"
  dpkg-deb -x "$deb" "$VM_KDIR/pkg" || vm_die "dpkg-deb -x $deb failed"
  # The package's postinst would run depmod; we never install it, so do it here.
  local krel=${VM_KPKG#linux-image-}
  depmod -b "$VM_KDIR/pkg" "$krel" || vm_die "depmod -b $VM_KDIR/pkg $krel failed"
  rm -rf "$dl"
  touch "$VM_KDIR/pkg/.complete"
}

# vm_hash_inputs FILE... : one sha256 over names and contents (dirs recursed).
vm_hash_inputs() {
  local f
  for f in "$@"; do
    if [[ -d $f ]]; then
      (cd "$f" && find . -type f -o -type l | LC_ALL=C sort | while read -r x; do
        echo "$x"; if [[ -L $x ]]; then readlink "$x"; else sha256sum <"$x"; fi
      done)
    elif [[ -e $f ]]; then
      echo "$f"; sha256sum <"$f"
    else
      echo "$f"
    fi
  done | sha256sum | cut -c1-16
}
