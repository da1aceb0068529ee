namespace ProcessDsl;

/// <summary>How followers process their upstream logs.</summary>
public sealed record ProcessingOptions
{
    /// <summary>The most upstream notifications one step reads and commits (default 1,000). A live follower reads what is new, often one.</summary>
    public int MaxBatchSize { get; init; } = 1000;

    /// <summary>How often a policy may fail on one event before the follower stops with a <see cref="ProcessingException"/> (default 3).</summary>
    public int PolicyAttempts { get; init; } = 3;

    /// <summary>How often a step may fail for other reasons (database faults) in a row before the error is raised; 0 retries for ever (default 0).</summary>
    public int TransientAttempts { get; init; }

    /// <summary>
    /// Whether an event whose policy fails <see cref="PolicyAttempts"/> times is parked instead of
    /// stopping the follower (default false: nothing is ever skipped silently). A parked event is
    /// written to the application's parked-events table in the same transaction that moves the
    /// position past it; the follower goes on, <c>Runner.Parked</c> lists it and
    /// <c>Runner.RetryParkedAsync</c> processes it again, exactly once.
    /// </summary>
    public bool ParkFailingEvents { get; init; }

    /// <summary>The first retry delay; each further attempt doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest retry delay (default 2 s).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The follower's retry delays: the library's one <see cref="RetryPolicy"/>, from these settings (made on retries only).</summary>
    internal RetryPolicy RetryPolicy => new() { InitialDelay = InitialBackoff, MaxDelay = MaxBackoff };

    internal TimeSpan Backoff(int attempt) => RetryPolicy.Delay(attempt);
}
