#!/usr/bin/env bash
# Runs `compare` with the orders sample published with Native AOT, as a deployment of a command-line
# job would ship it: one native program (its multiprocess workers are the same program), no JIT.
# The harness itself (the catch-up rows, in process) runs as built. Everything else is as plain
# `compare`; its options pass through, for example:
#   bash tests/ProcessDsl.Benchmarks/tools/compare-aot.sh --rounds 3 \
#       --anchor /work/shared/anchors/python-eventsourcing/run --postgres 'Host=127.0.0.1;Port=55432;Username=postgres;Database=processdsl_bench'
# The published program goes to $AOT_OUT (default: a directory under /tmp). Native AOT links with
# clang; where only gcc is installed it links with gcc.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${AOT_OUT:-/tmp/processdsl-aot}
rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
linker=()
if ! command -v clang >/dev/null && command -v gcc >/dev/null; then linker=(-p:CppCompilerAndLinker=gcc); fi
dotnet publish "$root/samples/Orders" -c Release -r "$rid" -p:PublishAot=true "${linker[@]}" -o "$out/Orders" -v quiet >&2
dotnet build "$root/tests/ProcessDsl.Benchmarks" -c Release -v quiet >&2
cd "$root"
exec dotnet "$root/tests/ProcessDsl.Benchmarks/bin/Release/net10.0/ProcessDsl.Benchmarks.dll" compare --orders-dll "$out/Orders/Orders" "$@"
