#!/bin/bash
# Whole-run comparison of vmcollect against Debian's makedumpfile on one real
# dump, in the same run, interleaved: every repetition runs every
# configuration of both tools back to back (the order alternating per
# repetition), so a machine shared with other work slows both alike and the
# ratios stay meaningful even when the absolute times do not.
#
#   bench/compare.sh --dump /var/tmp/vmc-dumps/6.1/vmcore --build build-perf [--reps 7]
#
# Reports per configuration: min and median wall time of each tool and their
# ratio (makedumpfile / vmcollect: > 1 means vmcollect is faster), peak RSS
# of both (/usr/bin/time %M, KiB) and output sizes. Then vmcollect at 2
# threads against 1 thread, beside what this machine's two CPUs give two
# independent jobs: two 1-thread runs started together ("pair"), whose
# ceiling = 2 x (1-thread time) / (time until both are done). No parallel
# engine can beat that ceiling. Then the codec limit: bench/codec_limit
# compresses exactly the pages vmcollect stored, in a tight loop with one
# kept codec context, and "overhead" is how much longer the whole vmcollect
# run took. Beside it the I/O floor no collector avoids either: reading the
# kept pages out of the page cache and writing the stored bytes.
#
# Outputs go to --out (default /dev/shm/vmc-bench, a tmpfs): the tools are
# measured, not the shared disk. vmcollect fsyncs its output, makedumpfile
# does not; on tmpfs fsync costs nothing, so the two do the same work.
# makedumpfile is Debian's 1.7.2, built without zstd: its -z is ignored (it
# then writes uncompressed), so -z configurations compare vmcollect only.
set -euo pipefail

dump=/var/tmp/vmc-dumps/6.1/vmcore
build=''
mdf=/usr/bin/makedumpfile
reps=7
outdir=/dev/shm/vmc-bench
only=''
usage() {
  sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
  echo "options: --dump FILE --build DIR (has collector/vmcollect, bench/codec_limit)"
  echo "         --makedumpfile BIN --reps N --out DIR --only vs|threads|limit"
}
while [[ $# -gt 0 ]]; do
  case $1 in
    --dump) dump=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --makedumpfile) mdf=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --out) outdir=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "$0")/.." && pwd)
[[ -n $build ]] || build=$here/build
vmc=$build/collector/vmcollect
limit_bin=$build/bench/codec_limit
for f in "$dump" "$vmc" "$mdf" /usr/bin/time; do
  [[ -e $f ]] || { echo "missing: $f" >&2; exit 1; }
done
mkdir -p "$outdir"
log=$outdir/runs.tsv
: >"$log"

# run_one TOOL CONFIG-NAME CMD...: one timed run; appends
# "tool config wall_µs rss_kib bytes cpu_µs" to the log (cpu: user + system).
run_one() {
  local tool=$1 name=$2
  shift 2
  local out=$outdir/out.$tool
  rm -f "$out"
  local t0 t1
  t0=$(date +%s%N)
  if ! /usr/bin/time -f '%M %U %S' -o "$outdir/time.$tool" "$@" "$out" >"$outdir/log.$tool" 2>&1; then
    echo "FAILED: $* $out (see $outdir/log.$tool)" >&2
    tail -n 5 "$outdir/log.$tool" >&2
    return 1
  fi
  t1=$(date +%s%N)
  local size
  size=$(stat -c %s "$out")
  local rss cpu
  read -r rss user sys <<<"$(tail -n 1 "$outdir/time.$tool")"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1e6 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$name" "$(((t1 - t0) / 1000))" "$rss" "$size" "$cpu" >>"$log"
  [[ $tool != keep-* ]] && rm -f "$out"
  return 0
}

# run_pair CONFIG-NAME CMD...: two copies at once, each with its own output;
# appends "pair config makespan_µs" (until both are done) to the log.
run_pair() {
  local name=$1
  shift
  local t0 t1 status=0
  rm -f "$outdir/out.pair1" "$outdir/out.pair2"
  t0=$(date +%s%N)
  "$@" "$outdir/out.pair1" >"$outdir/log.pair1" 2>&1 &
  local first=$!
  "$@" "$outdir/out.pair2" >"$outdir/log.pair2" 2>&1 || status=1
  wait "$first" || status=1
  t1=$(date +%s%N)
  rm -f "$outdir/out.pair1" "$outdir/out.pair2"
  if ((status)); then
    echo "FAILED: two at once: $* (see $outdir/log.pair1, log.pair2)" >&2
    return 1
  fi
  printf 'pair\t%s\t%s\t0\t0\t0\n' "$name" "$(((t1 - t0) / 1000))" >>"$log"
}

