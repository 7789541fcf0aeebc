#!/usr/bin/env bash
# Usage: tests/collector/cli/package.sh BUILD_DIR   (root; CTest label `package`, RUN_SERIAL:
# cpack packs BUILD_DIR, and on the host (see below) the swap is everyone's)
# Builds the .deb with `cpack -G DEB`, installs it with apt-get, checks that
# `makedumpfile` and `vmcore-dmesg` now run vmcollect, switches back to
# Debian's makedumpfile with update-alternatives and checks it answers again,
# then purges the package and checks the host is as it was found: the same
# /usr/bin/makedumpfile and /usr/sbin/vmcore-dmesg bytes, no diversion, no
# alternatives group, dpkg --verify clean.
#
# It runs in a sandbox by default: a private mount namespace with overlays on
# /usr, /etc and /var, which every change above lands in and which vanishes
# with the test, so no other process on the machine ever sees the swapped
# makedumpfile (or anything else the package does) at any moment. The checks
# are the same inside: the real apt-get, dpkg, maintainer scripts and
# update-alternatives run against the host's own files, seen through the overlay.
# Where the sandbox cannot be made (no CAP_SYS_ADMIN, no overlayfs), the test
# is skipped (exit 77) and says so. VMCOLLECT_PACKAGE_ON_HOST=1 runs it on the
# host itself (CI, on a machine of its own): the swap is then visible to
# every process for about 35 s.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP=77
if [[ ${VMCOLLECT_PACKAGE_ON_HOST:-0} != 1 && -z ${_VMC_PACKAGE_IN_SANDBOX:-} ]]; then
  sandbox=$(mktemp -d /tmp/vmc-pkg-sandbox.XXXXXX)
  rc=0
  unshare -m --propagation private bash -c '
    for d in usr etc var; do
      mkdir -p "$0/upper/$d" "$0/work/$d"
      if ! mount -t overlay "vmc-$d" -o "lowerdir=/$d,upperdir=$0/upper/$d,workdir=$0/work/$d" "/$d"; then
        echo "SKIP: cannot make the sandbox (an overlay on /$d in a private mount namespace);" \
          "VMCOLLECT_PACKAGE_ON_HOST=1 runs this test on the host, which it changes while it runs"
        exit '"$SKIP"'
      fi
    done
    echo "sandbox: a private mount namespace, overlays on /usr /etc /var (the host is not changed)"
    _VMC_PACKAGE_IN_SANDBOX=1 exec bash "$@"' "$sandbox" "${BASH_SOURCE[0]}" "$@" || rc=$?
  if [[ $rc == 1 && ! -d $sandbox/upper ]]; then
    echo "SKIP: cannot make the sandbox (unshare -m failed); VMCOLLECT_PACKAGE_ON_HOST=1 runs this test on the host"
    rc=$SKIP
  fi
  rm -rf "$sandbox"
  exit "$rc"
fi
# shellcheck source=lib.sh
source "$HERE/lib.sh"
BUILD=${1:?usage: package.sh BUILD_DIR}
PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
need cpack dpkg-shlibdeps apt-get "$DEBIAN_MDF" /usr/sbin/vmcore-dmesg
export DEBIAN_FRONTEND=noninteractive

if dpkg-query -W -f='${Status}' vmcollect 2>/dev/null | grep -q installed; then
  echo "FAIL: vmcollect is already installed here; this test must start from a host without it" >&2
  exit 1
fi

state() { # what "as found" means
  sha256sum /usr/bin/makedumpfile /usr/sbin/vmcore-dmesg 2>&1
  stat -c '%n %F %a' /usr/bin/makedumpfile /usr/sbin/vmcore-dmesg 2>&1
  dpkg-divert --list | grep -E 'makedumpfile|vmcore-dmesg|vmcollect' | sort || true
  ls -l /etc/alternatives/makedumpfile /etc/alternatives/vmcore-dmesg 2>&1 || true
  ls /var/lib/dpkg/alternatives/makedumpfile /var/lib/dpkg/alternatives/vmcore-dmesg 2>&1 || true
  dpkg --verify makedumpfile kexec-tools 2>&1 || true
}
state >"$T/before.txt"

# The package.
rm -f "$BUILD"/vmcollect_*.deb
t0=$(date +%s)
(cd "$BUILD" && cpack -G DEB) >"$T/cpack.log" 2>&1 || { cat "$T/cpack.log" >&2; fail "cpack -G DEB failed"; finish; }
deb=$(ls "$BUILD"/vmcollect_*.deb 2>/dev/null | head -n1)
expect_eq "cpack made vmcollect_*.deb" "$([[ -f $deb ]] && echo yes || echo no)" yes
echo "cpack took $(($(date +%s) - t0)) s: $deb"
dpkg-deb -c "$deb" >"$T/contents.txt"
expect_grep "the package holds /usr/sbin/vmcollect" "$T/contents.txt" " \./usr/sbin/vmcollect$"
dpkg-deb -I "$deb" >"$T/info.txt"
expect_grep "shared library dependencies computed" "$T/info.txt" "Depends:.*libc6"
expect_grep "maintainer scripts inside" "$T/info.txt" "postinst"

