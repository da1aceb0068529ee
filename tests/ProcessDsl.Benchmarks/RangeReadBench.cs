using System.Diagnostics;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// The cost of reading sections of a log as it grows: for each size, read the same number of
/// sections at random positions and report microseconds per notification. Flat across sizes means
/// each read is an indexed range lookup, not a scan.
/// </summary>
internal static class RangeReadBench
{
    public static int Run(IReadOnlyList<int> sizes, string directory)
    {
        var random = new Random(42);
        foreach (var size in sizes)
        {
            var folder = Path.Combine(directory, "log-" + size);
            using var store = Persistence.Sqlite(folder, SqliteDurability.Off);
            var catalogue = (Catalogue)new Catalogue().Open(store, new ApplicationOptions { SectionSize = 100 });
            const int chunk = 5_000;
            for (var done = 0; done < size; done += chunk)
                catalogue.Add(Enumerable.Range(done, Math.Min(chunk, size - done)).Select(Item.Create).ToArray());

            var log = catalogue.NotificationLog;
            const int reads = 2_000;
            _ = log["current"]; // warm up
            long items = 0;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < reads; i++)
            {
                var first = random.NextInt64(0, size / 100) * 100 + 1;
                items += log[$"{first},{first + 99}"].Items.Count;
            }
            clock.Stop();
            Console.WriteLine(FormattableString.Invariant(
                $"events={size} sections_read={reads} notifications_read={items} us_per_notification={clock.Elapsed.TotalMicroseconds / items:F2} us_per_section={clock.Elapsed.TotalMicroseconds / reads:F0}"));
        }
        return 0;
    }
}
