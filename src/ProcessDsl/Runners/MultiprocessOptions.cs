namespace ProcessDsl;

/// <summary>Settings of the <see cref="MultiprocessRunner"/>.</summary>
public sealed record MultiprocessOptions
{
    /// <summary>
    /// The settings used by the parent and passed on to every worker through its environment:
    /// processing (batch size, policy and transient attempts, backoff), poll and step intervals,
    /// section size and cache, cross-process prompts, and upstream logs that are
    /// <see cref="RemoteNotificationLog"/>s (recreated in the worker from their address and options;
    /// any other kind of upstream log is refused). The logger factory stays in the parent.
    /// </summary>
    public RunnerOptions Runner { get; init; } = new() { PollInterval = TimeSpan.FromMilliseconds(500) };

    /// <summary>
    /// The program to start as a worker; by default the current program (the <c>dotnet</c> host with
    /// the entry assembly, or the app host), which must call <see cref="WorkerHost.RunAsync(string[], SystemDefinition, Microsoft.Extensions.Logging.ILoggerFactory?, CancellationToken)"/> for
    /// the <c>worker</c> command.
    /// </summary>
    public string? WorkerExecutable { get; init; }

    /// <summary>Arguments placed before <c>worker ...</c> (for example the path of a dll run by <c>dotnet</c>).</summary>
    public IReadOnlyList<string>? WorkerArguments { get; init; }

    /// <summary>Environment variables set for every worker, in addition to the parent's.</summary>
    /// <remarks>
    /// Workers run with <c>DOTNET_TieredCompilation=0</c>: each compiles a method once, optimised,
    /// when first called, and uses precompiled code (the framework's, or a program's published
    /// ReadyToRun) as it is, instead of compiling its hot methods a second time on a background thread
    /// while it works. A worker starts more slowly, and processes faster from its first step. This
    /// is left out when <c>DOTNET_TieredCompilation</c> is set here or in the parent's environment,
    /// or the program's configuration sets <c>TieredCompilation</c>.
    /// </remarks>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The first delay before restarting a worker that exited unexpectedly; doubled on each further restart, up to <see cref="MaxRestartBackoff"/>.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay before restarting a worker (default 5 s).</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many times in a row a worker may exit before it has started (before its followers run:
    /// the store cannot be opened, the program is wrong) until the runner gives up on it and reports a
    /// <see cref="WorkerStartException"/> with the worker's error output (default 5).
    /// </summary>
    public int MaxFailedStarts { get; init; } = 5;

    /// <summary>How long <see cref="Runner.StopAsync"/> waits for a worker to exit cleanly before killing it (default 10 s).</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (MaxFailedStarts < 1) throw new ArgumentOutOfRangeException(nameof(MaxFailedStarts), MaxFailedStarts, "A worker needs at least one start.");
        if (RestartBackoff < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RestartBackoff), RestartBackoff, "The restart backoff cannot be negative.");
        if (MaxRestartBackoff < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxRestartBackoff), MaxRestartBackoff, "The restart backoff cannot be negative.");
        if (StopTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StopTimeout), StopTimeout, "The stop timeout must be positive.");
    }
}
