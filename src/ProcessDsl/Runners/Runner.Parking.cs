namespace ProcessDsl;

/// <summary>Parked events: listing them and processing them again.</summary>
public abstract partial class Runner
{
    /// <summary>The events the followers of every application parked (see <see cref="ProcessingOptions.ParkFailingEvents"/>).</summary>
    public IReadOnlyList<ParkedEvent> Parked()
    {
        EnsureStarted();
        return _applications.Values.OfType<ProcessApplication>().SelectMany(a => a.Store.Parked()).ToArray();
    }

    /// <summary>
    /// Processes a parked event again, exactly once: its policy runs in one transaction that also
    /// removes the parked record (a racing retry of the same event finds it gone and does nothing).
    /// </summary>
    /// <returns>True when it was processed; false when it was no longer parked.</returns>
    /// <exception cref="ProcessingException">The policy failed again; the event stays parked.</exception>
    public Task<bool> RetryParkedAsync(ParkedEvent parked, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parked);
        EnsureStarted();
        cancellationToken.ThrowIfCancellationRequested();
        if (Get(parked.Application) is not ProcessApplication application || !Definition[parked.Application].Upstreams.Contains(parked.Upstream))
            throw new ArgumentException($"System '{Definition.Name}' has no follower '{parked.Application}' of '{parked.Upstream}'.", nameof(parked));
        var log = Options.UpstreamLogs.TryGetValue(parked.Upstream, out var remote) ? remote : _applications[parked.Upstream].NotificationLog;
        var follower = new Follower(application, parked.Upstream, log, Options.Processing);
        return Task.FromResult(follower.RetryParked(parked.NotificationId));
    }
}