# The configurations. vs: vmcollect at 1 thread against makedumpfile (no
# threads). threads: vmcollect 2 threads against 1.
vs_configs=("-l -d 31" "-l -d 1" "-c -d 31")
thread_configs=("-c -d 1" "-z -d 1")
key() { echo "$1" | tr -d ' -'; }

rep_round() {
  local rep=$1 flags
  if [[ -z $only || $only == vs ]]; then
    for flags in "${vs_configs[@]}"; do
      # shellcheck disable=SC2086
      if ((rep % 2)); then
        run_one vmc "$(key "$flags")" "$vmc" $flags --num-threads 1 "$dump"
        run_one mdf "$(key "$flags")" "$mdf" $flags "$dump"
      else
        run_one mdf "$(key "$flags")" "$mdf" $flags "$dump"
        run_one vmc "$(key "$flags")" "$vmc" $flags --num-threads 1 "$dump"
      fi
    done
  fi
  if [[ -z $only || $only == threads ]]; then
    for flags in "${thread_configs[@]}"; do
      # shellcheck disable=SC2086
      if ((rep % 2)); then
        run_one vmc1 "$(key "$flags")" "$vmc" $flags --num-threads 1 "$dump"
        run_one vmc2 "$(key "$flags")" "$vmc" $flags --num-threads 2 "$dump"
      else
        run_one vmc2 "$(key "$flags")" "$vmc" $flags --num-threads 2 "$dump"
        run_one vmc1 "$(key "$flags")" "$vmc" $flags --num-threads 1 "$dump"
      fi
      # shellcheck disable=SC2086
      run_pair "$(key "$flags")" "$vmc" $flags --num-threads 1 "$dump"
    done
  fi
}

echo "dump: $dump ($(stat -c %s "$dump") bytes)"
echo "vmcollect: $vmc"
echo "makedumpfile: $mdf ($($mdf -v 2>&1 | head -n 1))"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; $reps repetitions + 1 warm-up"
rep_round 0 >/dev/null 2>&1 || true  # warm-up: page cache, not counted
: >"$log"
for ((rep = 1; rep <= reps; rep++)); do rep_round "$rep"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# colstat TOOL CONFIG FIELD: "min median" of a log column (3: wall µs, 4: KiB,
# 5: bytes, 6: CPU µs).
colstat() {
  awk -F'\t' -v t="$1" -v c="$2" -v f="$3" '$1 == t && $2 == c { print $f }' "$log" | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
           m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print v[1], m }'
}
# paired A B CONFIG: median over repetitions of (A's time / B's time) in the
# same repetition: the tools ran back to back, so a slow spell of the host
# slows both and the ratio keeps. (The i-th run of A is paired with B's i-th.)
paired() {
  awk -F'\t' -v a="$1" -v b="$2" -v c="$3" '
    $2 == c && $1 == a { x[++na] = $3 }
    $2 == c && $1 == b { y[++nb] = $3 }
    END {
      n = na < nb ? na : nb
      if (n == 0) { print "-"; exit }
      for (i = 1; i <= n; i++) r[i] = x[i] / y[i]
      for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j - 1] > r[j]; j--) { t = r[j]; r[j] = r[j - 1]; r[j - 1] = t }
      printf "%.2f", (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
    }' "$log"
}
secs() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# load_pair A B CONFIG: sets amin amed arss asize acpu (tool A) and the same
# with b (tool B): wall min and median, median RSS, min size, median CPU.
load_pair() {
  local side tool
  for side in a b; do
    [[ $side == a ]] && tool=$1 || tool=$2
    read -r "${side}min" "${side}med" <<<"$(colstat "$tool" "$3" 3)"
    read -r _ "${side}rss" <<<"$(colstat "$tool" "$3" 4)"
    read -r "${side}size" _ <<<"$(colstat "$tool" "$3" 5)"
    read -r _ "${side}cpu" <<<"$(colstat "$tool" "$3" 6)"
  done
}

if [[ -z $only || $only == vs ]]; then
  echo
  echo "## vmcollect (--num-threads 1) vs makedumpfile (no threads): wall seconds min / median"
  echo "(ratio = makedumpfile / vmcollect; paired = median of the ratios within a repetition;"
  echo " CPU = user + system, median)"
  echo
  echo "| config | vmcollect | makedumpfile | ratio min | ratio median | ratio paired | CPU s vmc / mdf (median) | CPU ratio | RSS MiB vmc / mdf | size vmc / mdf (bytes) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for flags in "${vs_configs[@]}"; do
    load_pair vmc mdf "$(key "$flags")"
    echo "| $flags | $(secs "$amin") / $(secs "$amed") | $(secs "$bmin") / $(secs "$bmed") |" \
      "$(ratio "$bmin" "$amin") | $(ratio "$bmed" "$amed") | $(paired mdf vmc "$(key "$flags")") |" \
      "$(secs "$acpu") / $(secs "$bcpu") | $(ratio "$bcpu" "$acpu") |" \
      "$(mib "$arss") / $(mib "$brss") |" \
      "$asize / $bsize ($(ratio "$asize" "$bsize")x) |"
  done
