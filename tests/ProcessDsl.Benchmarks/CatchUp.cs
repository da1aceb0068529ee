using System.Diagnostics;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// Records N upstream events, then times a follower that writes one new event per upstream event
/// plus its tracking record; the raw LinqToDB insert rate of the same rows is measured in the same run.
/// </summary>
internal static class CatchUp
{
    public static async Task<int> RunAsync(int events, int batchSize, string directory)
    {
        Directory.CreateDirectory(directory);
        using (var store = Persistence.Sqlite(directory))
        {
            var catalogue = (Catalogue)new Catalogue().Open(store);
            const int chunk = 5_000;
            for (var done = 0; done < events; done += chunk)
            {
                var items = Enumerable.Range(done, Math.Min(chunk, events - done)).Select(Item.Create).ToArray();
                catalogue.Add(items);
            }
        }

        var peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        double seconds;
        using (var store = Persistence.Sqlite(directory))
        {
            var options = new RunnerOptions { Processing = new ProcessingOptions { MaxBatchSize = batchSize } };
            await using var runner = new MultiThreadedRunner(CatchUpSystem.Definition, store, options);
            var clock = Stopwatch.StartNew();
            await runner.StartAsync();
            await runner.WaitUntilIdleAsync(TimeSpan.FromHours(1));
            seconds = clock.Elapsed.TotalSeconds;
            var copies = runner.Get<Copier>().NotificationLog.MaxNotificationId;
            if (copies != events) throw new InvalidOperationException($"expected {events} copies, found {copies}");
            await runner.StopAsync();
        }
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        var raw = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw"), events);
        var rawLiterals = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw-literals"), events, parameters: false);
        var rawPerRow = Baselines.RowsPerSecondInOneTransaction(Path.Combine(directory, "raw-per-row"), events, multipleRows: false);
        Console.WriteLine(FormattableString.Invariant(
            $"events={events} seconds={seconds:F3} events_per_s={events / seconds:F0} raw_rows_per_s={raw:F0} raw_multirow_literals_rows_per_s={rawLiterals:F0} raw_per_row_statement_rows_per_s={rawPerRow:F0} ratio_raw_over_follower={raw / (events / seconds):F2} peak_working_set_mb={peak / 1048576.0:F0} (before_follower={peakBefore / 1048576.0:F0})"));
        return 0;
    }
}
