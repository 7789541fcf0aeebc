#!/usr/bin/env bash
# A fuzzing campaign over every target (issue 9): each libFuzzer binary runs
# for --seconds on its own corpus, seeded by fuzz_seeds (the dump builder's
# dumps), --jobs targets at a time. Findings land in OUT/artifacts/<target>;
# a finding is fixed, then kept in tests/fuzz/regressions/<target>/ so the
# replay tests hold it. The summary (OUT/summary.tsv) gives per target the
# seconds run, executions, executions per second, corpus files and bytes,
# and findings.
#
#   cmake -S . -B build-fuzz -DVMCOLLECT_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 \
#         -DCMAKE_CXX_COMPILER=clang++-14 && cmake --build build-fuzz -j2
#   tests/fuzz/campaign.sh --build build-fuzz --seconds 600 --jobs 2 --out /var/tmp/vmc-fuzz
set -euo pipefail
build=build-fuzz
seconds=600
jobs=1
out=/var/tmp/vmc-fuzz
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/tests/fuzz
((${#targets[@]})) || targets=(elf_core vmcoreinfo kdump flattened split printk_lockless
                                printk_structured printk_legacy page_tables mem_map decompress)
mkdir -p "$out/seeds" "$out/artifacts"
"$bin/fuzz_seeds" "$out/seeds" >/dev/null

# run_target NAME: one libFuzzer run; appends its line to the summary.
run_target() {
  local t=$1
  local corpus=$out/corpus/$t artifacts=$out/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  # Inputs as big as the biggest seed (the dump seeds are larger than
  # libFuzzer's 4 KiB default), at least 4 KiB.
  local max_len
  max_len=$(find "$out/seeds/$t" "$here/tests/fuzz/regressions/$t" -type f -printf '%s\n' 2>/dev/null |
            sort -n | tail -n 1 || true)
  max_len=$(( ${max_len:-0} > 4096 ? max_len : 4096 ))
  local start=$SECONDS rc=0
  "$bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$out/seeds/$t" \
    >"$out/$t.log" 2>&1 || rc=$?
  local runs eps files bytes findings
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$out/$t.log")
  eps=$(awk '/stat::average_exec_per_sec/ { print $2 }' "$out/$t.log")
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  findings=$(find "$artifacts" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$((SECONDS - start))" "${runs:-?}" "${eps:-?}" \
    "$files" "$bytes" "$findings" "$rc" >>"$out/summary.tsv"
}

printf 'target\tseconds\texecutions\texec_per_s\tcorpus_files\tcorpus_bytes\tfindings\trc\n' >"$out/summary.tsv"
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true
column -t -s $'\t' "$out/summary.tsv"
if awk -F'\t' 'NR > 1 && $7 != 0 { bad = 1 } END { exit !bad }' "$out/summary.tsv"; then
  echo "findings: see $out/artifacts" >&2
  exit 1
fi
