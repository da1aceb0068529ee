namespace ProcessDsl;

/// <summary>When <c>AddHealthChecks().AddProcessDsl()</c> reports a system as degraded.</summary>
public sealed class ProcessDslHealthCheckOptions
{
    /// <summary>A follower this many upstream notifications behind (or more) is lagging (default 1000).</summary>
    public long LagThreshold { get; set; } = 1000;

    /// <summary>A follower lagging for longer than this makes the system Degraded (default 1 minute); a burst that is caught up sooner does not.</summary>
    public TimeSpan LagWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock the window is measured with (a fake one in tests).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
