#!/usr/bin/env bash
# crash (with the kernel's -dbg vmlinux) opens a kdump file vmcollect made from
# a real crash, and `log`, `bt`, `ps` print what they print on the raw vmcore:
# crash is the reader kernel developers use, and the only judge here that walks
# kernel data structures (task list, stacks, printk ring) through our pages.
#
# Usage: vm_crash.sh --vmcollect BIN [--dir DIR] [--kernel K] [--must-work]
#                    [-- VMCOLLECT-OPTIONS]
#   DIR, K default to $VMCOLLECT_VM_DIR and $VMCOLLECT_VM_KERNEL; the options
#   default to "-l -d 31".
# Exit 0: crash works on our dump and on the one vmcollect wrote in the capture
# kernel (capture/vmcore-vmcollect-l-d1), its log/bt/ps/sys output equals the
# raw vmcore's, the log holds the sysrq panic, bt a sysrq/panic frame, ps init.
# Exit 77 (CTest: skipped): crash cannot open even the raw vmcore of this
# kernel (Debian 12's crash 8.0.2 on 6.12), said loudly; our dump is still
# tried and must fail the same way, not crash differently. Exit 1 otherwise
# (also instead of 77 with --must-work: the kernel crash is known to read).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vmcollect='' dir=${VMCOLLECT_VM_DIR:-} kernel=${VMCOLLECT_VM_KERNEL:-} must_work=0
opts=(-l -d 31)
while (($#)); do
  case $1 in
    --vmcollect) vmcollect=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --must-work) must_work=1; shift ;;
    --) shift; opts=("$@"); break ;;
    *) echo "usage: $0 --vmcollect BIN [--dir DIR] [--kernel K] [-- OPTIONS]" >&2; exit 2 ;;
  esac
done
[[ -x $vmcollect && -f $dir/vmcore && -n $kernel ]] || {
  echo "vm_crash: need --vmcollect BIN, a DIR with a vmcore and a KERNEL" >&2; exit 2; }
command -v crash >/dev/null || { echo "vm_crash: crash is missing (tests/setup-deps.sh installs it)" >&2; exit 1; }

fail=0
say() { printf '%s\n' "$*"; }
check() {  # check CONDITION-STATUS WHAT
  if [[ $1 == 0 ]]; then say "  ok   $2"; else say "  FAIL $2"; fail=1; fi
}
seconds() { echo $(( $(date +%s%N) / 1000000 )); }
elapsed() { local ms=$(( $(seconds) - $1 )); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }

t0=$(seconds)
vmlinux=$(bash "$HERE/../vm/fetch-debug-vmlinux.sh" "$kernel") || {
  say "FAIL fetching the -dbg vmlinux of $kernel"; exit 1; }
say "vmlinux: $vmlinux ($(elapsed "$t0") s to fetch or find)"

