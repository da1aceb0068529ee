using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using ProcessDsl;

namespace OrdersSample;

/// <summary>
/// Listens to ProcessDsl's writer metrics while the clock runs: how long each application's writer
/// was held (<c>processdsl.writer.held</c>, summed) and how many commands' saves went into each
/// commit (<c>processdsl.saves.per_commit</c>). A share of the timed seconds near 1 says that
/// application's writes are what the run waits for. Only this process's writers are seen: with the
/// multiprocess runner, the workers' are not.
/// </summary>
internal sealed class WriterMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _held = new(StringComparer.Ordinal);
    private long _saves;
    private long _commits;

    public WriterMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProcessDslDiagnostics.MeterName && instrument.Name is "processdsl.writer.held" or "processdsl.saves.per_commit")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            if (Application(tags) is { } application) _held.AddOrUpdate(application, seconds, (_, sum) => sum + seconds);
        });
        _listener.SetMeasurementEventCallback<long>((_, saves, _, _) =>
        {
            Interlocked.Add(ref _saves, saves);
            Interlocked.Increment(ref _commits);
        });
        _listener.Start();
    }

    private static string? Application(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
            if (tag.Key == ProcessDslDiagnostics.ApplicationTag) return tag.Value as string;
        return null;
    }

    /// <summary>
    /// One line: each application's writer held, as a share of <paramref name="seconds"/>, busiest
    /// first, and the commands' saves per commit.
    /// </summary>
    public string Summary(double seconds)
    {
        if (_held.IsEmpty) return "writer_held_share none (no SQLite or PostgreSQL writer in this process)";
        var shares = _held.OrderByDescending(p => p.Value)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value / seconds:F2}"));
        var commits = Interlocked.Read(ref _commits);
        var perCommit = commits == 0 ? 0 : Interlocked.Read(ref _saves) / (double)commits;
        return string.Create(CultureInfo.InvariantCulture,
            $"writer_held_share {string.Join(' ', shares)} saves_per_commit={perCommit:F1}");
    }

    public void Dispose() => _listener.Dispose();
}
