#!/usr/bin/env bash
# One-command GPU benchmark for the device machine (recipe: /work/shared/gpu/README.md). Run after
# `source /tmp/g/unstage.sh`, which sets $APP (the self-contained `peftonnx` publish) and $EXTRA (staged files);
# models are read from $MODELS (default $EXTRA/models): vocab.txt and
#   model.onnx              the shipped fp32 model (the plain ONNX Runtime baseline)
#   fp16.onnx               peftonnx-export optimize model.onnx fp16.onnx --fusions none --fp16
#   fused-fp16.onnx         peftonnx-export optimize model.onnx fused-fp16.onnx --fp16
#   fused-pooled-fp16.onnx  peftonnx-export optimize model.onnx fused-pooled-fp16.onnx --pooled-only --fp16
# and, optional, two classifier bundles of the shipped adapter (section 3 runs when both are there):
#   cls-fused-fp16.onnx     peftonnx-export export ... --out b-cls; peftonnx-export optimize b-cls/model.onnx cls-fused-fp16.onnx --fp16
#   full-fused-fp16.onnx    the same from an export with --full-last-layer
#   cls-eln-fp16.onnx       optional: optimize b-cls/model.onnx cls-eln-fp16.onnx --fp16 \
#                             --fusions LayerNormalization,SkipLayerNormalization,BiasGelu,Attention,EmbedLayerNormalization
# Prints the tables and writes them (markdown sections for docs/PERFORMANCE.md) under $OUT (default ./gpu-bench-out).
set -uo pipefail
out=${OUT:-./gpu-bench-out}; mkdir -p "$out"
m=${MODELS:-${EXTRA:?source /tmp/g/unstage.sh first}/models}
bench="$APP/peftonnx bench matrix --vocab $m/vocab.txt --cuda"
export ORT_LOGGING_LEVEL=3
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"

# 1. The anchors' shapes (sequence 128; batch 1, 32, 256): plain fp32 baseline vs the runtime's variants, same run.
timeout 240 $bench --compare --batch-sizes 1 32 256 --sequences 128 --rounds 5 --calls 20 --warmup 3 --budget-seconds 5 \
  --title "GPU, sequence 128: plain ONNX Runtime fp32 vs fp16 variants with IOBinding / CUDA graphs" \
  -v base=plain:$m/model.onnx \
  -v fp16-unfused=bound:$m/fp16.onnx \
  -v fused16=bound:$m/fused-fp16.onnx \
  -v fused16-on-device=device:$m/fused-fp16.onnx \
  -v pooled16=bound:$m/fused-pooled-fp16.onnx \
  -v pooled16-graph=graph:$m/fused-pooled-fp16.onnx \
  --markdown "$out/PERFORMANCE.gpu.md" --section gpu-anchors 2>&1 | grep -v '^batch .* \.\.\.$' | tee "$out/gpu-anchors.txt"

# 2. Batch x sequence for the fastest paths vs the baseline.
timeout 150 $bench --batch-sizes 1 8 32 128 256 --sequences 64 128 256 --rounds 3 --calls 10 --warmup 3 --budget-seconds 2 \
  --title "GPU matrix: plain ONNX Runtime fp32 vs fused fp16 with pooled output (IOBinding, CUDA graph)" \
  -v base=plain:$m/model.onnx -v pooled16=bound:$m/fused-pooled-fp16.onnx -v pooled16-graph=graph:$m/fused-pooled-fp16.onnx \
  --markdown "$out/PERFORMANCE.gpu.md" --section gpu-matrix 2>&1 | grep -v '^batch .* \.\.\.$' | tee "$out/gpu-matrix.txt"

# 3. Classifier bundles (logits out): the [CLS]-only last layer vs the full one, fused fp16, CUDA graphs.
if [[ -f $m/cls-fused-fp16.onnx && -f $m/full-fused-fp16.onnx ]]; then
  eln=(); [[ -f $m/cls-eln-fp16.onnx ]] && eln=(-v cls16-eln-graph=graph:$m/cls-eln-fp16.onnx)
  timeout 150 $bench --batch-sizes 1 32 256 --sequences 128 --rounds 5 --calls 20 --warmup 3 --budget-seconds 5 \
    --title "GPU, sequence 128: classifier bundles, fused fp16, full vs [CLS]-only last layer" \
    -v base=plain:$m/model.onnx \
    -v full16-graph=graph:$m/full-fused-fp16.onnx \
    -v cls16=bound:$m/cls-fused-fp16.onnx \
    -v cls16-graph=graph:$m/cls-fused-fp16.onnx "${eln[@]}" \
    --markdown "$out/PERFORMANCE.gpu.md" --section gpu-classifier 2>&1 | grep -v '^batch .* \.\.\.$' | tee "$out/gpu-classifier.txt"
fi
