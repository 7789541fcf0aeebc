#!/usr/bin/env bash
# The conventions kdump scripts rely on when they call `makedumpfile` (issue
# 8): exit statuses, closing lines, message levels, progress, --check-params,
# -F/-R, refusals, `file`. One CTest test per case:
#   conventions.sh CASE
# Environment: VMCOLLECT (binary), MAKE_TEST_DUMP (tests/collector/cli/make_test_dump);
# the real_* cases also VMCOLLECT_VM_DIR (a tests/vm dump) and VMCOLLECT_VM_KERNEL.
# Where Debian's makedumpfile 1.7.2 is the reference, the case runs it too.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

synthetic() { # synthetic NAME [make_test_dump options]: a small ELF vmcore in $T/NAME
  local name=$1
  shift
  [[ -f $T/$name ]] || "${MAKE_TEST_DUMP:?}" "$T/$name" "$@"
}

# ---------------------------------------------------------------- exit codes, closing lines
case_closing_lines() {
  synthetic vmcore
  cd "$T"
  run_to ok "$MDF" -l -d 31 vmcore out.kdump
  expect_eq "makedumpfile -l -d 31: exit" "$(rc_of ok)" 0
  expect_eq "closing lines (stdout)" "$(tail_lines ok.out 4)" "|The dumpfile is saved to out.kdump.||makedumpfile Completed.|"
  run_to own "$VMC" -l -d 31 vmcore out2.kdump
  expect_eq "as vmcollect: exit" "$(rc_of own)" 0
  expect_eq "as vmcollect: its own name" "$(tail_lines own.out 2)" "|vmcollect Completed.|"
  # An existing DUMPFILE is an error (makedumpfile: "File exists"), left untouched.
  echo keep >exists
  run_to exists "$MDF" -l -d 31 vmcore exists
  expect_eq "existing DUMPFILE: exit" "$(rc_of exists)" 1
  expect_eq "existing DUMPFILE: closing line" "$(tail_lines exists.out 2)" "|makedumpfile Failed.|"
  expect_eq "existing DUMPFILE untouched" "$(cat exists)" keep
  expect_grep "existing DUMPFILE: error on stderr" exists.err "exists"
  run_to missing "$MDF" -l -d 31 no-such-vmcore out3
  expect_eq "missing VMCORE: exit" "$(rc_of missing)" 1
  expect_grep "missing VMCORE: named on stderr" missing.err "no-such-vmcore"
  expect_eq "missing VMCORE: no DUMPFILE" "$(ls out3 2>/dev/null || echo none)" none
}

case_exit_mismatch() {
  synthetic vmcore --vmcoreinfo-out "$T/same.vmcoreinfo"
  synthetic other --kernel debian_6_12 --vmcoreinfo-out "$T/other.vmcoreinfo"
  cd "$T"
  run_to same "$MDF" -i same.vmcoreinfo -l -d 31 vmcore out1
  expect_eq "-i VMCOREINFO of the same release: exit" "$(rc_of same)" 0
  run_to other "$MDF" -i other.vmcoreinfo -l -d 31 vmcore out2
  expect_eq "-i VMCOREINFO of another release: exit" "$(rc_of other)" 2
  expect_grep "release mismatch: both releases named" other.err "6\.12\..*6\.1\.|6\.1\..*6\.12\."
  expect_eq "release mismatch: closing line" "$(tail_lines other.out 1)" "makedumpfile Failed.|"
  run_to dmesg "$MDF" -i other.vmcoreinfo --dump-dmesg vmcore log
  expect_eq "--dump-dmesg -i of another release: exit" "$(rc_of dmesg)" 2
}

case_unsupported_kernel() {
  synthetic future --kernel linux_7_1 --osrelease 99.1.0-future
  cd "$T"
  run_to fut "$MDF" -l -d 31 future out
  expect_eq "kernel newer than known: exit still 0" "$(rc_of fut)" 0
  expect_grep "kernel newer than known: makedumpfile's warning" fut.out "^The kernel version is not supported\.$"
  expect_grep "kernel newer than known: completed" fut.out "^makedumpfile Completed\.$"
  synthetic vmcore
  run_to known "$MDF" -l -d 31 vmcore out2
  expect_no_grep "known kernel: no warning" known.out "not supported"
}

