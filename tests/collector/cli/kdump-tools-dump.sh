#!/usr/bin/env bash
# Usage: tests/collector/cli/kdump-tools-dump.sh --kernel K --out DIR --vmcollect BIN [make-dump.sh options]
# The fixture of the kdump-tools judge (issue 8): a tests/vm crash whose
# capture kernel runs Debian's own `kdump-config savecore` (package
# kdump-tools, downloaded and unpacked, never installed on the host) with
# vmcollect installed as makedumpfile. Prepares the image tree, then lets
# tests/vm/ensure-dump.sh make (or reuse) DIR with the collect script
# kdump-tools-collect.sh. Results: DIR/capture/crash/<stamp>/{dmesg,dump}.<stamp>.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM=$HERE/../../vm
# shellcheck source=../../vm/lib.sh
source "$VM/lib.sh"

vm_need_packages dash sysvinit-utils
# kdump-tools as apt offers it now, unpacked into the cache once.
ver=$(LC_ALL=C apt-cache policy kdump-tools 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
if [[ -z $ver || $ver == "(none)" ]]; then
  vm_locked _vm_apt_update || exit 1
  ver=$(LC_ALL=C apt-cache policy kdump-tools 2>/dev/null | awk '$1 == "Candidate:" {print $2; exit}')
fi
[[ -n $ver && $ver != "(none)" ]] || vm_die "apt-cache policy kdump-tools gave no candidate"
KT=$VM_CACHE/kdump-tools_${ver//:/%3a}
extract_kdump_tools() {
  [[ -f $KT/pkg/.complete ]] && return 0
  rm -rf "$KT/pkg"
  local deb
  deb=$(vm_download kdump-tools "$ver" "$KT/download") || exit 1
  mkdir -p "$KT/pkg"
  dpkg-deb -x "$deb" "$KT/pkg" || vm_die "dpkg-deb -x $deb failed"
  rm -rf "$KT/download"
  touch "$KT/pkg/.complete"
}
vm_locked extract_kdump_tools || exit 1

# The tree copied into the capture image: kdump-config, its configuration as
# the package's postinst installs it (/etc/default/kdump-tools from the
# shipped template, nothing changed: MAKEDUMP_ARGS and KDUMP_DUMP_DMESG take
# their defaults), and the LSB functions it sources.
# Built once per version of this script: the 6.1 and 6.12 fixtures run at
# the same time, and rebuilding the tree under the other one's image build
# (rm, then mv) once made it vanish there for a moment.
tree=$KT/initrd-tree
tree_key=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
build_tree() {
  [[ -d $tree && $(cat "$tree.key" 2>/dev/null) == "$tree_key" ]] && return 0
  rm -rf "$tree.tmp"
  mkdir -p "$tree.tmp"/{usr/sbin,etc/default,lib/lsb,var}
  install -m 755 "$KT/pkg/usr/sbin/kdump-config" "$tree.tmp/usr/sbin/kdump-config"
  install -m 644 "$KT/pkg/usr/share/kdump-tools/kdump-tools.conf" "$tree.tmp/etc/default/kdump-tools"
  cp -a /lib/lsb/. "$tree.tmp/lib/lsb/"
  rm -rf "$tree"
  mv "$tree.tmp" "$tree"
  echo "$tree_key" >"$tree.key"
}
vm_locked build_tree || exit 1

exec "$VM/ensure-dump.sh" "$@" --collect-script "$HERE/kdump-tools-collect.sh" \
  --extra-bin "$(command -v dash)" --extra-initrd-dir "$tree"
