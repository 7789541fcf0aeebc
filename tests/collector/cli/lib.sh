# Shared by the tests/collector/cli scripts (sourced, bash). Why: each CTest case is one
# function in a script; this holds the scaffolding they share (a scratch
# directory, vmcollect under the names kdump scripts call it by, assertions
# that say what differed).
set -euo pipefail

: "${VMCOLLECT:?VMCOLLECT must name the vmcollect binary}"
CLI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/vmc-cli.XXXXXX")
cleanup_hooks=()
cli_cleanup() {
  local h
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf "$T"
}
trap cli_cleanup EXIT

# vmcollect under the names scripts use, as the package's alternatives do.
mkdir -p "$T/bin"
ln -s "$(readlink -f "$VMCOLLECT")" "$T/bin/makedumpfile"
ln -s "$(readlink -f "$VMCOLLECT")" "$T/bin/vmcore-dmesg"
ln -s "$(readlink -f "$VMCOLLECT")" "$T/bin/vmcollect"
MDF=$T/bin/makedumpfile
VMC=$T/bin/vmcollect
DEBIAN_MDF=/usr/bin/makedumpfile

fails=0
checks=0
pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() {
  checks=$((checks + 1))
  fails=$((fails + 1))
  echo "FAIL: $*" >&2
}
# expect_eq WHAT GOT WANT
expect_eq() {
  if [[ $2 == "$3" ]]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
# expect_grep WHAT FILE REGEX (grep -E)
expect_grep() {
  if grep -Eq -- "$3" "$2"; then pass "$1"; else
    fail "$1: /$3/ not in $2:"
    sed 's/^/    | /' "$2" | head -n 20 >&2
  fi
}
expect_no_grep() {
  if grep -Eq -- "$3" "$2"; then
    fail "$1: /$3/ unexpectedly in $2:"
    grep -En -- "$3" "$2" | head -n 5 | sed 's/^/    | /' >&2
  else pass "$1"; fi
}
# need TOOL...: a missing tool is a failure in CI (setup-deps installs it), a skip elsewhere.
need() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 && continue
    if [[ ${CI:-} == true ]]; then
      echo "FAIL: $t is not installed (tests/setup-deps.sh installs it)" >&2
      exit 1
    fi
    echo "SKIP: $t is not installed"
    exit 77
  done
}
finish() {
  echo "$checks checks, $fails failed"
  ((checks > 0)) || { echo "FAIL: no check ran" >&2; exit 1; }
  ((fails == 0))
}
# run_to PREFIX CMD...: stdout/stderr in $T/PREFIX.{out,err}, exit status in $T/PREFIX.rc
run_to() {
  local p=$1 rc=0
  shift
  "$@" >"$T/$p.out" 2>"$T/$p.err" </dev/null || rc=$?
  echo "$rc" >"$T/$p.rc"
  return 0
}
rc_of() { cat "$T/$1.rc"; }
# The last N lines of a file, joined with '|'.
tail_lines() { tail -n "$2" "$1" | tr '\n' '|'; }
# The kdump header's status word (offset 424; bit 0x8: incomplete).
kdump_status() { od -An -t u4 -j 424 -N 4 "$1" | tr -d ' '; }

# makedumpfile's --dump-dmesg text without its caller column ("[    T123] ",
# 1.7.5+), continuation lines indented as 1.7.2 indents them: what Debian's
# makedumpfile 1.7.2 prints for the same log.
without_caller_column() {
  sed -E 's/^(\[ *[0-9]+\.[0-9]{6}\] )\[ *[TC][0-9]+\] /\1/; s/^ {26}/               /' "$1"
}
