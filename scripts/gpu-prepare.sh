#!/usr/bin/env bash
# Prepares scripts/gpu-bench.sh for the lent GPU machine (recipe: ../shared/gpu/README.md), on this machine:
# publishes the self-contained `peftonnx` with the CUDA provider, writes the model variants into
# artifacts/gpu/models, and stages both with the recipe's stage.sh, which prints the device calls to make.
# The last call runs: source /tmp/g/unstage.sh && bash $EXTRA/scripts/gpu-bench.sh
# usage: scripts/gpu-prepare.sh [all]    (default: baseline, pooled fp16 and the two classifier bundles;
#                                         all: also fp16.onnx, fused-fp16.onnx and cls-eln-fp16.onnx, more to transfer)
set -euo pipefail
cd "$(dirname "$0")/.."
# The recipe lives beside the checkout, in ../shared/gpu; STAGE names another stage.sh.
stage=${STAGE:-../shared/gpu/stage.sh}
[[ -f $stage ]] || { echo "gpu-prepare: $stage not found (the GPU recipe's stage.sh, beside the checkout); set STAGE=path/to/stage.sh" >&2; exit 1; }
m=artifacts/gpu/models
mkdir -p "$m"
dotnet build export-tools/PeftOnnx.Export.Cli -c Release -v q -nologo
e=export-tools/PeftOnnx.Export.Cli/bin/Release/net10.0/peftonnx-export
dotnet run --project src/PeftOnnx.Cli -c Release -- models pull minilm-l6 >/dev/null
cp models/minilm-l6/model.onnx models/minilm-l6/vocab.txt "$m/"
$e optimize "$m/model.onnx" "$m/fused-pooled-fp16.onnx" --pooled-only --fp16
$e export --base models/minilm-l6 --adapter models/adapters/debian-sections-lora-r8 --out artifacts/gpu/b-cls --force
$e export --base models/minilm-l6 --adapter models/adapters/debian-sections-lora-r8 --out artifacts/gpu/b-full --full-last-layer --force
$e optimize artifacts/gpu/b-cls/model.onnx "$m/cls-fused-fp16.onnx" --fp16
$e optimize artifacts/gpu/b-full/model.onnx "$m/full-fused-fp16.onnx" --fp16
if [[ ${1:-} == all ]]; then
  $e optimize "$m/model.onnx" "$m/fp16.onnx" --fusions none --fp16
  $e optimize "$m/model.onnx" "$m/fused-fp16.onnx" --fp16
  $e optimize artifacts/gpu/b-cls/model.onnx "$m/cls-eln-fp16.onnx" --fp16 \
    --fusions LayerNormalization,SkipLayerNormalization,BiasGelu,Attention,EmbedLayerNormalization
fi
dotnet publish src/PeftOnnx.Cli -c Release -r linux-x64 --self-contained -o artifacts/gpu/pub -v q -nologo
bash "$stage" artifacts/gpu/pub "$m" scripts/gpu-bench.sh
