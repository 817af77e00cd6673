#!/usr/bin/env bash
# Publishes `peftonnx` for an edge box: the verbs of -p:EdgePublish=true (see src/PeftOnnx.Cli/PeftOnnx.Cli.csproj)
# with the CPU build of ONNX Runtime, into artifacts/edge/<rid>/ (the log beside it, <rid>.log).
#   linux-x64, linux-arm64: Native AOT, one executable plus libonnxruntime.so (and libe_sqlite3.so for the inbox
#                           ledger); no .NET runtime needed. Fails on any trim or AOT warning.
#                           linux-arm64 is cross-compiled: clang + lld and Debian's arm64 cross libraries
#                           (apt-get install clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross).
#   win-x64:                Native AOT does not cross-compile between operating systems (ILC emits an object file
#                           that only the target's own linker, MSVC link.exe, can link), so a self-contained
#                           single-file executable: the .NET runtime inside, no installed .NET needed.
# usage: scripts/publish-edge.sh [linux-x64|linux-arm64|win-x64]   (default linux-x64)
set -euo pipefail
cd "$(dirname "$0")/.."
rid=${1:-linux-x64}
out=artifacts/edge/$rid
log=artifacts/edge/$rid.log
mkdir -p artifacts/edge
rm -rf "$out"
args=(src/PeftOnnx.Cli -c Release -r "$rid" -p:EdgePublish=true -p:OrtFlavor=Cpu -o "$out" -nologo)
case $rid in
  linux-x64) ;;
  linux-arm64)
    # clang --target=aarch64-linux-gnu finds the cross libraries under /usr/aarch64-linux-gnu and gcc-cross; lld links.
    args+=(-p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy) ;;
  win-x64)
    args+=(-p:PublishAot=false --self-contained -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=false) ;;
  *) echo "publish-edge: unknown runtime '$rid'; use linux-x64, linux-arm64 or win-x64" >&2; exit 2 ;;
esac
if ! dotnet publish "${args[@]}" >"$log" 2>&1; then
  grep -E "error|warning" "$log" | sort -u >&2 || true
  echo "publish-edge: dotnet publish failed for $rid (log: $log)" >&2
  exit 1
fi
# Trim/AOT analysis (IL2xxx, IL3xxx) and any other warning fail the edge build: each is a code path that may break.
warnings=$(grep -E "warning [A-Z]+[0-9]+" "$log" | sort -u || true)
if [[ -n $warnings ]]; then
  echo "$warnings" >&2
  echo "publish-edge: $(echo "$warnings" | wc -l) warning(s) in the $rid edge build (log: $log)" >&2
  exit 1
fi
# Debug symbols stay in the build folder; the edge box gets the executable and its native libraries.
rm -f "$out"/*.dbg "$out"/*.pdb
echo "publish-edge: $rid, 0 warnings"
du -b "$out"/* | sort -k2
