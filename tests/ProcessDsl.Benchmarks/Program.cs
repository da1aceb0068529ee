using BenchmarkDotNet.Running;
using ProcessDsl.Benchmarks;

// Usage:
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- catchup --events 100000 [--store SPEC] [--fresh-db] [--no-raw] [--projection] [--batch-size N (default: ProcessingOptions.MaxBatchSize, the library's default)]
//     (--store: sqlite:DIR (default: a temporary one), memory or postgres:CONNECTION-STRING; --no-raw: skip SQLite's raw insert rates;
//      --projection: the follower saves one projection row per event instead of recording one)
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- orders --runner multi --orders 5000 --callers 1 [--store SPEC] [--fresh-db]
//     (--store: sqlite:DIR (default: a temporary one) or postgres:CONNECTION-STRING; --fresh-db: a new database for the run;
//      --runner multiprocess starts this program again as its workers)
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- range --sizes 10000,100000,1000000,10000000
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- compare [--rounds 3] [--scale 1] [--anchor PATH] [--orders-dll PATH (Orders.dll, or the native Orders program published with Native AOT)]
//       [--postgres CONNECTION-STRING] [--pgbench PATH] [--memory-events 1000000] [--marten PATH]
//     (--marten: the MartenCatchUp program, default benchmarks/MartenCatchUp/bin/Release/net10.0/MartenCatchUp.dll when built
//      (cd benchmarks/MartenCatchUp && dotnet build): Marten's async daemon on the same catch-up work, same server, same round;
//      every target in one table: ours beside the Python eventsourcing anchor, the disk's commit rate, pgbench's commit rate
//      on the same server, catch-up against the raw insert rate, the follower's peak working set, and the load: docs/benchmarks.md;
//      without --postgres (or PROCESSDSL_POSTGRES) the PostgreSQL rows are skipped)
//   bash tests/ProcessDsl.Benchmarks/tools/compare-readytorun.sh [compare options]
//     (the same, with the harness and the orders sample published ReadyToRun first)
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- commit-rate
//   dotnet run -c Release --project tests/ProcessDsl.Benchmarks -- micro [BenchmarkDotNet args]
// The orders command's multiprocess runner starts this program again as its workers.
if (ProcessDsl.WorkerHost.IsWorkerCommand(args)) return await ProcessDsl.WorkerHost.RunAsync(args, OrdersSample.OrdersSystem.Definition);
var command = args.Length > 0 ? args[0] : "help";
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
var directory = Arg("--dir", Path.Combine(Path.GetTempPath(), "processdsl-bench-" + Guid.NewGuid().ToString("N")));
try
{
    switch (command)
    {
        case "catchup":
            return await CatchUp.RunAsync(int.Parse(Arg("--events", "100000")), int.Parse(Arg("--batch-size", new ProcessDsl.ProcessingOptions().MaxBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture))), directory,
                args.Contains("--store") ? Arg("--store", "") : null, args.Contains("--fresh-db"), raw: !args.Contains("--no-raw"), projection: args.Contains("--projection"));
        case "orders":
            return await OrdersBench.RunAsync(Arg("--runner", "multi"), int.Parse(Arg("--orders", "5000")), int.Parse(Arg("--callers", "1")), directory,
                args.Contains("--store") ? Arg("--store", "") : null, args.Contains("--fresh-db"));
        case "range":
            return RangeReadBench.Run(Arg("--sizes", "10000,100000,1000000").Split(',').Select(int.Parse).ToArray(), directory);
        case "compare":
            return await Compare.RunAsync(
                Path.GetFullPath(Arg("--anchor", "../shared/anchors/python-eventsourcing/run")),
                Path.GetFullPath(Arg("--orders-dll", "samples/Orders/bin/Release/net10.0/Orders.dll")),
                int.Parse(Arg("--rounds", "3"), System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(Arg("--scale", "1"), System.Globalization.CultureInfo.InvariantCulture), directory,
                Arg("--postgres", Environment.GetEnvironmentVariable("PROCESSDSL_POSTGRES") ?? "") is { Length: > 0 } pg ? pg : null,
                Arg("--pgbench", "/usr/lib/postgresql/15/bin/pgbench"),
                int.Parse(Arg("--memory-events", "1000000"), System.Globalization.CultureInfo.InvariantCulture),
                Path.GetFullPath(Arg("--marten", "benchmarks/MartenCatchUp/bin/Release/net10.0/MartenCatchUp.dll")));
        case "commit-rate":
            Console.WriteLine($"durable_one_row_commits_per_s={Baselines.DurableCommitsPerSecond(directory, 3):F0}");
            return 0;
        case "micro":
            BenchmarkSwitcher.FromAssembly(typeof(CatchUp).Assembly).Run(args[1..]);
            return 0;
        default:
            Console.Error.WriteLine("commands: compare [--rounds N] [--scale F] [--postgres CONNSTR] [--memory-events N] [--marten PATH] | catchup --events N [--store SPEC] [--fresh-db] [--projection] | orders --runner R --orders N --callers C [--store SPEC] [--fresh-db] | range --sizes A,B,C | commit-rate | micro");
            return 2;
    }
}
finally
{
    if (!args.Contains("--dir"))
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(directory, true); } catch (IOException) { }
    }
}