fi

if [[ -z $only || $only == threads ]]; then
  echo
  echo "## vmcollect --num-threads 2 vs 1: seconds min / median"
  echo
  echo "(paired = median of 1-thread / 2-thread within a repetition; ceiling = 2 x 1-thread / pair:"
  echo " what two independent 1-thread runs at once got from this machine, min / median / paired)"
  echo
  echo "| config | 1 thread | 2 threads | speed-up min | speed-up median | speed-up paired | pair (two 1-thread runs at once) | ceiling min / median / paired | RSS MiB 1 / 2 | size 1 / 2 (bytes) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for flags in "${thread_configs[@]}"; do
    load_pair vmc1 vmc2 "$(key "$flags")"
    read -r pmin pmed <<<"$(colstat pair "$(key "$flags")" 3)"
    pceil=$(awk -v p="$(paired vmc1 pair "$(key "$flags")")" 'BEGIN { if (p == "-") print "-"; else printf "%.2f", 2 * p }')
    echo "| $flags | $(secs "$amin") / $(secs "$amed") | $(secs "$bmin") / $(secs "$bmed") |" \
      "$(ratio "$amin" "$bmin") | $(ratio "$amed" "$bmed") | $(paired vmc1 vmc2 "$(key "$flags")") |" \
      "$(secs "$pmin") / $(secs "$pmed") | $(ratio "$((2 * amin))" "$pmin") / $(ratio "$((2 * amed))" "$pmed") / $pceil |" \
      "$(mib "$arss") / $(mib "$brss") | $asize / $bsize |"
  done
fi

if [[ (-z $only || $only == limit) && -x $limit_bin ]]; then
  echo
  echo "## Codec limit (1 thread): compressing exactly the stored pages, in memory, one kept context"
  echo "(overhead = vmcollect --num-threads 1 whole run / limit - 1; wall and CPU = user + system, medians;"
  echo " read / write floor = reading the kept pages from the page cache / writing the stored bytes, fastest of $reps;"
  echo " over floor = vmcollect wall / (limit + read + write) - 1)"
  echo
  echo "| config | vmcollect wall s | limit wall s | overhead wall | vmcollect CPU s | limit CPU s | overhead CPU | read floor s | write floor s | over floor (wall) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for flags in "-l -d 31" "-c -d 31" "-l -d 1" "-z -d 1"; do
    k=$(key "$flags")
    kept=$outdir/keep.$k
    rm -f "$kept"
    # shellcheck disable=SC2086
    "$vmc" $flags --num-threads 1 "$dump" "$kept" >/dev/null 2>&1
    codec=$(echo "$flags" | awk '{ print $1 }')
    read -r lim_wall lim_cpu read_wall write_wall <<<"$("$limit_bin" --codec "$codec" --reps "$reps" \
      --write-dir "$outdir" "$dump" "$kept" |
      awk '/^seconds/ { w = $2 } /^cpu_seconds/ { c = $2 } /^read_seconds/ { r = $2 }
           /^write_seconds/ { o = $2 } END { print w, c, r, o }')"
    rm -f "$kept"
    for ((rep = 1; rep <= reps; rep++)); do
      # shellcheck disable=SC2086
      run_one "lim" "$k" "$vmc" $flags --num-threads 1 "$dump"
    done
    read -r _ vwall <<<"$(colstat lim "$k" 3)"
    read -r _ vcpu <<<"$(colstat lim "$k" 6)"
    over() { awk -v v="$1" -v l="$2" 'BEGIN { printf "%+.0f %%", (v / 1e6 / l - 1) * 100 }'; }
    floor=$(awk -v a="$lim_wall" -v b="$read_wall" -v c="$write_wall" 'BEGIN { print a + b + c }')
    echo "| $flags | $(secs "$vwall") | $lim_wall | $(over "$vwall" "$lim_wall") | $(secs "$vcpu") | $lim_cpu |" \
      "$(over "$vcpu" "$lim_cpu") | $read_wall | $write_wall | $(over "$vwall" "$floor") |"
  done
fi
echo
echo "raw runs (tool, config, µs, peak RSS KiB, output bytes): $log"