case_disk_full() {
  synthetic vmcore
  cd "$T"
  run_to full "$MDF" -l -d 0 --inject-fault write-enospc=0x200000 vmcore partial
  expect_eq "ENOSPC (injected): exit" "$(rc_of full)" 1
  expect_eq "ENOSPC: closing line" "$(tail_lines full.out 1)" "makedumpfile Failed.|"
  expect_eq "ENOSPC: partial dump kept" "$([[ -s partial ]] && echo kept || echo gone)" kept
  expect_eq "ENOSPC: header marked incomplete (status & 8)" "$(( $(kdump_status partial) & 8 ))" 8
  expect_no_grep "ENOSPC: no 'saved' line" full.out "The dumpfile is saved"
  run_to whole "$MDF" -l -d 0 vmcore whole
  expect_eq "no fault: incomplete flag clear" "$(( $(kdump_status whole) & 8 ))" 0
  # A real full filesystem: a 4 MiB tmpfs in a private mount namespace (root only).
  if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
    mkdir -p small
    local rc=0
    unshare -m bash -c "mount -t tmpfs -o size=4m vmc-small small && \
      '$MDF' -l -d 0 vmcore small/dump >real.out 2>real.err; echo \$? >real.rc; \
      ls -l small/dump >real.ls 2>&1; cp small/dump real.partial 2>/dev/null; true" || rc=$?
    expect_eq "real ENOSPC (4 MiB tmpfs): exit" "$(cat real.rc)" 1
    expect_grep "real ENOSPC: error names no space" real.err "[Nn]o space"
    expect_eq "real ENOSPC: header marked incomplete" "$(( $(kdump_status real.partial) & 8 ))" 8
  fi
}

# ---------------------------------------------------------------- message levels
case_message_levels() {
  synthetic vmcore
  cd "$T"
  run_to l0 "$MDF" --message-level 0 -l -d 31 vmcore o0
  expect_eq "level 0: exit" "$(rc_of l0)" 0
  expect_eq "level 0: silent" "$(cat l0.out l0.err | tr -d '\n')" ""
  run_to l2 "$MDF" --message-level 2 -l -d 31 vmcore o2
  expect_grep "level 2 (common): closing line" l2.out "^makedumpfile Completed\.$"
  expect_eq "level 2: no progress on stderr" "$(wc -c <l2.err)" 0
  expect_no_grep "level 2: no report" l2.out "Original pages"
  run_to l1 env TERM=dumb "$MDF" --message-level 1 -l -d 31 vmcore o1
  expect_grep "level 1 (progress): progress on stderr" l1.err "Copying data.*\[ *[0-9.]+ %\]"
  expect_eq "level 1: nothing on stdout" "$(wc -c <l1.out)" 0
  run_to l16 "$MDF" --message-level 16 -l -d 31 vmcore o16
  expect_grep "level 16 (report): statistics" l16.out "^Original pages  : 0x[0-9a-f]{16}$"
  expect_no_grep "level 16: no closing line" l16.out "Completed"
  run_to l8 "$MDF" --message-level 8 -l -d 31 vmcore o8
  expect_grep "level 8 (debug): OSRELEASE as makedumpfile prints it" l8.out "^  OSRELEASE=6\.1\.0-26-amd64$"
  expect_grep "level 8 (debug): CRASHTIME as makedumpfile prints it" l8.out "^  CRASHTIME=1795999254$"
  run_to l7 env TERM=dumb "$MDF" -l -d 31 vmcore o7
  expect_grep "default (7): closing line" l7.out "^makedumpfile Completed\.$"
  expect_grep "default (7): progress" l7.err "Copying data"
  expect_no_grep "default (7): no debug" l7.out "OSRELEASE"
  # Errors: level 4 prints them, level 3 does not.
  : >taken
  run_to e4 "$MDF" --message-level 4 -l -d 31 vmcore taken
  expect_grep "level 4 (error): the error" e4.err "taken"
  run_to e3 "$MDF" --message-level 3 -l -d 31 vmcore taken
  expect_no_grep "level 3: no error text" e3.err "taken"
  expect_eq "level 3: still exit 1" "$(rc_of e3)" 1
  run_to bad "$MDF" --message-level 32 -l -d 31 vmcore o32
  expect_eq "--message-level 32 refused" "$(rc_of bad)" 1
}