# Install; leave the host as found whatever happens next.
cleanup_hooks+=("apt-get purge -y -qq vmcollect >/dev/null 2>&1")
apt-get install -y -qq "$deb" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "apt-get install $deb failed"; }
expect_eq "the installed binary is stripped (a capture initramfs holds it in RAM)" \
  "$(readelf -S /usr/sbin/vmcollect | grep -c '\.debug_info')" 0
expect_eq "makedumpfile now resolves to vmcollect" "$(readlink -f /usr/bin/makedumpfile)" /usr/sbin/vmcollect
expect_eq "vmcore-dmesg now resolves to vmcollect" "$(readlink -f /usr/sbin/vmcore-dmesg)" /usr/sbin/vmcollect
expect_grep "makedumpfile -v is vmcollect" <(makedumpfile -v 2>&1) "vmcollect"
expect_eq "Debian's makedumpfile kept, diverted" "$(sha256sum </usr/bin/makedumpfile.distrib)" "$(head -n1 "$T/before.txt" | cut -d' ' -f1)  -"
# A real run under the name: the synthetic dump, with vmcollect's own report line.
"${MAKE_TEST_DUMP:?}" "$T/vmcore"
(cd "$T" && makedumpfile --message-level 31 -l -d 31 vmcore out.kdump) >"$T/run.out" 2>"$T/run.err" ||
  fail "makedumpfile -l -d 31 DUMP OUT failed: $(tail -n 3 "$T/run.err")"
expect_grep "makedumpfile -l -d 31 ran vmcollect (its Peak RSS report line)" "$T/run.out" "^Peak RSS"
expect_grep "closing line under the makedumpfile name" "$T/run.out" "^makedumpfile Completed\.$"
# kdump-tools calls it by PATH from a script: the same.
expect_grep "sh -c 'makedumpfile -v'" <(env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin sh -c 'makedumpfile -v' 2>&1) vmcollect

# Back to Debian's makedumpfile (and vmcore-dmesg), then vmcollect again.
update-alternatives --set makedumpfile /usr/bin/makedumpfile.distrib >/dev/null
update-alternatives --set vmcore-dmesg /usr/sbin/vmcore-dmesg.distrib >/dev/null
expect_grep "switched back: makedumpfile -v is Debian's 1.7.2" <(makedumpfile -v 2>&1) "^makedumpfile: version 1\.7\."
expect_no_grep "switched back: not vmcollect" <(makedumpfile -v 2>&1) vmcollect
expect_eq "switched back: vmcore-dmesg is kexec-tools'" "$(readlink -f /usr/sbin/vmcore-dmesg)" /usr/sbin/vmcore-dmesg.distrib
update-alternatives --auto makedumpfile >/dev/null
expect_grep "--auto: vmcollect again" <(makedumpfile -v 2>&1) vmcollect

# makedumpfile reinstalled while diverted: its file lands at .distrib, the trigger keeps the group.
if apt-get install -y -qq --reinstall makedumpfile >"$T/reinstall.log" 2>&1; then
  expect_eq "after reinstalling makedumpfile: still vmcollect" "$(readlink -f /usr/bin/makedumpfile)" /usr/sbin/vmcollect
  expect_grep "after reinstalling makedumpfile: Debian's is still a choice" \
    <(update-alternatives --list makedumpfile) "^/usr/bin/makedumpfile\.distrib$"
else
  echo "note: apt-get install --reinstall makedumpfile failed (no archive access?): $(tail -n 2 "$T/reinstall.log")"
fi

# Purge: the host as found.
apt-get purge -y -qq vmcollect >"$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; fail "apt-get purge vmcollect failed"; }
state >"$T/after.txt"
if diff "$T/before.txt" "$T/after.txt" >"$T/state.diff"; then pass "purge left the host as found"; else
  fail "host differs after purge:"
  sed 's/^/    | /' "$T/state.diff" >&2
fi
expect_grep "makedumpfile -v is Debian's again" <(makedumpfile -v 2>&1) "^makedumpfile: version 1\.7\."
expect_eq "no vmcollect file left" "$(ls /usr/sbin/vmcollect /usr/bin/makedumpfile.distrib 2>/dev/null | wc -l)" 0
finish
