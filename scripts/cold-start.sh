#!/usr/bin/env bash
# Cold start of `peftonnx score`: from process start to the first scored document's record on stdout, RUNS rounds
# (default 10); each round starts every executable once, in turn (A B A B ...), so drift of a shared machine hits them
# alike. Prints each executable's runs and median. The page cache is warm (every run reads the same files): this is
# the start-up work of the process itself (runtime, ONNX Runtime session, tokenizer, one document).
# usage: scripts/cold-start.sh <bundle> <document> <peftonnx executable>...
#   e.g. scripts/cold-start.sh artifacts/edge/int8 samples/apg.txt artifacts/edge/linux-x64/peftonnx artifacts/edge/jit-linux-x64/peftonnx
set -euo pipefail
(( $# >= 3 )) || { echo "usage: scripts/cold-start.sh <bundle> <document> <peftonnx executable>..." >&2; exit 2; }
bundle=$1 doc=$2
shift 2
exes=("$@")
runs=${RUNS:-10}
for exe in "${exes[@]}"; do
  [[ -x $exe ]] || { echo "cold-start: $exe is not an executable" >&2; exit 2; }
done
declare -A times
for ((round = 1; round <= runs; round++)); do
  for exe in "${exes[@]}"; do
    start=$(date +%s%N)
    exec 3< <("$exe" score -m "$bundle" "$doc" 2>/dev/null)
    pid=$!
    IFS= read -r line <&3 || true
    end=$(date +%s%N)
    exec 3<&-
    wait "$pid" || { echo "cold-start: $exe score failed" >&2; exit 1; }
    [[ $line == *'"status":"scored"'* ]] || { echo "cold-start: $exe wrote no scored record first: $line" >&2; exit 1; }
    times[$exe]+="$(( (end - start) / 1000000 )) "
  done
done
for exe in "${exes[@]}"; do
  sorted=($(printf '%s\n' ${times[$exe]} | sort -n))
  # Median: the mean of the two middle runs for an even count.
  median=$(( (sorted[(runs - 1) / 2] + sorted[runs / 2]) / 2 ))
  echo "$exe: median ${median} ms over $runs runs (ms: ${times[$exe]% })"
done