# ---------------------------------------------------------------- progress
case_progress_format() {
  synthetic vmcore
  need script
  cd "$T"
  run_to dumb env TERM=dumb "$MDF" -l -d 31 vmcore p1
  expect_grep "TERM=dumb: progress lines" dumb.err "^Copying data +: \[100\.0 %\]"
  expect_eq "TERM=dumb: no carriage return" "$(tr -cd '\r' <dumb.err | wc -c)" 0
  run_to file env TERM=xterm "$MDF" -l -d 31 vmcore p2
  expect_eq "stderr not a terminal: no carriage return" "$(tr -cd '\r' <file.err | wc -c)" 0
  expect_grep "stderr not a terminal: one line per update" file.err "^Copying data.*\]"
  # On a terminal (a pty from script(1)): redrawn in place with '\r'.
  TERM=xterm script -qfec "'$MDF' --message-level 1 -l -d 31 vmcore p3" /dev/null >tty.out 2>&1 </dev/null || true
  expect_grep "terminal: progress" tty.out "Copying data"
  if (($(tr -cd '\r' <tty.out | wc -c) > 0)); then pass "terminal: redrawn with \\r"; else fail "terminal: no \\r in $(cat -A tty.out | head -c 300)"; fi
  TERM=dumb script -qfec "'$MDF' --message-level 1 -l -d 31 vmcore p4" /dev/null >ttydumb.out 2>&1 </dev/null || true
  # script's pty turns '\n' into '\r\n': count only '\r' not followed by '\n'.
  local lone
  lone=$(sed 's/\r$//' ttydumb.out | tr -cd '\r' | wc -c)
  expect_eq "terminal with TERM=dumb: no redraw" "$lone" 0
}

# ---------------------------------------------------------------- --check-params and refusals
# Each line: arguments (VMCORE and OUT are placeholders). Debian's makedumpfile
# decides what --check-params answers; vmcollect must answer the same, and a
# refused line run for real must exit 1 with a message and create nothing.
PARAM_TABLE=(
  "-l --message-level 7 -d 31 vmcore dumpfile"   # Red Hat mkdumprd's own check, literally
  "-F -l --message-level 7 -d 31 vmcore"         # ... for ssh and raw targets
  "-l --message-level 7 -d 31 VMCORE OUT"
  "-c -d 31 VMCORE OUT"
  "-F -c -d 31 VMCORE"
  "-E -d 31 VMCORE OUT"
  "-E -F -d 1 VMCORE"
  "-R OUT"
  "--dump-dmesg VMCORE OUT"
  "--dump-dmesg -F VMCORE"
  "-d 1,31 VMCORE OUT"
  "--num-threads 0 -d 31 VMCORE OUT"
  "-E --num-threads 0 -d 31 VMCORE OUT"
  "-E -c -d 31 VMCORE OUT"
  "-E -l -d 31 VMCORE OUT"
  "-E --num-threads 2 VMCORE OUT"
  "-F -R OUT"
  "-R OUT OUT2"
  "-F -c -d 31 VMCORE OUT"
  "-d 31 VMCORE"
  "-d 32 VMCORE OUT"
  "--message-level 32 -d 31 VMCORE OUT"
  "--dump-dmesg VMCORE"
  "--dump-dmesg -F VMCORE OUT"
  "-c"
)

