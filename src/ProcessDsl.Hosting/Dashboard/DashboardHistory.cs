namespace ProcessDsl.Hosting;

/// <summary>
/// Positions of every follower sampled over the last minutes (at most one sample a second, taken
/// when the dashboard asks), from which it draws rates.
/// </summary>
internal sealed class DashboardHistory(TimeProvider clock)
{
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);
    private const int Points = 60;

    private readonly Lock _lock = new();
    private readonly Queue<(DateTimeOffset Time, Dictionary<string, long> Positions)> _samples = new();

    public DashboardStatus Build(Runner runner)
    {
        var now = clock.GetUtcNow();
        var stopped = runner.Errors.OfType<ProcessingException>()
            .Select(e => new DashboardStopped(e.Application, e.Upstream, e.NotificationId, e.Topic, e.InnerException?.Message ?? e.Message))
            .ToArray();
        var other = runner.Errors.Where(e => e is not ProcessingException).Select(e => e.Message).ToArray();
        IReadOnlyList<ApplicationStatus> status;
        try
        {
            status = SystemStatus.Read(runner.Definition, runner.Persistence);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new DashboardStatus(runner.Definition.Name, runner.GetType().Name, now, [], stopped, [], "Cannot read the status: " + ex.Message);
        }

        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var application in status)
            foreach (var follower in application.Following)
                positions[Key(application.Application, follower.Upstream)] = follower.Position;

        (DateTimeOffset Time, Dictionary<string, long> Positions)[] samples;
        lock (_lock)
        {
            if (_samples.Count == 0 || now - _samples.Last().Time >= Every) _samples.Enqueue((now, positions));
            while (_samples.Count > 0 && now - _samples.Peek().Time > Keep) _samples.Dequeue();
            samples = [.. _samples];
        }

        var applications = status.Select(a => new DashboardApplication(a.Application, a.NewestNotificationId, a.Following.Select(f =>
        {
            var key = Key(a.Application, f.Upstream);
            var isStopped = stopped.Any(s => s.Application == a.Application && s.Upstream == f.Upstream);
            return new DashboardFollower(f.Upstream, f.Position, f.Lag, Rate(samples, key, now, f.Position), isStopped, History(samples, key));
        }).ToArray())).ToArray();
        return new DashboardStatus(runner.Definition.Name, runner.GetType().Name, now, applications, stopped, [],
            other.Length > 0 ? string.Join("; ", other) : null);
    }

    private static string Key(string application, string upstream) => application + "\u0000" + upstream;

    private static double Rate((DateTimeOffset Time, Dictionary<string, long> Positions)[] samples, string key, DateTimeOffset now, long position)
    {
        var from = samples.FirstOrDefault(s => now - s.Time <= RateWindow && s.Positions.ContainsKey(key));
        if (from.Positions is null) return 0;
        var seconds = (now - from.Time).TotalSeconds;
        return seconds < 0.5 ? 0 : Math.Round((position - from.Positions[key]) / seconds, 1);
    }

    /// <summary>Events a second between consecutive samples, the newest <see cref="Points"/>.</summary>
    private static double[] History((DateTimeOffset Time, Dictionary<string, long> Positions)[] samples, string key)
    {
        var rates = new List<double>();
        for (var i = 1; i < samples.Length; i++)
        {
            if (!samples[i].Positions.TryGetValue(key, out var now) || !samples[i - 1].Positions.TryGetValue(key, out var before)) continue;
            var seconds = (samples[i].Time - samples[i - 1].Time).TotalSeconds;
            rates.Add(seconds > 0 ? Math.Round((now - before) / seconds, 1) : 0);
        }
        return rates.Count > Points ? rates.GetRange(rates.Count - Points, Points).ToArray() : rates.ToArray();
    }
}
