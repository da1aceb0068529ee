using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ProcessDsl.Hosting;

/// <summary>
/// Unhealthy when a follower has stopped (naming application, upstream, notification id and topic),
/// Degraded when a follower's lag stays at or above the threshold for longer than the window,
/// Healthy otherwise. One instance per container, so it remembers since when each follower lags.
/// </summary>
internal sealed class ProcessDslHealthCheck(Runner runner, ProcessDslHealthCheckOptions options) : IHealthCheck
{
    private readonly ConcurrentDictionary<(string Application, string Upstream), DateTimeOffset> _laggingSince = new();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var errors = runner.Errors;
        if (errors.Count > 0)
        {
            var data = new Dictionary<string, object>(StringComparer.Ordinal);
            if (errors[0] is ProcessingException first)
            {
                data["application"] = first.Application;
                data["upstream"] = first.Upstream;
                data["notification_id"] = first.NotificationId;
                data["topic"] = first.Topic;
            }
            return Task.FromResult(HealthCheckResult.Unhealthy(string.Join("; ", errors.Select(Describe)), errors[0], data));
        }

        IReadOnlyList<ApplicationStatus> status;
        try
        {
            status = SystemStatus.Read(runner.Definition, runner.Persistence);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"Cannot read the status of system '{runner.Definition.Name}': {ex.Message}", ex));
        }

        var now = options.TimeProvider.GetUtcNow();
        var lagging = new List<string>();
        var lags = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var application in status)
        {
            if (runner.Options.Applications is { } only && !only.Contains(application.Application)) continue;
            foreach (var follower in application.Following)
            {
                var key = (application.Application, follower.Upstream);
                lags[$"{application.Application}<-{follower.Upstream}"] = follower.Lag;
                if (follower.Lag < options.LagThreshold)
                {
                    _laggingSince.TryRemove(key, out _);
                    continue;
                }
                var since = _laggingSince.GetOrAdd(key, now);
                if (now - since >= options.LagWindow)
                    lagging.Add(string.Create(CultureInfo.InvariantCulture,
                        $"'{application.Application}' is {follower.Lag} notifications behind '{follower.Upstream}' (at {follower.Position}) and has been at least {options.LagThreshold} behind since {since:O}"));
            }
        }
        return Task.FromResult(lagging.Count > 0
            ? HealthCheckResult.Degraded(string.Join("; ", lagging), data: lags)
            : HealthCheckResult.Healthy($"System '{runner.Definition.Name}': every follower runs and keeps up.", lags));
    }

    private static string Describe(Exception error) => error is ProcessingException p
        ? string.Create(CultureInfo.InvariantCulture,
            $"'{p.Application}' stopped following '{p.Upstream}' at notification {p.NotificationId} (topic '{p.Topic}'): {p.InnerException?.Message ?? p.Message}")
        : error.Message;
}
