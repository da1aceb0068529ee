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
/// <param name="Reader">Which reader: local, http (sync Read) or http-async (ReadAsync).</param>
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
            app.MapNotificationLogs("/s" + size.ToString(CultureInfo.InvariantCulture), name => name == "Meters" ? log : null);
        }
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var root = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        output.WriteLine($"server: {root}");

        var results = new List<BenchResult>();
        foreach (var size in options.SectionSizes)
        {
            var local = meters.NotificationLog.WithSectionSize(size);
            using var remote = new RemoteNotificationLog(new Uri($"{root}/s{size}"), "Meters", new RemoteNotificationLogOptions { SectionSize = size });
            results.Add(Measure("local", size, total, options.Rounds, () => new NotificationLogReader(local).Read().Count));
            results.Add(Measure("http", size, total, options.Rounds, () => new NotificationLogReader(remote).Read().Count));
            results.Add(Measure("http-async", size, total, options.Rounds, () => ReadAsync(remote, cancellationToken).GetAwaiter().GetResult()));
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

    private static BenchResult Measure(string reader, int size, int expected, int rounds, Func<int> read)
    {
        var warm = read();
        if (warm != expected) throw new InvalidOperationException($"{reader} read {warm} notifications, expected {expected}.");
        var times = new List<TimeSpan>();
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            var count = read();
            clock.Stop();
            if (count != expected) throw new InvalidOperationException($"{reader} read {count} notifications, expected {expected}.");
            times.Add(clock.Elapsed);
        }
        times.Sort();
        return new BenchResult(reader, size, expected, times[0], times[times.Count / 2]);
    }
}
