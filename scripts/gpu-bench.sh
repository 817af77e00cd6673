#!/usr/bin/env bash
# One-command GPU benchmark for the device machine (recipe: ../shared/gpu/README.md). scripts/gpu-prepare.sh
# builds the inputs and stages them; on the device, after `source /tmp/g/unstage.sh` (sets $APP, the self-contained
# `peftonnx` publish, and $EXTRA, the staged files), run this script. Models are read from $MODELS (default
# $EXTRA/artifacts/gpu/models): vocab.txt, model.onnx (the shipped fp32 model, the plain ONNX Runtime baseline) and
# any of these (a variant whose file is missing is skipped):
#   fp16.onnx               peftonnx-export optimize model.onnx fp16.onnx --fusions none --fp16
#   fused-fp16.onnx         peftonnx-export optimize model.onnx fused-fp16.onnx --fp16
#   fused-pooled-fp16.onnx  peftonnx-export optimize model.onnx fused-pooled-fp16.onnx --pooled-only --fp16
#   cls-fused-fp16.onnx     classifier bundle of the shipped adapter ([CLS]-only last layer), optimize --fp16
#   full-fused-fp16.onnx    the same exported with --full-last-layer
#   cls-eln-fp16.onnx       cls bundle, optimize --fp16 --fusions ...,EmbedLayerNormalization
# Prints the tables and writes them (markdown sections for docs/PERFORMANCE.md) under $OUT (default ./gpu-bench-out).
set -uo pipefail
out=${OUT:-./gpu-bench-out}; mkdir -p "$out"
m=${MODELS:-${EXTRA:?source /tmp/g/unstage.sh first}/artifacts/gpu/models}
bench="$APP/peftonnx bench matrix --vocab $m/vocab.txt --cuda"
export ORT_LOGGING_LEVEL=3
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"

# Variant arguments for the files that are there: variants NAME=MODE:FILE ...
variants() { local a; for a in "$@"; do [[ -f $m/${a##*:} ]] && printf -- '-v\n%s\n' "${a%:*}:$m/${a##*:}"; done; }
run() { # section title timeout args...
  local section=$1 title=$2 limit=$3; shift 3
  mapfile -t args < <(variants "$@")
  (( ${#args[@]} >= 4 )) || { echo "skipping $section: fewer than two of its models are staged"; return; }
  timeout "$limit" $bench "${common[@]}" --title "$title" "${args[@]}" --markdown "$out/PERFORMANCE.gpu.md" --section "$section" 2>&1 \
    | grep -v '^batch .* \.\.\.$' | tee "$out/$section.txt"
}

# 1. The anchors' shapes (sequence 128; batch 1, 32, 256): plain fp32 baseline vs the runtime's variants, same run.
common=(--compare --batch-sizes 1 32 256 --sequences 128 --rounds 5 --calls 20 --warmup 3 --budget-seconds 5)
run gpu-anchors "GPU, sequence 128: plain ONNX Runtime fp32 vs fp16 variants with IOBinding / CUDA graphs" 240 \
  base=plain:model.onnx fp16-unfused=bound:fp16.onnx fused16=bound:fused-fp16.onnx fused16-on-device=device:fused-fp16.onnx \
  pooled16=bound:fused-pooled-fp16.onnx pooled16-graph=graph:fused-pooled-fp16.onnx

# 2. Classifier bundles (logits out): the [CLS]-only last layer vs the full one, fused fp16, CUDA graphs.
common=(--batch-sizes 1 32 256 --sequences 128 --rounds 5 --calls 20 --warmup 3 --budget-seconds 5)
run gpu-classifier "GPU, sequence 128: classifier bundles, fused fp16, full vs [CLS]-only last layer" 150 \
  base=plain:model.onnx full16-graph=graph:full-fused-fp16.onnx cls16=bound:cls-fused-fp16.onnx \
  cls16-graph=graph:cls-fused-fp16.onnx cls16-eln-graph=graph:cls-eln-fp16.onnx

# 3. Batch x sequence for the fastest paths vs the baseline.
common=(--batch-sizes 1 8 32 128 256 --sequences 64 128 256 --rounds 3 --calls 10 --warmup 3 --budget-seconds 2)
run gpu-matrix "GPU matrix: plain ONNX Runtime fp32 vs fused fp16 with pooled output (IOBinding, CUDA graph)" 150 \
  base=plain:model.onnx pooled16=bound:fused-pooled-fp16.onnx pooled16-graph=graph:fused-pooled-fp16.onnx \
  cls16-graph=graph:cls-fused-fp16.onnx
