using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ProcessDsl.Benchmarks;

/// <summary>
/// Ours beside the anchor, in one run: the orders sample and the same system on Python
/// <c>eventsourcing</c> (<c>../shared/anchors/python-eventsourcing/run</c>), each as its own process,
/// interleaved round by round so both see the same machine; the durable one-row commit rate of the
/// disk measured between them; the load average printed with every row. Prints one table of events/s
/// (median of the rounds) and the ratios the performance targets are stated in.
/// </summary>
internal static partial class Compare
{
    private sealed record Run(string Name, string OursArgs, string? AnchorArgs, int Orders);

    public static async Task<int> RunAsync(string anchor, string ordersDll, int rounds, double scale, string directory)
    {
        if (!File.Exists(anchor)) throw new FileNotFoundException($"No anchor at {anchor} (pass --anchor PATH).", anchor);
        if (!File.Exists(ordersDll)) throw new FileNotFoundException($"No orders program at {ordersDll}: build samples/Orders -c Release (or pass --orders-dll).", ordersDll);
        int N(int n) => Math.Max(100, (int)(n * scale));
        var runs = new[]
        {
            new Run("memory, single-threaded", "--runner single --store memory", "single memory", N(2000)),
            new Run("SQLite files, single-threaded", "--runner single --store sqlite:{dir}", "single", N(1000)),
            new Run("SQLite files, multi-threaded, 1 caller", "--runner multi --callers 1 --store sqlite:{dir}", "multi", N(3000)),
        };
        var results = runs.ToDictionary(r => r.Name, _ => (Ours: new List<double>(), Anchor: new List<double>(), Commits: new List<double>()));
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var run in runs)
            {
                var dir = Path.Combine(directory, $"r{round}-{results[run.Name].Ours.Count}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(dir);
                var ours = await EventsPerSecondAsync("dotnet", $"{ordersDll} --orders {run.Orders} {run.OursArgs.Replace("{dir}", dir, StringComparison.Ordinal)}");
                results[run.Name].Ours.Add(ours);
                if (run.AnchorArgs is not null)
                    results[run.Name].Anchor.Add(await EventsPerSecondAsync(anchor, $"{run.Orders} {run.AnchorArgs}"));
                if (!run.OursArgs.Contains("memory", StringComparison.Ordinal))
                    results[run.Name].Commits.Add(Baselines.DurableCommitsPerSecond(Path.Combine(dir, "baseline"), 2));
                Console.Error.WriteLine(FormattableString.Invariant($"round {round} {run.Name}: ours {ours:F0} ev/s, anchor {results[run.Name].Anchor.LastOrDefault():F0} ev/s, load {Load()}"));
            }
        }

        Console.WriteLine($"| run | ours (events/s) | Python eventsourcing 9.2.22 (events/s) | ours / Python | durable one-row commits/s | orders per commit | load (1/5/15 min) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var run in runs)
        {
            var (ours, anchors, commits) = results[run.Name];
            var o = Median(ours);
            var a = Median(anchors);
            var c = commits.Count > 0 ? Median(commits) : double.NaN;
            var perCommit = double.IsNaN(c) ? "-" : (o / 5 / c).ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine(FormattableString.Invariant(
                $"| {run.Name}, {run.Orders} orders | {o:F0} | {a:F0} | **{o / a:F2}x** | {(double.IsNaN(c) ? "-" : c.ToString("F0", CultureInfo.InvariantCulture))} | {perCommit} | {Load()} |"));
        }
        Console.WriteLine(FormattableString.Invariant($"(median of {rounds} interleaved rounds; each figure from its own process; 5 stored events per order)"));
        return 0;
    }

    private static async Task<double> EventsPerSecondAsync(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await output;
        var match = EventsPerSecond().Matches(text).LastOrDefault();
        if (process.ExitCode != 0 || match is null)
            throw new InvalidOperationException($"{program} {arguments} exited {process.ExitCode} without events_per_s: {text}{await errors}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? string.Join('/', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    [GeneratedRegex(@"events_per_s=([0-9.]+)")]
    private static partial Regex EventsPerSecond();
}
