using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProcessDsl;
using ProcessDsl.AspNetCore;

namespace LogServerSample;

/// <summary>Settings of the <c>bench</c> command.</summary>
/// <param name="Events">Notifications in the log.</param>
/// <param name="SectionSizes">Section sizes to measure, each for both readers.</param>
/// <param name="Rounds">Measured rounds per reader and size (after one warm-up).</param>
/// <param name="Store">The store description (<see cref="StoreSpec"/>).</param>
public sealed record BenchOptions(int Events, IReadOnlyList<int> SectionSizes, int Rounds, string Store);

/// <summary>One measured figure.</summary>
/// <param name="Reader">Which reader: local, http (sync Read) or http-async (ReadAsync); with the server's cache of archived sections off, cold (a fresh server cache for each read) or warm.</param>
/// <param name="SectionSize">Notifications per section.</param>
/// <param name="Notifications">Notifications read per round.</param>
/// <param name="Best">The fastest round.</param>
/// <param name="Median">The median round.</param>
public sealed record BenchResult(string Reader, int SectionSize, int Notifications, TimeSpan Best, TimeSpan Median)
{
    /// <summary>Notifications per second in the median round.</summary>
    public double Rate => Notifications / Median.TotalSeconds;
}

/// <summary>
/// Reads one log of N notifications with the local <see cref="NotificationLogReader"/> and with the
/// same reader over <see cref="RemoteNotificationLog"/> from a Kestrel server on 127.0.0.1, in one run.
/// </summary>
public static class Bench
{
    /// <summary>Runs the benchmark and prints a table; returns the figures.</summary>
    public static async Task<IReadOnlyList<BenchResult>> RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        using var persistence = StoreSpec.Open(options.Store);
        var meters = (Meters)new Meters().Open(persistence);
        var existing = meters.NotificationLog.MaxNotificationId;
        if (existing < options.Events) meters.InstallMany(options.Events - (int)existing);
        var total = (int)meters.NotificationLog.MaxNotificationId;
        output.WriteLine($"log: {total} notifications in {persistence.Description}; {Environment.ProcessorCount} CPU(s); .NET {Environment.Version}");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        foreach (var size in options.SectionSizes)
        {
            var log = meters.NotificationLog.WithSectionSize(size);
            var prefix = "/s" + size.ToString(CultureInfo.InvariantCulture);
            app.MapNotificationLogs(prefix, name => name == "Meters" ? log : null);
            app.MapNotificationLogs(prefix + "-nocache", name => name == "Meters" ? log : null, new NotificationLogEndpointOptions { ArchivedSectionCacheBytes = 0 });
            // A fresh server cache for each read of the "cold" readers (warm-up included).
            for (var i = 0; i < 2 * (options.Rounds + 1); i++)
                app.MapNotificationLogs(prefix + "-cold" + i.ToString(CultureInfo.InvariantCulture), name => name == "Meters" ? log : null);
        }
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var root = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        output.WriteLine($"server: {root}");

        var results = new List<BenchResult>();
        foreach (var size in options.SectionSizes)
        {
            var local = meters.NotificationLog.WithSectionSize(size);
            using var remote = new RemoteNotificationLog(new Uri($"{root}/s{size}"), "Meters", new RemoteNotificationLogOptions { SectionSize = size });
            using var uncached = new RemoteNotificationLog(new Uri($"{root}/s{size}-nocache"), "Meters", new RemoteNotificationLogOptions { SectionSize = size });
            var cold = 0;
            RemoteNotificationLog Cold() => new(new Uri($"{root}/s{size}-cold{cold++}"), "Meters", new RemoteNotificationLogOptions { SectionSize = size });
            // Rounds interleave the readers, so a busy machine slows each of them alike.
            var readers = new (string Name, Func<int> Read)[]
            {
                ("local", () => new NotificationLogReader(local).Read().Count),
                ("http, server cache off", () => new NotificationLogReader(uncached).Read().Count),
                ("http-async, server cache off", () => ReadAsync(uncached, cancellationToken).GetAwaiter().GetResult()),
                ("http, cold server cache", () => { using var fresh = Cold(); return new NotificationLogReader(fresh).Read().Count; }),
                ("http-async, cold server cache", () => { using var fresh = Cold(); return ReadAsync(fresh, cancellationToken).GetAwaiter().GetResult(); }),
                ("http", () => new NotificationLogReader(remote).Read().Count),
                ("http-async", () => ReadAsync(remote, cancellationToken).GetAwaiter().GetResult()),
            };
            results.AddRange(Measure(readers, size, total, options.Rounds));
        }
        await app.StopAsync(cancellationToken).ConfigureAwait(false);

        output.WriteLine();
        output.WriteLine("| reader | section size | notifications | median | best | notifications/s | vs local |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var result in results)
        {
            var local = results.First(r => r.Reader == "local" && r.SectionSize == result.SectionSize);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {result.Reader} | {result.SectionSize} | {result.Notifications} | {result.Median.TotalMilliseconds:0} ms | {result.Best.TotalMilliseconds:0} ms | {result.Rate:0} | {result.Rate / local.Rate:P0} |"));
        }
        return results;
    }

    private static async Task<int> ReadAsync(RemoteNotificationLog remote, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var _ in new NotificationLogReader(remote).ReadAsync(cancellationToken).ConfigureAwait(false)) count++;
        return count;
    }

    private static IEnumerable<BenchResult> Measure((string Name, Func<int> Read)[] readers, int size, int expected, int rounds)
    {
        var times = readers.Select(_ => new List<TimeSpan>()).ToArray();
        for (var round = -1; round < rounds; round++) // round -1 warms up
        {
            for (var i = 0; i < readers.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                var count = readers[i].Read();
                clock.Stop();
                if (count != expected) throw new InvalidOperationException($"{readers[i].Name} read {count} notifications, expected {expected}.");
                if (round >= 0) times[i].Add(clock.Elapsed);
            }
        }
        for (var i = 0; i < readers.Length; i++)
        {
            times[i].Sort();
            yield return new BenchResult(readers[i].Name, size, expected, times[i][0], times[i][times[i].Count / 2]);
        }
    }
}