case_check_params() {
  need "$DEBIAN_MDF"
  cd "$T"
  local line args want got
  for line in "${PARAM_TABLE[@]}"; do
    # /proc/vmcore does not exist outside a capture kernel: --check-params must not open it.
    args=${line//VMCORE//proc/vmcore}
    args=${args//OUT2/$T/never2}
    args=${args//OUT/$T/never}
    # shellcheck disable=SC2086
    want=0; "$DEBIAN_MDF" --check-params $args >/dev/null 2>&1 </dev/null || want=$?
    # shellcheck disable=SC2086
    got=0; "$MDF" --check-params $args >cp.out 2>cp.err </dev/null || got=$?
    expect_eq "--check-params $line: as Debian's makedumpfile" "$got" "$want"
  done
  expect_eq "--check-params created nothing" "$(ls never never2 dumpfile 2>/dev/null | wc -l)" 0
}

case_refusals() {
  synthetic vmcore
  need "$DEBIAN_MDF"
  cd "$T"
  local line args want n=0
  for line in "${PARAM_TABLE[@]}"; do
    args=${line//VMCORE/vmcore}
    args=${args//OUT2/never2}
    args=${args//OUT/never}
    # shellcheck disable=SC2086
    want=0; "$DEBIAN_MDF" --check-params $args >/dev/null 2>&1 </dev/null || want=$?
    ((want != 0)) || continue
    n=$((n + 1))
    # shellcheck disable=SC2086
    run_to refused "$MDF" $args
    expect_eq "refused: $line: exit" "$(rc_of refused)" 1
    if [[ -s refused.err ]] || grep -q "invalid" refused.out; then pass "refused: $line: says why"; else fail "refused: $line: no message"; fi
    expect_eq "refused: $line: nothing written" "$(ls never never2 2>/dev/null | wc -l)" 0
    rm -f never never2
  done
  ((n >= 8)) || fail "only $n refused lines in the table"
}

# ---------------------------------------------------------------- outputs that are not ours (issue 18)
# -f onto a device, a symlink, a directory; an output that is an input; a FIFO
# as VMCORE; -R stopped by SIGTERM on a quiet pipe and cut short by a full
# disk; messages that quote the dump.
case_hostile_outputs() {
  synthetic vmcore
  cd "$T"
  mknod cdev c 1 3 && chmod 644 cdev # /dev/null's numbers
  run_to cdev "$MDF" -f -l -d 31 vmcore cdev
  expect_eq "-f onto a character device: exit" "$(rc_of cdev)" 1
  expect_grep "-f onto a character device: named as one" cdev.err "cdev is a character device"
  expect_eq "-f onto a character device: its mode unchanged" "$(stat -c %a cdev)" 644

  echo keep >victim && chmod 644 victim && ln -s victim link
  run_to link "$MDF" -f -l -d 31 vmcore link
  expect_eq "-f onto a symlink: exit" "$(rc_of link)" 0
  expect_eq "-f onto a symlink: the target untouched" "$(cat victim) $(stat -c %a victim)" "keep 644"
  expect_eq "-f onto a symlink: the link replaced by a 0600 file" "$(stat -c '%F %a' link)" "regular file 600"

  mkdir dir
  run_to dir "$MDF" -l -d 31 vmcore dir
  expect_eq "a directory as DUMPFILE: exit" "$(rc_of dir)" 1
  expect_grep "a directory as DUMPFILE: named as one" dir.err "dir is a directory"
  expect_no_grep "a directory as DUMPFILE: not 'already exists'" dir.err "already exists"

  "$MDF" -l -d 1 vmcore x.kdump >/dev/null 2>&1 || fail "-l -d 1 vmcore x.kdump failed"
  "$MDF" --split -d 1 vmcore a1 a2 a3 >/dev/null 2>&1 || fail "--split vmcore a1 a2 a3 failed"
  local sums
  sums=$(sha256sum vmcore x.kdump a1)
  run_to same_kdump "$MDF" -f -l -d 1 x.kdump x.kdump
  expect_eq "re-filtering a kdump onto itself: exit" "$(rc_of same_kdump)" 1
  expect_grep "onto itself: says why" same_kdump.err "x.kdump is the same file as the input x.kdump"
  run_to same_elf "$MDF" -f -l -d 1 vmcore ./vmcore
  expect_eq "an ELF vmcore onto itself (./vmcore): exit" "$(rc_of same_elf)" 1
  run_to same_parts "$MDF" --reassemble a1 a2 a3 a1 -f
  expect_eq "--reassemble a1 a2 a3 a1: exit" "$(rc_of same_parts)" 1
  expect_eq "every input intact" "$(sha256sum vmcore x.kdump a1)" "$sums"
  run_to same_split "$MDF" --split -d 1 vmcore s1 s1
  expect_eq "--split s1 s1: exit" "$(rc_of same_split)" 1
  expect_grep "--split s1 s1: says why" same_split.err "the dumpfiles s1 and s1 are the same file"
  expect_eq "--split s1 s1: nothing written" "$(ls s1 2>/dev/null | wc -l)" 0

  mkfifo fifo
  local rc=0
  timeout 20 "$MDF" -l -d 1 fifo never >fifo.out 2>fifo.err </dev/null || rc=$?
  expect_eq "a FIFO as VMCORE: exit (not a wait for a writer)" "$rc" 1
  expect_grep "a FIFO as VMCORE: named as a pipe" fifo.err "fifo is a pipe"

  # -R waiting on a pipe that says nothing (we hold its write end open): SIGTERM
  # stops it, no file left.
  mkfifo quiet
  exec 9<>quiet
  "$MDF" -R waiting.kdump <quiet >wait.out 2>wait.err &
  local pid=$! i
  sleep 1
  kill -TERM "$pid"
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    fail "-R on a quiet pipe: still running 5 s after SIGTERM"
    kill -KILL "$pid"
  fi
  rc=0
  wait "$pid" || rc=$?
  exec 9>&-
  expect_eq "-R on a quiet pipe, SIGTERM: exit" "$rc" 1
  expect_grep "-R on a quiet pipe, SIGTERM: says so" wait.err "interrupted by signal 15"
  expect_eq "-R on a quiet pipe, SIGTERM: no empty file left" "$(ls waiting.kdump 2>/dev/null | wc -l)" 0

  # -R onto a full disk: the rebuilt header says incomplete, exit 1.
  "$MDF" -F -l -d 31 vmcore >stream.flat 2>/dev/null || fail "-F failed"
  rc=0
  "$MDF" -R full.kdump --inject-fault write-enospc=200000 <stream.flat >full.out 2>full.err || rc=$?
  expect_eq "-R onto a full disk: exit" "$rc" 1
  expect_eq "-R onto a full disk: marked incomplete" "$(($(kdump_status full.kdump) & 8))" 8
  expect_grep "-R onto a full disk: says so" full.err "is incomplete"

  head -c 100 vmcore >cut.elf
  run_to cut "$MDF" -l -d 1 cut.elf never
  expect_grep "a cut ELF file: 'as an ELF dump'" cut.err "as an ELF dump"

  printf 'OSRELEASE=6.1.0-\033]0;owned\007\033[2J\nPAGESIZE=4096\n' >evil.vmcoreinfo
  run_to evil "$MDF" -i evil.vmcoreinfo -l -d 31 vmcore never
  expect_eq "control bytes in -i: no raw escape reaches the terminal" "$(tr -cd '\033\007' <evil.err | wc -c)" 0
  expect_grep "control bytes in -i: shown escaped" evil.err '\\x1b\]0;owned\\x07'
}

# ---------------------------------------------------------------- -F, -R, file(1)
case_flatten_rearrange() {
  synthetic vmcore
  cd "$T"
  run_to direct "$MDF" -c -d 31 vmcore direct.kdump
  # -F to a pipe, rebuilt by -R on the far side.
  local rc
  set +e
  "$MDF" -F -c -d 31 vmcore 2>f.err | "$MDF" -R viapipe.kdump >r.out 2>r.err
  rc="${PIPESTATUS[0]}/${PIPESTATUS[1]}"
  set -e
  expect_eq "-F | -R: exits" "$rc" "0/0"
  if cmp -s direct.kdump viapipe.kdump; then pass "-F | -R gives the bytes of a direct run"; else fail "-F | -R differs from the direct run"; fi
  expect_grep "-R: closing line" r.out "^The dumpfile is saved to viapipe\.kdump\.$"
  "$MDF" -F -c -d 31 vmcore >stream.flat 2>/dev/null
  # Debian's makedumpfile -R reads our stream into the same file.
  if [[ -x $DEBIAN_MDF ]]; then
    "$DEBIAN_MDF" -R debian.kdump <stream.flat >/dev/null 2>&1 || fail "Debian makedumpfile -R failed on our stream"
    if cmp -s direct.kdump debian.kdump; then pass "Debian makedumpfile -R rebuilds our stream identically"; else fail "Debian's -R rebuild differs"; fi
  fi
  # Junk after the end marker (a raw device is bigger than the stream): stop at the marker.
  { cat stream.flat; head -c 3000000 /dev/urandom; } >junk.flat
  "$MDF" -R junk.kdump <junk.flat >junk.out 2>junk.err && echo 0 >junk.rc || echo $? >junk.rc
  expect_eq "-R with junk after the marker: exit" "$(rc_of junk)" 0
  if cmp -s direct.kdump junk.kdump; then pass "-R stops at the end marker"; else fail "-R with trailing junk differs"; fi
  # The same from a block device (loop), when root.
  if [[ $(id -u) == 0 ]] && command -v losetup >/dev/null; then
    local dev
    truncate -s $(( ($(stat -c %s junk.flat) / 1048576 + 2) * 1048576 )) dev.img
    dd if=junk.flat of=dev.img conv=notrunc status=none
    if dev=$(losetup -f --show dev.img 2>/dev/null); then
      cleanup_hooks+=("losetup -d $dev")
      "$MDF" -R blk.kdump <"$dev" >blk.out 2>blk.err && echo 0 >blk.rc || echo $? >blk.rc
      expect_eq "-R from a block device: exit" "$(rc_of blk)" 0
      if cmp -s direct.kdump blk.kdump; then pass "-R from a block device"; else fail "-R from a block device differs"; fi
    fi
  fi
  # No stream at all: fail clearly.
  head -c 1048576 /dev/urandom >nostream
  "$MDF" -R none.kdump <nostream >none.out 2>none.err && echo 0 >none.rc || echo $? >none.rc
  expect_eq "-R without a stream: exit" "$(rc_of none)" 1
  expect_grep "-R without a stream: says so" none.err "[Ff]lattened|signature|stream"
  "$MDF" -R empty.kdump </dev/null >empty.out 2>empty.err && echo 0 >empty.rc || echo $? >empty.rc
  expect_eq "-R on empty input: exit" "$(rc_of empty)" 1
  # A reader that goes away: exit 1, no hang.
  set +e
  timeout 60 "$MDF" -F -d 0 vmcore 2>early.err | head -c 1000 >/dev/null
  rc=${PIPESTATUS[0]}
  set -e
  expect_eq "-F into a pipe closed early: exit" "$rc" 1
}

case_file_magic() {
  synthetic vmcore
  need file
  cd "$T"
  local f
  for f in -c -l -z -p; do
    "$MDF" "$f" -d 31 vmcore "out$f" >/dev/null 2>&1 || { fail "$f run failed"; continue; }
    expect_grep "file(1) on $f output" <(file "out$f") "Kdump compressed dump"
  done
  "$MDF" -d 31 vmcore out-none >/dev/null 2>&1
  expect_grep "file(1) on uncompressed kdump output" <(file out-none) "Kdump compressed dump"
}

# ---------------------------------------------------------------- on a real dump (label vm)
real_vmcore() {
  : "${VMCOLLECT_VM_DIR:?}"
  [[ -f $VMCOLLECT_VM_DIR/vmcore ]] || { echo "FAIL: no $VMCOLLECT_VM_DIR/vmcore" >&2; exit 1; }
  echo "$VMCOLLECT_VM_DIR/vmcore"
}

# Debian's makedumpfile and vmcollect-as-makedumpfile on the same real vmcore:
# the same debug lines for OSRELEASE and CRASHTIME, the same closing lines, and
# file(1) agreeing on both outputs.
case_real_vs_makedumpfile() {
  local v
  v=$(real_vmcore)
  need "$DEBIAN_MDF" file
  cd "$T"
  run_to deb "$DEBIAN_MDF" --message-level 31 -l -d 31 "$v" dump
  mv dump deb.kdump
  run_to ours "$MDF" --message-level 31 -l -d 31 "$v" dump
  mv dump ours.kdump
  expect_eq "exit (ours)" "$(rc_of ours)" "$(rc_of deb)"
  local key
  for key in OSRELEASE CRASHTIME; do
    expect_eq "debug line $key" "$(grep -E "^  $key=" ours.out | head -n1)" "$(grep -E "^  $key=" deb.out | head -n1)"
  done
  expect_eq "closing lines" "$(tail_lines ours.out 4)" "$(tail_lines deb.out 4)"
  # The progress line's layout (label width, percent, spinner, ETA), spinner masked.
  last_progress() { tr '\r' '\n' <"$1" | grep '^Copying data' | tail -n 1 | sed 's/\] [-/|\\]  /] S  /'; }
  expect_eq "progress line layout" "$(last_progress ours.err)" "$(last_progress deb.err)"
  expect_eq "file(1)" "$(file -b ours.kdump | cut -d, -f1)" "$(file -b deb.kdump | cut -d, -f1)"
  expect_grep "file(1) says Kdump compressed dump" <(file ours.kdump) "Kdump compressed dump"
}

# Progress at most once a second, with an ETA, one line each when not on a
# terminal: each stderr line is stamped as it arrives, and two "Copying data"
# lines below 100 % must be more than 0.5 s apart (the writer throttles to 1 s;
# the margin is for a loaded reader), and no more lines than seconds + 2.
case_real_progress() {
  local v t0 t1 lines secs
  v=$(real_vmcore)
  cd "$T"
  t0=$EPOCHREALTIME
  TERM=dumb "$MDF" --num-threads 1 -c -d 1 "$v" prog.kdump 2>&1 >prog.out |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >prog.stamped
  t1=$EPOCHREALTIME
  sed 's/^[0-9.]* //' prog.stamped >prog.err
  secs=$(echo "$t1 $t0" | awk '{printf "%d", $1 - $2 + 0.999}')
  lines=$(grep -c "^Copying data" prog.err || true)
  echo "run took ${secs}s, $lines progress lines"
  expect_grep "run completed" prog.out "^makedumpfile Completed\.$"
  ((secs >= 3)) || echo "note: the run was short (${secs}s); the rate check is weak"
  local closest
  closest=$(awk '$2 == "Copying" && $0 !~ /\[100\.0 %\]/ { if (prev != "") { d = $1 - prev; if (min == "" || d < min) min = d } prev = $1 }
                 END { printf "%.2f", (min == "" ? 99 : min) }' prog.stamped)
  if awk -v m="$closest" 'BEGIN { exit !(m >= 0.5) }'; then pass "progress lines throttled (closest gap ${closest}s, $lines lines over ${secs}s)"; else
    fail "two progress lines ${closest}s apart"; fi
  ((lines >= 2 && lines <= secs + 2)) && pass "$lines progress lines over ${secs}s" ||
    fail "$lines progress lines over ${secs}s"
  expect_grep "ETA shown" prog.err "eta: [0-9]"
  expect_eq "no carriage return" "$(tr -cd '\r' <prog.err | wc -c)" 0
  expect_grep "reaches 100 %" prog.err "^Copying data +: \[100\.0 %\]"
}

# --dump-dmesg: as vmcollect and with -F, plain text on stdout equal to
# kexec-tools' vmcore-dmesg; as makedumpfile, makedumpfile's text, which with
# the caller column taken out equals Debian's makedumpfile 1.7.2 byte for byte,
# whole and with --partial-dmesg (the guest ran `dmesg -c` before the panic);
# and vmcollect invoked as vmcore-dmesg.
case_real_dmesg_stdout() {
  local v
  v=$(real_vmcore)
  need /usr/sbin/vmcore-dmesg
  need "$DEBIAN_MDF"
  cd "$T"
  /usr/sbin/vmcore-dmesg "$v" >ref.txt 2>ref.err || fail "kexec-tools vmcore-dmesg failed: $(cat ref.err)"
  run_to ours "$VMC" --dump-dmesg -F "$v"
  expect_eq "--dump-dmesg -F: exit" "$(rc_of ours)" 0
  if cmp -s ref.txt ours.out; then pass "--dump-dmesg -F stdout equals vmcore-dmesg ($(wc -l <ref.txt) lines)"; else
    fail "--dump-dmesg -F stdout differs from vmcore-dmesg"
    diff ref.txt ours.out | head -n 10 >&2 || true
  fi
  run_to mdf "$MDF" --dump-dmesg -F "$v"
  expect_eq "as makedumpfile, --dump-dmesg -F: exit" "$(rc_of mdf)" 0
  expect_grep "--dump-dmesg -F: closing line on stderr" mdf.err "makedumpfile Completed\."
  expect_grep "as makedumpfile: the caller column" mdf.out '^\[ *[0-9]+\.[0-9]{6}\] \[ *T[0-9]+\] '
  local mode
  for mode in whole partial; do
    local extra=() label="--dump-dmesg"
    [[ $mode == partial ]] && extra=(--partial-dmesg) label="--dump-dmesg --partial-dmesg"
    rm -f "debian-$mode.txt" "ours-$mode.txt"
    "$DEBIAN_MDF" --dump-dmesg "${extra[@]}" "$v" "debian-$mode.txt" >/dev/null 2>&1 ||
      fail "Debian's makedumpfile $label failed"
    run_to "mdf-$mode" "$MDF" --dump-dmesg "${extra[@]}" "$v" "ours-$mode.txt"
    expect_eq "as makedumpfile, $label: exit" "$(rc_of "mdf-$mode")" 0
    if without_caller_column "ours-$mode.txt" | cmp -s "debian-$mode.txt" -; then
      pass "as makedumpfile, $label without the caller column equals Debian's makedumpfile ($(wc -l <"debian-$mode.txt") lines)"
    else
      fail "as makedumpfile, $label differs from Debian's makedumpfile beyond the caller column"
      without_caller_column "ours-$mode.txt" | diff "debian-$mode.txt" - | head -n 10 >&2 || true
    fi
  done
  local whole partial
  whole=$(wc -l <ours-whole.txt) partial=$(wc -l <ours-partial.txt)
  ((partial > 0 && partial < whole)) && pass "--partial-dmesg keeps $partial of $whole lines" ||
    fail "--partial-dmesg keeps $partial of $whole lines"
  head -n 1 ours-partial.txt >partial-first.txt
  expect_grep "--partial-dmesg starts at the guest's dmesg -c" partial-first.txt "the kernel log was cleared here"
  run_to vd "$T/bin/vmcore-dmesg" "$v"
  expect_eq "as vmcore-dmesg: exit" "$(rc_of vd)" 0
  if cmp -s ref.txt vd.out; then pass "as vmcore-dmesg: stdout equals kexec-tools' vmcore-dmesg"; else fail "as vmcore-dmesg: stdout differs"; fi
}

# As vmcore-dmesg, failures before the log keep kexec-tools' words and exit
# statuses (1 usage, 2 cannot open, 3 short read, 4 no signature), judged by
# running the real tool on the same inputs; nothing reaches stdout.
case_vmcore_dmesg_statuses() {
  local ref=/usr/sbin/vmcore-dmesg
  need "$ref"
  cd "$T"
  printf 'hello\n' >short
  head -c 4096 /dev/zero | tr '\0' 'x' >notadump
  mkdir -p adir
  local name inputs
  for name in usage missing short notadump adir; do
    case $name in
      usage) inputs=() ;;
      missing) inputs=("$T/no-such-vmcore") ;;
      *) inputs=("$T/$name") ;;
    esac
    run_to "ref-$name" "$ref" "${inputs[@]}"
    run_to "ours-$name" "$T/bin/vmcore-dmesg" "${inputs[@]}"
    expect_eq "as vmcore-dmesg, $name: exit status" "$(rc_of "ours-$name")" "$(rc_of "ref-$name")"
    expect_eq "as vmcore-dmesg, $name: message" "$(sed "s|$T/bin/vmcore-dmesg|vmcore-dmesg|" "ours-$name.err")" \
      "$(sed "s|$ref|vmcore-dmesg|" "ref-$name.err")"
    expect_eq "as vmcore-dmesg, $name: nothing on stdout" "$(wc -c <"ours-$name.out")" 0
  done
}

case=${1:?usage: conventions.sh CASE}
declare -F "case_$case" >/dev/null || { echo "no case $case" >&2; exit 2; }
"case_$case"
finish
