using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// Every performance target in one run and one table. Ours beside the anchor or the physical limit
/// it is stated against, each figure from its own process, interleaved round by round so that both
/// see the same machine: the orders sample beside Python <c>eventsourcing</c>
/// (<c>../shared/anchors/python-eventsourcing/run</c>) and the disk's durable one-row commit rate;
/// on PostgreSQL (with <c>--postgres</c> or <c>PROCESSDSL_POSTGRES</c>) the orders job with 16
/// callers beside pgbench's one-row commits with 16 clients on the same server, and the multiprocess
/// runner beside the multi-threaded one; the catch-up follower beside the raw insert rate of the same
/// rows (on PostgreSQL also a follower writing one projection row per event, beside Marten's async
/// daemon doing the same work on the same server when benchmarks/MartenCatchUp is built); the in-memory run at steady
/// state (after 30,000 warm-up orders, beside Python on as many orders), the SQLite multi-threaded run warm
/// and both PostgreSQL runs warm (after 4,000 warm-up orders, beside the same round's pgbench),
/// each with this process's managed allocations per order; once, after the rounds,
/// a follower over a million events and its peak working set. Prints the medians of the rounds, each ratio, its target, and the 1-minute load average during each row.
/// </summary>
internal static partial class Compare
{
    private const int PostgresCallers = 16;

    /// <summary>
    /// Orders the steady-state memory row places before its clock: enough for the runtime to have
    /// compiled the engine at its last tier (a short run in memory is mostly the JIT at work).
    /// </summary>
    private const int MemoryWarmup = 30_000;

    /// <summary>Orders the warm SQLite multi-threaded row places before its clock.</summary>
    private const int SqliteWarmup = 3000;

    /// <summary>
    /// Orders the PostgreSQL rows after warm-up place before their clock: as many as they time, so
    /// that each application's steps have run past the runtime's recompilation of their hot methods.
    /// </summary>
    private const int PostgresWarmup = 4000;

    /// <summary>Measurements of one table row, by metric, one per round; and the load after each.</summary>
    private sealed class Row(string name)
    {
        public string Name { get; } = name;
        public Dictionary<string, List<double>> Values { get; } = [];
        public List<double> Loads { get; } = [];

        public void Add(string metric, double value)
        {
            if (!Values.TryGetValue(metric, out var list)) Values[metric] = list = [];
            list.Add(value);
        }

        public double this[string metric] => Values.TryGetValue(metric, out var list) ? Median(list) : double.NaN;

        public string LoadRange => Loads.Count == 0 ? "-" : FormattableString.Invariant($"{Loads.Min():F1}-{Loads.Max():F1}");
    }

