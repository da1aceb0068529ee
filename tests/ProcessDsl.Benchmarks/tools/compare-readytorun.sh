#!/usr/bin/env bash
# Runs `compare` with our side published ReadyToRun, as a deployment would ship it: the harness and
# the orders sample (whose multiprocess workers are the same program) precompiled, so that short
# runs measure the engine rather than the JIT compiling it. Everything else is as plain `compare`;
# its options pass through, for example:
#   bash tests/ProcessDsl.Benchmarks/tools/compare-readytorun.sh --rounds 2 \
#       --anchor /work/shared/anchors/python-eventsourcing/run --postgres 'Host=127.0.0.1;Port=55432;Username=postgres;Database=processdsl_bench'
# The published copies go to $R2R_OUT (default: a directory under /tmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
out=${R2R_OUT:-/tmp/processdsl-readytorun}
rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
for project in tests/ProcessDsl.Benchmarks samples/Orders; do
    dotnet publish "$root/$project" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
        -o "$out/$(basename "$project")" -v quiet >&2
done
cd "$root"
exec dotnet "$out/ProcessDsl.Benchmarks/ProcessDsl.Benchmarks.dll" compare --orders-dll "$out/Orders/Orders.dll" "$@"
