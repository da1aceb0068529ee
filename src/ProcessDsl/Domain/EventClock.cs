namespace ProcessDsl;

/// <summary>
/// Where the library takes the time from: event timestamps and parked-event times. The system clock
/// unless a test says otherwise, for the whole process (<see cref="Default"/>) or for the current
/// async flow only (<see cref="Use"/>, which tests running in parallel can each call).
/// </summary>
public static class EventClock
{
    private static readonly AsyncLocal<TimeProvider?> s_scoped = new();

    /// <summary>The clock used where no <see cref="Use"/> scope is active (default <see cref="TimeProvider.System"/>).</summary>
    public static TimeProvider Default { get; set; } = TimeProvider.System;

    /// <summary>The clock in force here.</summary>
    public static TimeProvider Current => s_scoped.Value ?? Default;

    /// <summary>The current time of <see cref="Current"/>.</summary>
    public static DateTimeOffset UtcNow => Current.GetUtcNow();

    /// <summary>Uses <paramref name="clock"/> in this async flow until the result is disposed.</summary>
    public static IDisposable Use(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var previous = s_scoped.Value;
        s_scoped.Value = clock;
        return new Scope(previous);
    }

    private sealed class Scope(TimeProvider? previous) : IDisposable
    {
        public void Dispose() => s_scoped.Value = previous;
    }
}
