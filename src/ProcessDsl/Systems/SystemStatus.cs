namespace ProcessDsl;

/// <summary>How far one follower is behind one upstream log.</summary>
/// <param name="Upstream">The upstream application.</param>
/// <param name="Position">The last upstream notification id processed.</param>
/// <param name="Lag">How many upstream notifications are not yet processed.</param>
public sealed record FollowerStatus(string Upstream, long Position, long Lag);

/// <summary>One application's newest notification id and, if it follows others, its positions.</summary>
/// <param name="Application">The application.</param>
/// <param name="NewestNotificationId">The newest notification id in its log (0 when empty).</param>
/// <param name="Following">One entry per upstream it follows.</param>
/// <param name="Parked">How many upstream events its followers parked (see <see cref="ProcessingOptions.ParkFailingEvents"/>).</param>
public sealed record ApplicationStatus(string Application, long NewestNotificationId, IReadOnlyList<FollowerStatus> Following, int Parked = 0);

/// <summary>The operations view of a system on a store: every log's head and every follower's position and lag.</summary>
public static class SystemStatus
{
    /// <summary>Reads the status of every application of <paramref name="system"/> in <paramref name="persistence"/>.</summary>
    public static IReadOnlyList<ApplicationStatus> Read(SystemDefinition system, Persistence persistence)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(persistence);
        var heads = system.Applications.ToDictionary(a => a.Name, a => persistence.Store(a.Name).MaxNotificationId(), StringComparer.Ordinal);
        return system.Applications.Select(a =>
        {
            var positions = persistence.Store(a.Name).Positions();
            var following = a.Upstreams.Select(u =>
            {
                var position = positions.GetValueOrDefault(u);
                return new FollowerStatus(u, position, Math.Max(0, heads[u] - position));
            }).ToArray();
            var parked = a.IsFollower ? persistence.Store(a.Name).Parked().Count : 0;
            return new ApplicationStatus(a.Name, heads[a.Name], following, parked);
        }).ToArray();
    }
}