    public static async Task<int> RunAsync(string anchor, string ordersDll, int rounds, double scale, string directory,
        string? postgres, string pgbench, int memoryEvents, string marten)
    {
        var martenBuilt = File.Exists(marten);
        if (!File.Exists(anchor)) throw new FileNotFoundException($"No anchor at {anchor} (pass --anchor PATH).", anchor);
        if (!File.Exists(ordersDll)) throw new FileNotFoundException($"No orders program at {ordersDll}: build samples/Orders -c Release (or pass --orders-dll).", ordersDll);
        if (postgres is not null && postgres.StartsWith("postgres:", StringComparison.Ordinal)) postgres = postgres["postgres:".Length..];
        if (postgres is not null && !File.Exists(pgbench)) throw new FileNotFoundException($"No pgbench at {pgbench} (pass --pgbench PATH).", pgbench);
        var self = typeof(Compare).Assembly.Location;
        // The orders sample as built or published: an assembly runs under dotnet; a native program
        // (published with Native AOT) runs as it is. LinqToDB's PostgreSQL provider builds expression
        // types at run time that a native program cannot create (docs/aot.md): such a program runs the
        // orders rows on memory and SQLite only.
        var nativeOrders = !ordersDll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        Task<string> RunOrdersAsync(IEnumerable<string> arguments) =>
            nativeOrders ? RunProcessAsync(ordersDll, arguments) : RunProcessAsync("dotnet", [ordersDll, .. arguments]);
        int N(int n) => Math.Max(100, (int)(n * scale));

        var memorySingle = new Row("memory, single-threaded");
        var memoryWarm = new Row($"memory, single-threaded, steady state (after {MemoryWarmup:N0} warm-up orders)");
        var sqliteSingle = new Row("SQLite files, single-threaded");
        var sqliteMulti = new Row("SQLite files, multi-threaded, 1 caller");
        var sqliteMultiWarm = new Row($"SQLite files, multi-threaded, 1 caller, after {SqliteWarmup:N0} warm-up orders");
        var pgMulti = new Row($"PostgreSQL, multi-threaded, {PostgresCallers} callers");
        var pgMultiprocess = new Row($"PostgreSQL, multiprocess, {PostgresCallers} callers");
        var pgMultiWarm = new Row($"PostgreSQL, multi-threaded, {PostgresCallers} callers, after {PostgresWarmup:N0} warm-up orders");
        var pgMultiprocessWarm = new Row($"PostgreSQL, multiprocess, {PostgresCallers} callers, after {PostgresWarmup:N0} warm-up orders");
        var catchUpSqlite = new Row("catch-up, SQLite files");
        var catchUpPg = new Row("catch-up, PostgreSQL");
        var catchUpPgRows = new Row("catch-up, PostgreSQL, one projection row per event");
        var follower = new Row("memory: a follower over the events, SQLite files");
        // The steady row's window spans several collections: the in-memory store keeps every event, so
        // each collection promotes tens of MB and pauses 100-250 ms every ~0.6 s; over 10,000 orders
        // (0.4 s) the row measured where they fell, by a quarter either way (docs/benchmarks.md).
        int memoryOrders = N(2000), steadyOrders = N(50_000), singleOrders = N(1000), multiOrders = N(3000), pgOrders = N(4000), catchUpEvents = N(100_000);

        Console.Error.WriteLine($"compare: {rounds} rounds, scale {scale.ToString(CultureInfo.InvariantCulture)}, load {Load()}" +
            (postgres is null ? "; PostgreSQL rows skipped: no --postgres given" : $"; PostgreSQL at {PostgresScratch.Describe(postgres)}") +
            (postgres is not null && !martenBuilt ? $"; Marten not compared: no {marten} (cd benchmarks/MartenCatchUp && dotnet build)" : ""));
        for (var round = 1; round <= rounds; round++)
        {
            async Task OrdersAsync(Row row, int orders, string oursArgs, string anchorArgs)
            {
                var dir = NewDirectory(directory, round);
                var ours = Values(await RunOrdersAsync(["--no-progress", "--orders", orders.ToString(CultureInfo.InvariantCulture), .. Split(oursArgs.Replace("{dir}", dir, StringComparison.Ordinal))]));
                row.Add("ours", ours["events_per_s"]);
                row.Add("kb", ours["allocated_kb_per_order"]);
                var python = Values(await RunProcessAsync(anchor, [orders.ToString(CultureInfo.InvariantCulture), .. Split(anchorArgs)]));
                row.Add("anchor", python["events_per_s"]);
                if (!oursArgs.Contains("memory", StringComparison.Ordinal))
                    row.Add("commits", Baselines.DurableCommitsPerSecond(Path.Combine(dir, "baseline"), 2));
                Done(row, round, FormattableString.Invariant($"ours {ours["events_per_s"]:F0} ev/s, Python {python["events_per_s"]:F0} ev/s"));
            }

            await OrdersAsync(memorySingle, memoryOrders, "--runner single --store memory", "single memory");
            // The per-event cost once the engine is compiled at its last tier, the JIT left out; Python,
            // which compiles nothing as it goes, measured on the same number of orders.
            await OrdersAsync(memoryWarm, steadyOrders, $"--warmup {MemoryWarmup} --runner single --store memory", "single memory");
            await OrdersAsync(sqliteSingle, singleOrders, "--runner single --store sqlite:{dir}", "single");
            await OrdersAsync(sqliteMulti, multiOrders, "--runner multi --callers 1 --store sqlite:{dir}", "multi");
            {
                // The same run once warm; Python's figure and the disk's are the ones just measured in this round.
                var dir = NewDirectory(directory, round);
                var warm = Values(await RunOrdersAsync(["--no-progress", "--orders", multiOrders.ToString(CultureInfo.InvariantCulture),
                    "--warmup", SqliteWarmup.ToString(CultureInfo.InvariantCulture), "--runner", "multi", "--callers", "1", "--store", "sqlite:" + dir]));
                sqliteMultiWarm.Add("ours", warm["events_per_s"]);
                sqliteMultiWarm.Add("kb", warm["allocated_kb_per_order"]);
                sqliteMultiWarm.Add("anchor", sqliteMulti.Values["anchor"][^1]);
                sqliteMultiWarm.Add("commits", sqliteMulti.Values["commits"][^1]);
                Done(sqliteMultiWarm, round, FormattableString.Invariant($"ours {warm["events_per_s"]:F0} ev/s"));
            }

            if (postgres is not null && !nativeOrders)
            {
                var (tps, pgbenchCpu) = PgbenchCommitsPerSecond(pgbench, postgres, PostgresCallers, NewDirectory(directory, round));
                pgMulti.Add("pgbench", tps);
                pgMultiWarm.Add("pgbench", tps);
                if (pgbenchCpu is { } perCommit)
                {
                    pgMulti.Add("pgbench_cpu", perCommit);
                    pgMultiWarm.Add("pgbench_cpu", perCommit);
                }
                foreach (var (row, runner, warmup) in new[] { (pgMulti, "multi", 0), (pgMultiprocess, "multiprocess", 0), (pgMultiWarm, "multi", PostgresWarmup), (pgMultiprocessWarm, "multiprocess", PostgresWarmup) })
                {
                    using var scratch = PostgresScratch.Create(postgres);
                    var output = await RunOrdersAsync(["--no-progress", "--orders", pgOrders.ToString(CultureInfo.InvariantCulture),
                        "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
                        "--runner", runner, "--callers", PostgresCallers.ToString(CultureInfo.InvariantCulture), "--store", "postgres:" + scratch.ConnectionString]);
                    var ours = Values(output);
                    row.Add("ours", ours["events_per_s"]);
                    // The share of the run the Orders writer was held (the sample's writer line): where a multi-threaded run waits.
                    if (runner == "multi" && OrdersWriterShare().Match(output) is { Success: true } share)
                        row.Add("orders_writer", double.Parse(share.Groups[1].Value, CultureInfo.InvariantCulture));
                    // The machine's processor time per timed order (the server's and the workers' included), beside pgbench's per commit.
                    if (ours.TryGetValue("machine_cpu_ms_per_order", out var cpu)) row.Add("cpu", cpu);
                    Done(row, round, FormattableString.Invariant($"ours {ours["events_per_s"]:F0} ev/s{(runner == "multi" ? $", pgbench {tps:F0} commits/s" : "")}"));
                }
            }

            {
                var dir = NewDirectory(directory, round);
                var v = Values(await RunProcessAsync("dotnet", [self, "catchup", "--events", catchUpEvents.ToString(CultureInfo.InvariantCulture), "--dir", dir]));
                catchUpSqlite.Add("ours", v["events_per_s"]);
                catchUpSqlite.Add("raw", v["raw_rows_per_s"]);
                Done(catchUpSqlite, round, FormattableString.Invariant($"{v["events_per_s"]:F0} ev/s, raw {v["raw_rows_per_s"]:F0} rows/s"));
            }
            if (postgres is not null)
            {
                // Recording one event per event, and what a read model catching up does: a row per event.
                foreach (var (row, kind) in new[] { (catchUpPg, "--no-raw"), (catchUpPgRows, "--projection") })
                {
                    var v = Values(await RunProcessAsync("dotnet", [self, "catchup", kind, "--events", catchUpEvents.ToString(CultureInfo.InvariantCulture),
                        "--store", "postgres:" + postgres, "--fresh-db", "--dir", NewDirectory(directory, round)]));
                    row.Add("ours", v["events_per_s"]);
                    Done(row, round, FormattableString.Invariant($"{v["events_per_s"]:F0} ev/s"));
                }
                if (martenBuilt)
                {
                    // The same work by Marten's async daemon, on the same server, in a database of its own.
                    using var scratch = PostgresScratch.Create(postgres);
                    var m = await MartenCatchUpAsync(marten, scratch.ConnectionString, catchUpEvents);
                    catchUpPgRows.Add("marten", m);
                    Done(catchUpPgRows, round, FormattableString.Invariant($"Marten {m:F0} ev/s"));
                }
            }
        }
        if (memoryEvents > 0)
        {
            var v = Values(await RunProcessAsync("dotnet", [self, "catchup", "--events", memoryEvents.ToString(CultureInfo.InvariantCulture), "--no-raw", "--dir", NewDirectory(directory, 0)]));
            follower.Add("peak", v["peak_working_set_mb"]);
            if (v.TryGetValue("peak_follower_mb", out var f)) follower.Add("follower", f);
            follower.Add("ours", v["events_per_s"]);
            Done(follower, 0, FormattableString.Invariant($"peak {v["peak_working_set_mb"]:F0} MB, {v["events_per_s"]:F0} ev/s"));
        }

        static string F(double v, string format = "N0") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);
        static string Met(bool met) => met ? "met" : "**not met**";
        const string Skipped = "skipped: no --postgres given";
        // Which build of the orders sample ran: its dependencies precompiled (published ReadyToRun) or not.
        var build = nativeOrders ? "published with Native AOT"
            : WorkerRuntime.IsPrecompiled(Path.Combine(Path.GetDirectoryName(ordersDll)!, "linq2db.dll")) ? "published ReadyToRun"
            : "built, not precompiled";
        Console.WriteLine($"Orders program: {ordersDll} ({build}).");
        Console.WriteLine();
        Console.WriteLine("| run | ours | anchor or limit (same run) | ratio | target | load (1 min) |");
        Console.WriteLine("|---|---:|---|---:|---|---|");
        void Line(Row row, string what, string ours, string limit, string ratio, string target) =>
            Console.WriteLine($"| {row.Name}, {what} | {ours} | {limit} | {ratio} | {target} | {row.LoadRange} |");

