#!/usr/bin/env bash
# Long fuzzing campaign on one target of tests/PeftOnnx.Fuzz (list them: scripts/fuzz.sh list).
#   scripts/fuzz.sh <target> [minutes] [afl|in-process]     (default: 60 minutes, afl)
# Publishes the fuzz executable to artifacts/fuzz/<target>/bin, rewrites the project's assemblies with SharpFuzz's
# coverage instrumentation (the local tool in .config/dotnet-tools.json), then runs
#   afl:        afl++ (Debian's afl++ package, installed when missing), findings in artifacts/fuzz/<target>/afl
#   in-process: the executable's own mutator with coverage feedback (far faster per input; no fork server)
# Crashes are kept as input files under artifacts/fuzz/<target>/; replay one with
#   artifacts/fuzz/<target>/bin/PeftOnnx.Fuzz <target> --replay <file>
# and, once fixed, add it to tests/PeftOnnx.Fuzz/corpus/<target>/crash-<what> so CI replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: scripts/fuzz.sh <target>|list [minutes] [afl|in-process]}
minutes=${2:-60}
mode=${3:-afl}
out=artifacts/fuzz/$target

dotnet tool restore >/dev/null
rm -rf "$out/bin"
dotnet publish tests/PeftOnnx.Fuzz -c Release -o "$out/bin" -v quiet -nologo
if [[ $target == list ]]; then
  exec "$out/bin/PeftOnnx.Fuzz" list
fi
for assembly in PeftOnnx.Core PeftOnnx.Runtime PeftOnnx.Hosting; do
  dotnet sharpfuzz "$out/bin/$assembly.dll"
done

case $mode in
  in-process)
    "$out/bin/PeftOnnx.Fuzz" "$target" --campaign --seconds $((minutes * 60)) --findings "$out" ;;
  afl)
    if ! command -v afl-fuzz >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
    fi
    # Containers cannot set core_pattern or the CPU governor; afl++ only warns about them with these set.
    AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 \
      afl-fuzz -i "tests/PeftOnnx.Fuzz/corpus/$target" -o "$out/afl" -t 5000 -m none -V $((minutes * 60)) \
      -- "$out/bin/PeftOnnx.Fuzz" "$target"
    echo "afl++ findings: $out/afl/default/crashes (replay: $out/bin/PeftOnnx.Fuzz $target --replay <file>)" ;;
  *)
    echo "unknown mode '$mode' (afl or in-process)" >&2; exit 2 ;;
esac
