using System.Diagnostics;
using System.Globalization;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// Records N upstream events, then times a follower that writes one new event per upstream event
/// plus its tracking record; on SQLite the raw LinqToDB insert rate of the same rows is measured in
/// the same run. Prints the process's peak working set (VmHWM) over the whole run and over the
/// follower alone (the peak is reset after recording, where the kernel allows it). With
/// <c>projection</c> the follower writes one projection row per upstream event instead of an event.
/// On PostgreSQL the database is analysed after recording, before the clock, as Marten's is; the
/// follower's tables are created before the clock, as Marten's schema is.
/// </summary>
internal static class CatchUp
{
    /// <summary>
    /// Runs the catch-up on <paramref name="storeSpec"/> (null: SQLite in <paramref name="directory"/>;
    /// <c>memory</c>; <c>postgres:CONNECTION-STRING</c>, with <paramref name="freshDatabase"/> a database of its own).
    /// </summary>
    public static async Task<int> RunAsync(int events, int batchSize, string directory, string? storeSpec = null, bool freshDatabase = false, bool raw = true, bool projection = false)
    {
        Directory.CreateDirectory(directory);
        const string Postgres = "postgres:";
        storeSpec ??= "sqlite:" + directory;
        var postgres = storeSpec.StartsWith(Postgres, StringComparison.Ordinal);
        using var scratch = freshDatabase && postgres ? PostgresScratch.Create(storeSpec[Postgres.Length..]) : null;
        if (scratch is not null) storeSpec = Postgres + scratch.ConnectionString;
        var memory = storeSpec == "memory";
        // The in-memory store lives in the process: recording and following share one instance.
        var shared = memory ? StoreSpec.Open(storeSpec) : null;
        Persistence Open() => shared ?? StoreSpec.Open(storeSpec);

        var recordClock = Stopwatch.StartNew();
        {
            var store = Open();
            try
            {
                var catalogue = (Catalogue)new Catalogue().Open(store);
                const int chunk = 5_000;
                for (var done = 0; done < events; done += chunk)
                {
                    var items = Enumerable.Range(done, Math.Min(chunk, events - done)).Select(Item.Create).ToArray();
                    catalogue.Add(items);
                }
            }
            finally
            {
                if (!memory) store.Dispose();
            }
        }
        var recordSeconds = recordClock.Elapsed.TotalSeconds;
        if (postgres)
        {
            // As compare does for Marten (its --analyze): statistics on the new rows before the clock.
            // Without them the planner takes the range read for uncorrelated with the heap and sorts
            // a bitmap scan, until autovacuum's ANALYZE comes by (it checks once a minute).
            PostgresScratch.Execute(storeSpec[Postgres.Length..], "ANALYZE");
        }

        var peakRecording = PeakWorkingSetMb();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var reset = ResetPeak();
        double seconds;
        TimeSpan cpuBefore;
        double serverBefore, clientCpu, serverCpu;
        long allocatedBefore, allocated;
        {
            var store = Open();
            try
            {
                // The follower's schema (its event, tracking and parked tables, and its row table) is
                // created before the clock, as Marten's program creates its schema before its clock
                // (benchmarks/MartenCatchUp): both clocks cover starting the follower and the work.
                ProcessApplication schema = projection ? new Indexer() : new Copier();
                schema.Open(store);
                schema.PrepareRowTables();
                var options = new RunnerOptions { Processing = new ProcessingOptions { MaxBatchSize = batchSize } };
                await using var runner = new MultiThreadedRunner(projection ? ProjectionCatchUpSystem.Definition : CatchUpSystem.Definition, store, options);
                // The readings before the clock starts: the server's is a walk of /proc, and only on PostgreSQL.
                serverBefore = postgres ? ServerCpuSeconds() : 0;
                cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                await runner.StartAsync();
                await runner.WaitUntilIdleAsync(TimeSpan.FromHours(1));
                seconds = clock.Elapsed.TotalSeconds;
                clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                serverCpu = postgres ? ServerCpuSeconds() - serverBefore : 0;
                var copies = projection ? runner.Get<Indexer>().Query<ItemRow>().LongCount() : runner.Get<Copier>().NotificationLog.MaxNotificationId;
                if (copies != events) throw new InvalidOperationException($"expected {events} {(projection ? "rows" : "copies")}, found {copies}");
                await runner.StopAsync();
            }
            finally
            {
                store.Dispose();
            }
        }
        var peakFollower = PeakWorkingSetMb();
        var peak = Math.Max(peakRecording, peakFollower);
        var line = FormattableString.Invariant(
            $"store={storeSpec.Split(':')[0]} follower={(projection ? "rows" : "events")} events={events} batch_size={batchSize} record_seconds={recordSeconds:F3} seconds={seconds:F3} events_per_s={events / seconds:F0} follower_client_cpu_us_per_event={clientCpu * 1e6 / events:F1} follower_allocated_bytes_per_event={(double)allocated / events:F0}");
        if (postgres && serverCpu > 0)
            line += FormattableString.Invariant($" follower_local_postgres_cpu_us_per_event={serverCpu * 1e6 / events:F1}");

        if (raw && storeSpec.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var rawRate = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw"), events);
            var rawLiterals = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw-literals"), events, parameters: false);
            var rawPerRow = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw-per-row"), events, multipleRows: false);
            line += FormattableString.Invariant(
                $" raw_rows_per_s={rawRate:F0} raw_multirow_literals_rows_per_s={rawLiterals:F0} raw_per_row_statement_rows_per_s={rawPerRow:F0} ratio_raw_over_follower={rawRate / (events / seconds):F2}");
        }
        Console.WriteLine(line + FormattableString.Invariant(
            $" peak_working_set_mb={peak:F0} peak_recording_mb={peakRecording:F0} peak_follower_mb={(reset ? peakFollower.ToString("F0", CultureInfo.InvariantCulture) : "unknown")}"));
        return 0;
    }

    /// <summary>
    /// The CPU time (user and system) of every process named <c>postgres</c> on this machine, in seconds
    /// (0 where /proc cannot tell): the share of a local server's work. Processes that ended between
    /// two readings are missed, so a difference is a lower bound.
    /// </summary>
    public static double ServerCpuSeconds()
    {
        if (!Directory.Exists("/proc")) return 0;
        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                if (open < 0 || close < 0 || stat[(open + 1)..close] != "postgres") continue;
                var fields = stat[(close + 2)..].Split(' ');
                // After the name: state is field 3 (index 0 here); utime and stime are fields 14 and 15.
                ticks += double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while being read, or is not ours to read.
            }
        }
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    /// <summary>The process's peak resident set (VmHWM) in MiB; <see cref="Process.PeakWorkingSet64"/> where there is no /proc.</summary>
    public static double PeakWorkingSetMb()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null) return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / 1048576.0;
    }

    /// <summary>Resets VmHWM to the current resident set (Linux: <c>echo 5 &gt; /proc/self/clear_refs</c>); false where that is not allowed.</summary>
    private static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
