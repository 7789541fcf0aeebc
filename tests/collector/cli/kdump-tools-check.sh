#!/usr/bin/env bash
# Usage: tests/collector/cli/kdump-tools-check.sh DIR KERNEL
# Judges what Debian's `kdump-config savecore` wrote in the capture kernel with
# vmcollect as makedumpfile (DIR made by kdump-tools-dump.sh):
#  - kdump-config exited 0, took the makedumpfile path (no fallback to cp) and
#    left dmesg.<stamp> and dump.<stamp> in /var/crash/<stamp>/;
#  - dmesg.<stamp>, written by vmcollect as makedumpfile, equals Debian's
#    makedumpfile --dump-dmesg on the raw vmcore once the caller column that
#    makedumpfile 1.7.5+ prints is taken out;
#  - dump.<stamp> (flattened: kdump-tools keeps -F output) rebuilt with -R
#    holds exactly the pages (libkdumpfile) of Debian makedumpfile's own
#    -c -d 31 on the raw vmcore on 6.1; on 6.12 makedumpfile 1.7.2 keeps user
#    pages (it does not know 6.12's page types), so there the reference is
#    vmcollect's own -c -d 31 run on the host;
#  - on 6.1 the rebuilt dump opens in crash with the -dbg vmlinux, and crash's
#    `log` shows the panic.
# Environment: VMCOLLECT (the binary).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
DIR=${1:?usage: kdump-tools-check.sh DIR KERNEL}
K=${2:?usage: kdump-tools-check.sh DIR KERNEL}
need /usr/sbin/vmcore-dmesg "$DEBIAN_MDF" /usr/bin/python3
JUDGE=$HERE/../../real_dumps/kdump_judge.py
C=$DIR/capture

[[ -f $DIR/ok ]] || { echo "FAIL: $DIR has no ok (fixture failed?)" >&2; exit 1; }
expect_eq "kdump-config savecore exit" "$(cat "$C/kdump-config.rc" 2>/dev/null)" 0
expect_grep "makedumpfile in the capture kernel is vmcollect" "$C/makedumpfile-v.txt" "vmcollect"
expect_grep "kdump-config ran makedumpfile -F -c -d 31" "$C/kdump-config.log" "running makedumpfile -F -c -d 31 /proc/vmcore"
expect_grep "kdump-config ran makedumpfile --dump-dmesg" "$C/kdump-config.log" "running makedumpfile --dump-dmesg /proc/vmcore"
expect_no_grep "no fallback to cp" "$C/kdump-config.log" "falling back"
expect_grep "kdump-config saved the vmcore" "$C/kdump-config.log" "saved vmcore in"
expect_grep "kdump-config saved dmesg" "$C/kdump-config.log" "saved dmesg content in"