tmp=$(mktemp -d /var/tmp/vmcollect-crash-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ours=$tmp/vmcore-ours
t=$(seconds)
"$vmcollect" "${opts[@]}" "$dir/vmcore" "$ours" >"$tmp/vmcollect.log" 2>&1
check $? "vmcollect ${opts[*]}: exit 0 in $(elapsed "$t") s, $(stat -c %s "$ours" 2>/dev/null) B (raw $(stat -c %s "$dir/vmcore") B)"
[[ -f $ours ]] || { cat "$tmp/vmcollect.log"; exit 1; }

# One crash session per dump; markers split the output per command.
cat >"$tmp/cmds" <<'EOF'
!echo @@@log
log
!echo @@@bt
bt
!echo @@@ps
ps
!echo @@@sys
sys
!echo @@@end
quit
EOF
run_crash() {  # run_crash DUMP OUT -> crash's exit status
  local t; t=$(seconds)
  timeout 600 crash -s --no_scroll "$vmlinux" "$1" <"$tmp/cmds" >"$2" 2>&1
  local rc=$?
  say "  crash on $(basename "$1"): exit $rc in $(elapsed "$t") s"
  return $rc
}
section() {  # section OUT NAME: the output of one command
  awk -v want="@@@$2" '/^@@@/ { on = ($0 == want); next } on' "$1"
}

run_crash "$dir/vmcore" "$tmp/raw.out"; raw_rc=$?
run_crash "$ours" "$tmp/ours.out"; ours_rc=$?

if ((raw_rc != 0)) || ! grep -q '^@@@end' "$tmp/raw.out"; then
  say "crash $(crash --version 2>/dev/null | awk '/^crash /{print $2; exit}') cannot open even the raw $kernel vmcore (exit $raw_rc):"
  grep -E '^crash:' "$tmp/raw.out" | sed 's/^/    /'
  say "  on our dump it gives exit $ours_rc:"
  grep -E '^crash:' "$tmp/ours.out" | sed 's/^/    /'
  if ((must_work)); then
    say "FAIL: crash must read $kernel dumps (--must-work), and cannot read the raw vmcore"
    exit 1
  fi
  if ((ours_rc == raw_rc)); then
    say "SKIPPED: crash itself cannot read $kernel dumps (raw fails too, the same way); no judge here"
    exit 77
  fi
  say "FAIL: crash fails differently on our dump than on the raw vmcore"
  exit 1
fi
for cmd in log bt ps sys; do section "$tmp/raw.out" $cmd >"$tmp/raw.$cmd"; done
# sys names the dump file and its size: compare the kernel facts only.
grep -Ev '^ *(DUMPFILE|KERNEL):' "$tmp/raw.sys" >"$tmp/raw.sys.k"

judge() {  # judge NAME RC: crash's output in $tmp/NAME.out against the raw vmcore's
  local name=$1 rc=$2 cmd lines
  say "-- $name"
  check "$rc" "crash opens it (exit $rc)"
  grep -q '^@@@end' "$tmp/$name.out"; check $? "crash ran every command"
  for cmd in log bt ps sys; do section "$tmp/$name.out" $cmd >"$tmp/$name.$cmd"; done
  grep -Ev '^ *(DUMPFILE|KERNEL):' "$tmp/$name.sys" >"$tmp/$name.sys.k"
  for cmd in log bt ps sys.k; do
    lines=$(wc -l <"$tmp/$name.$cmd")
    cmp -s "$tmp/raw.$cmd" "$tmp/$name.$cmd"
    check $? "crash '${cmd%.k}': $lines lines, identical to the raw vmcore's"
    cmp -s "$tmp/raw.$cmd" "$tmp/$name.$cmd" || diff "$tmp/raw.$cmd" "$tmp/$name.$cmd" | head -10
  done
  grep -q 'sysrq: Trigger a crash' "$tmp/$name.log"
  check $? "log holds the sysrq trigger: $(grep -m1 'sysrq: Trigger a crash' "$tmp/$name.log")"
  grep -q 'Kernel panic - not syncing' "$tmp/$name.log"
  check $? "log holds the panic line: $(grep -m1 'Kernel panic - not syncing' "$tmp/$name.log")"
  grep -Eq 'sysrq_handle_crash|panic' "$tmp/$name.bt"
  check $? "bt shows a sysrq/panic frame: $(grep -Em1 'sysrq_handle_crash|panic' "$tmp/$name.bt" | sed 's/^ *//')"
  grep -Eq '^[> ]+1 +0 +[0-9]+ +[0-9a-f]+ +[A-Z]+ .*(init|sh)' "$tmp/$name.ps"
  check $? "ps lists pid 1: $(grep -Em1 '^[> ]+1 +0 ' "$tmp/$name.ps" | sed 's/  */ /g')"
  # (crash 8.0.2 lists only the tasks it finds in the PID hash: on the 6.1
  # dump that is swapper and init, the raw vmcore alike; equality covers it.)
  local tasks
  tasks=$(grep -Ec '^[> ]+[0-9]+ +[0-9]+ +[0-9]+ +[0-9a-f]{16}' "$tmp/$name.ps")
  ((tasks >= 2)); check $? "ps lists $tasks tasks"
}

judge ours "$ours_rc"
# The dump vmcollect wrote itself inside the capture kernel (-l -d 1).
capture=$dir/capture/vmcore-vmcollect-l-d1
if [[ -f $capture ]]; then
  run_crash "$capture" "$tmp/capture.out"; capture_rc=$?
  judge capture "$capture_rc"
else
  check 1 "the capture kernel's dump $capture exists"
fi
if ((fail)); then
  for name in ours capture; do
    [[ -f $tmp/$name.out ]] && { say "--- crash on $name (tail)"; tail -30 "$tmp/$name.out"; }
  done
  exit 1
fi
say "PASS: crash log/bt/ps/sys on our ${opts[*]} dump and on the capture kernel's -l -d 1 dump of $kernel equal the raw vmcore's ($(elapsed "$t0") s in all)"