        {
            var (o, a) = (memorySingle["ours"], memorySingle["anchor"]);
            Line(memorySingle, $"{memoryOrders:N0} orders", $"{F(o)} events/s ({F(memorySingle["kb"], "F1")} KB allocated/order)", $"Python eventsourcing {F(a)} events/s", $"**{F(o / a, "F2")}x**", $">= 10x: {Met(o / a >= 10)}");
        }
        {
            var (o, a) = (memoryWarm["ours"], memoryWarm["anchor"]);
            Line(memoryWarm, $"{steadyOrders:N0} orders", $"{F(o)} events/s ({F(memoryWarm["kb"], "F1")} KB allocated/order)", $"Python eventsourcing {F(a)} events/s ({steadyOrders:N0} orders)", $"**{F(o / a, "F2")}x**", $">= 10x: {Met(o / a >= 10)}");
        }
        {
            var (o, a, c) = (sqliteSingle["ours"], sqliteSingle["anchor"], sqliteSingle["commits"]);
            Line(sqliteSingle, $"{singleOrders:N0} orders", $"{F(o)} events/s ({F(sqliteSingle["kb"], "F1")} KB allocated/order)", $"Python {F(a)} events/s; disk {F(c)} one-row commits/s",
                $"**{F(o / a, "F2")}x**; {F(o / 5 / c, "F2")} orders/commit", $">= 2x: {Met(o / a >= 2)}");
        }
        {
            foreach (var (row, note) in new[] { (sqliteMulti, ""), (sqliteMultiWarm, " (the row above)") })
            {
                var (o, a, c) = (row["ours"], row["anchor"], row["commits"]);
                Line(row, $"{multiOrders:N0} orders", $"{F(o)} events/s ({F(row["kb"], "F1")} KB allocated/order)", $"Python {F(a)} events/s; disk {F(c)} one-row commits/s{note}",
                    $"**{F(o / a, "F2")}x**; {F(o / 5 / c, "F2")} orders/commit", $">= 10x: {Met(o / a >= 10)}; >= 0.5 orders/commit: {Met(o / 5 / c >= 0.5)}");
            }
        }
        foreach (var (multi, multiprocess, note) in new[] { (pgMulti, pgMultiprocess, ""), (pgMultiWarm, pgMultiprocessWarm, ", same round") })
        {
            if (postgres is null || nativeOrders)
            {
                var skipped = postgres is null ? Skipped : "skipped: PostgreSQL does not run under Native AOT yet";
                Line(multi, $"{pgOrders:N0} orders", skipped, "-", "-", ">= 0.5 orders per pgbench commit");
                Line(multiprocess, $"{pgOrders:N0} orders", skipped, "-", "-", ">= 1.0x the multi-threaded runner");
                continue;
            }
            var (o, t) = (multi["ours"], multi["pgbench"]);
            Line(multi, $"{pgOrders:N0} orders", $"{F(o)} events/s ({F(o / 5)} orders/s; Orders writer held {F(multi["orders_writer"], "F2")} of the run{Cpu(multi, "order")})",
                $"pgbench, {PostgresCallers} clients: {F(t)} one-row commits/s{Cpu(multi, "commit", "pgbench_cpu")}{note}",
                $"**{F(o / 5 / t, "F2")} orders/commit**", $">= 0.5: {Met(o / 5 / t >= 0.5)}");
            var m = multiprocess["ours"];
            Line(multiprocess, $"{pgOrders:N0} orders", $"{F(m)} events/s{Cpu(multiprocess, "order")}", $"multi-threaded runner above: {F(o)} events/s",
                $"**{F(m / o, "F2")}x**", $">= 1.0x: {Met(m / o >= 1)}");
        }
        {
            var (e, r) = (catchUpSqlite["ours"], catchUpSqlite["raw"]);
            Line(catchUpSqlite, $"{catchUpEvents:N0} events", $"{F(e)} events/s", $"raw insert of the same rows: {F(r)} rows/s",
                $"**raw / ours {F(r / e, "F2")}**", $">= 100,000/s: {Met(e >= 100_000)}; within 2x of raw: {Met(r / e <= 2)}");
        }
        foreach (var row in new[] { catchUpPg, catchUpPgRows })
        {
            if (postgres is null) Line(row, $"{catchUpEvents:N0} events", Skipped, "-", "-", ">= 50,000/s");
            else if (row == catchUpPgRows && martenBuilt)
            {
                var (e, m) = (row["ours"], row["marten"]);
                Line(row, $"{catchUpEvents:N0} events", $"{F(e)} events/s", $"Marten's async daemon, one flat-table row per event: {F(m)} events/s",
                    $"**{F(e / m, "F2")}x Marten**", $">= 3x Marten: {Met(e / m >= 3)}; >= 50,000/s: {Met(e >= 50_000)}");
            }
            else
            {
                var e = row["ours"];
                Line(row, $"{catchUpEvents:N0} events", $"{F(e)} events/s", "- (Marten not compared)", "-", $">= 50,000/s: {Met(e >= 50_000)}");
            }
        }
        if (memoryEvents > 0)
        {
            var (p, f) = (follower["peak"], follower["follower"]);
            Line(follower, $"{memoryEvents:N0} events (once)", $"peak working set {F(p)} MB (follower alone: {F(f)} MB); {F(follower["ours"])} events/s",
                "200 MB", $"**{F(p / 200, "F2")}**", $"< 200 MB: {Met(p < 200)}");
        }
        Console.WriteLine(FormattableString.Invariant(
            $"(median of {rounds} interleaved rounds, each figure from its own process; 5 stored events per order; load {Load()} at the end)"));
        Console.WriteLine();
        Console.WriteLine("Rounds:");
        foreach (var row in new[] { memorySingle, memoryWarm, sqliteSingle, sqliteMulti, sqliteMultiWarm, pgMulti, pgMultiprocess, pgMultiWarm, pgMultiprocessWarm, catchUpSqlite, catchUpPg, catchUpPgRows, follower }.Where(r => r.Values.Count > 0))
            Console.WriteLine($"- {row.Name}: " + string.Join("; ", row.Values.Select(kv => $"{kv.Key} " + string.Join(" / ", kv.Value.Select(v => F(v, kv.Key is "orders_writer" or "cpu" or "pgbench_cpu" ? "F2" : "N0"))))) +
                $"; load {string.Join(" / ", row.Loads.Select(l => F(l, "F1")))}");
        return 0;
    }

    private static void Done(Row row, int round, string figures)
    {
        row.Loads.Add(double.Parse(Load().Split('/')[0], CultureInfo.InvariantCulture));
        Console.Error.WriteLine($"round {round} {row.Name}: {figures}, load {Load()}");
    }

    private static string NewDirectory(string directory, int round)
    {
        var dir = Path.Combine(directory, $"r{round}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>"; machine CPU 0.45 ms/order" from a row's metric, or nothing where it was not measured.</summary>
    private static string Cpu(Row row, string per, string metric = "cpu") =>
        row.Values.TryGetValue(metric, out var values) && values.Count > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; machine CPU {Median(values):F2} ms/{per}")
            : "";

    private static string[] Split(string arguments) => arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// pgbench's one-row commits per second: <paramref name="clients"/> clients (2 threads) each
    /// inserting one row per transaction into a scratch table of a database of its own, for 5 seconds;
    /// and the machine's processor time per commit in that time (pgbench's and the server's), where
    /// <c>/proc/stat</c> is read.
    /// </summary>
    private static (double CommitsPerSecond, double? CpuMsPerCommit) PgbenchCommitsPerSecond(string pgbench, string connectionString, int clients, string directory)
    {
        using var scratch = PostgresScratch.Create(connectionString);
        PostgresScratch.Execute(scratch.ConnectionString, "CREATE TABLE scratch (id bigserial PRIMARY KEY, state bytea NOT NULL)");
        var script = Path.Combine(directory, "insert.sql");
        File.WriteAllText(script, "INSERT INTO scratch (state) VALUES (convert_to(repeat('x', 150), 'UTF8'));\n");
        var b = new NpgsqlConnectionStringBuilder(scratch.ConnectionString);
        var start = new ProcessStartInfo(pgbench) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-n", "-f", script, "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", "5",
                     "-h", b.Host ?? "localhost", "-p", b.Port.ToString(CultureInfo.InvariantCulture), "-U", b.Username ?? "postgres", b.Database! })
            start.ArgumentList.Add(a);
        if (b.Password is { } password) start.Environment["PGPASSWORD"] = password;
        var busyBefore = OrdersSample.CpuMeter.MachineBusyTicks();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {pgbench}.");
        var errors = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var busyAfter = OrdersSample.CpuMeter.MachineBusyTicks();
        var match = Tps().Match(text);
        if (process.ExitCode != 0 || !match.Success)
            throw new InvalidOperationException($"pgbench exited {process.ExitCode} without a tps line: {text}{errors.Result}");
        var processed = Processed().Match(text);
        double? cpu = busyBefore is { } b0 && busyAfter is { } b1 && processed.Success
            ? OrdersSample.CpuMeter.Milliseconds(b1 - b0) / double.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture)
            : null;
        return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), cpu);
    }

    /// <summary>
    /// Marten's async daemon catching up on the same work (benchmarks/MartenCatchUp: the events appended
    /// 1,000 per save while no daemon runs, then one flat-table row per event), in events per second.
    /// It runs ANALYZE on Marten's tables before its clock starts: without statistics on the new rows
    /// its fetch query plans badly until autovacuum comes by, and we compare with Marten at its best.
    /// </summary>
    private static async Task<double> MartenCatchUpAsync(string program, string connectionString, int events)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { program, "--connection", connectionString, "--events", events.ToString(CultureInfo.InvariantCulture), "--fresh", "--analyze" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} exited {process.ExitCode}: {text}{await errors}");
        using var json = System.Text.Json.JsonDocument.Parse(text.Trim());
        return json.RootElement.GetProperty("catchup_events_per_second").GetDouble();
    }

    private static async Task<string> RunProcessAsync(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        if (process.ExitCode != 0 || !text.Contains("events_per_s=", StringComparison.Ordinal))
            throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList.Select(Redact))} exited {process.ExitCode} without events_per_s: {text}{await errors}");
        return text;
    }

    private static string Redact(string argument) =>
        argument.Contains("assword", StringComparison.OrdinalIgnoreCase) ? "(a connection string)" : argument;

    /// <summary>Every <c>name=number</c> in a program's output; the last one of a name wins.</summary>
    private static Dictionary<string, double> Values(string text) =>
        KeyValue().Matches(text).GroupBy(m => m.Groups[1].Value)
            .ToDictionary(g => g.Key, g => double.Parse(g.Last().Groups[2].Value, CultureInfo.InvariantCulture));

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? string.Join('/', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    [GeneratedRegex(@"\b([a-z_]+)=([0-9]+(?:\.[0-9]+)?)\b")]
    private static partial Regex KeyValue();

    [GeneratedRegex(@"^writer_held_share .*\bOrders=([0-9]+(?:\.[0-9]+)?)", RegexOptions.Multiline)]
    private static partial Regex OrdersWriterShare();

    [GeneratedRegex(@"tps = ([0-9.]+)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"number of transactions actually processed: ([0-9]+)")]
    private static partial Regex Processed();
}