stampdir=$(find "$C/crash" -mindepth 1 -maxdepth 1 -type d -name '2*' | head -n1)
stamp=${stampdir##*/}
dmesg=$stampdir/dmesg.$stamp
dump=$stampdir/dump.$stamp
expect_eq "dmesg.<stamp> written" "$([[ -s $dmesg ]] && echo yes || echo no)" yes
expect_eq "dump.<stamp> written" "$([[ -s $dump ]] && echo yes || echo no)" yes
expect_eq "no dump-incomplete left" "$(ls "$stampdir"/dump-incomplete* 2>/dev/null | wc -l)" 0
((fails == 0)) || finish

# dmesg: Debian's makedumpfile on the raw vmcore.
"$DEBIAN_MDF" --dump-dmesg "$DIR/vmcore" "$T/ref-dmesg.txt" >"$T/ref-dmesg.err" 2>&1 ||
  fail "Debian's makedumpfile --dump-dmesg on the raw vmcore failed: $(cat "$T/ref-dmesg.err")"
if without_caller_column "$dmesg" | cmp -s "$T/ref-dmesg.txt" -; then
  pass "dmesg.$stamp without the caller column equals Debian's makedumpfile ($(wc -l <"$dmesg") lines)"
else
  fail "dmesg.$stamp differs from Debian's makedumpfile beyond the caller column"
  without_caller_column "$dmesg" | diff "$T/ref-dmesg.txt" - | head -n 10 >&2 || true
fi
expect_grep "dmesg holds the panic" "$dmesg" "sysrq: Trigger a crash|Kernel panic"

# The dump: a flattened stream, rebuilt with vmcollect -R and Debian's -R alike.
head -c 16 "$dump" | grep -aq "makedumpfile" && pass "dump.$stamp is a flattened stream" ||
  fail "dump.$stamp does not start with the flattened signature"
"$VMC" -R "$T/rebuilt.kdump" <"$dump" >"$T/r.out" 2>"$T/r.err" || fail "vmcollect -R failed: $(cat "$T/r.err")"
"$DEBIAN_MDF" -R "$T/rebuilt-deb.kdump" <"$dump" >/dev/null 2>&1 || fail "Debian makedumpfile -R failed"
cmp -s "$T/rebuilt.kdump" "$T/rebuilt-deb.kdump" && pass "vmcollect -R and Debian's -R agree byte for byte" ||
  fail "vmcollect -R and makedumpfile -R rebuilt different files"
expect_grep "file(1) on the rebuilt dump" <(file "$T/rebuilt.kdump") "Kdump compressed dump"
/usr/bin/python3 "$JUDGE" pages "$T/rebuilt.kdump" "$DIR/vmcore" && pass "every page in the dump equals the raw vmcore's" ||
  fail "pages differ from the raw vmcore"

if [[ $K == 6.1 ]]; then
  ref_what="Debian makedumpfile -c -d 31"
  "$DEBIAN_MDF" -c -d 31 "$DIR/vmcore" "$T/ref.kdump" >"$T/ref.out" 2>&1 || fail "makedumpfile -c -d 31 failed"
else
  ref_what="vmcollect -c -d 31 on the host (makedumpfile 1.7.2 keeps 6.12's user pages)"
  "$VMC" -c -d 31 "$DIR/vmcore" "$T/ref.kdump" >"$T/ref.out" 2>&1 || fail "vmcollect -c -d 31 failed"
fi
/usr/bin/python3 "$JUDGE" same-set "$T/rebuilt.kdump" "$T/ref.kdump" 2>"$T/same.err" &&
  pass "same pages as $ref_what ($(/usr/bin/python3 "$JUDGE" count "$T/ref.kdump") pages)" ||
  fail "pages differ from $ref_what: $(cat "$T/same.err")"
if [[ $K != 6.1 ]]; then
  # For the record only: makedumpfile 1.7.2 misreads 6.12's page types both ways
  # (keeps user pages, drops a few more), so it bounds nothing here.
  "$DEBIAN_MDF" -c -d 31 "$DIR/vmcore" "$T/mdf.kdump" >/dev/null 2>&1 &&
    /usr/bin/python3 "$JUDGE" subset "$T/rebuilt.kdump" "$T/mdf.kdump" 2>&1 | sed 's/^/note: vs makedumpfile 1.7.2: /' || true
fi
if [[ $K == 6.1 ]]; then
  need crash
  vmlinux=$("$HERE/../../vm/fetch-debug-vmlinux.sh" 6.1) || fail "fetch-debug-vmlinux.sh 6.1 failed"
  if [[ -f ${vmlinux:-} ]]; then
    printf 'log\nquit\n' >"$T/crash.in"
    timeout 600 crash -s "$vmlinux" "$T/rebuilt.kdump" <"$T/crash.in" >"$T/crash.out" 2>&1 || true
    expect_grep "crash opens the dump and its log shows the panic" "$T/crash.out" "sysrq: Trigger a crash|Kernel panic"
    expect_no_grep "crash: no read errors" "$T/crash.out" "crash: (read error|cannot read|invalid kernel virtual)"
  fi
else
  echo "note: crash 8.0.2 cannot open 6.12 dumps (tests/vm/README.md): no crash check on 6.12"
fi
finish
