#!/usr/bin/env bash
# One-command GPU benchmark for the device machine (see /work/shared/gpu/README.md): run after
# `source /tmp/g/unstage.sh`, which sets $APP (the self-contained `peftonnx` publish) and $EXTRA (the staged files:
# this script and models/ with model.onnx, vocab.txt and the exporter's variants). Prints the tables and writes
# them under $OUT (or ./gpu-bench-out). Variants (made here with `peftonnx-export optimize` and the fp16 pass):
#   model.onnx              the shipped fp32 model (the plain ONNX Runtime baseline)
#   fp16.onnx               fp16 conversion of the unfused graph
#   fused-fp16.onnx         fused (Attention, SkipLayerNorm, BiasGelu, LayerNorm), fp16, outputs last_hidden_state + pooler
#   fused-pooled-fp16.onnx  fused, fp16, only sentence_embedding (mean pooling + L2 norm in the graph)
#   fused.onnx / fused-pooled.onnx   the same in fp32 (CPU section), when staged
set -uo pipefail
out=${OUT:-./gpu-bench-out}; mkdir -p "$out"
m=${EXTRA:?source /tmp/g/unstage.sh first}/models
bench="$APP/peftonnx bench matrix --vocab $m/vocab.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu.txt"

# 1. The anchors' shapes (sequence 128; batch 1, 32, 256): plain fp32 baseline vs the runtime's variants.
timeout 300 $bench --cuda --compare --batch-sizes 1 32 256 --sequences 128 --rounds 5 --calls 20 --warmup 3 --budget-seconds 6 \
  --title "GPU, sequence 128: plain ONNX Runtime fp32 vs fused fp16 with IOBinding / CUDA graphs" \
  -v base=plain:$m/model.onnx \
  -v fp16-unfused=bound:$m/fp16.onnx \
  -v fused16=bound:$m/fused-fp16.onnx \
  -v fused16-on-device=device:$m/fused-fp16.onnx \
  -v pooled16=bound:$m/fused-pooled-fp16.onnx \
  -v pooled16-graph=graph:$m/fused-pooled-fp16.onnx \
  --markdown "$out/PERFORMANCE.gpu.md" --section gpu-anchors 2>&1 | tee "$out/gpu-anchors.txt"

# 2. The full matrix for the fastest path vs the baseline.
timeout 200 $bench --cuda --batch-sizes 1 8 32 128 --sequences 64 128 256 --rounds 3 --calls 10 --warmup 3 --budget-seconds 3 \
  --title "GPU matrix: plain ONNX Runtime fp32 vs fused fp16, pooled output, CUDA graph" \
  -v base=plain:$m/model.onnx -v pooled16=bound:$m/fused-pooled-fp16.onnx -v pooled16-graph=graph:$m/fused-pooled-fp16.onnx \
  --markdown "$out/PERFORMANCE.gpu.md" --section gpu-matrix 2>&1 | tee "$out/gpu-matrix.txt"

# 3. CPU ratios on this machine's quieter 16 cores (the workplace's 2 shared cores drift 2x).
if [ -f "$m/fused.onnx" ]; then
  timeout 150 $bench --batch-sizes 1 32 --sequences 128 --rounds 4 --calls 10 --warmup 2 --budget-seconds 8 \
    --title "CPU (GPU box, 16 cores), sequence 128: ORT in-session fusion vs exporter fusion" \
    -v base=plain:$m/model.onnx -v prefused=plain:$m/fused.onnx -v base-bound=bound:$m/model.onnx -v prefused-bound=bound:$m/fused.onnx \
    --markdown "$out/PERFORMANCE.gpu.md" --section cpu-16 2>&1 | tee "$out/cpu-16.txt"
fi
