namespace ProcessDsl;

/// <summary>
/// How <c>services.AddProcessDsl(...)</c> runs a system: the store, the runner and its settings.
/// </summary>
public sealed class ProcessDslOptions
{
    internal Func<IServiceProvider, Persistence>? PersistenceFactory { get; private set; }

    internal Persistence? PersistenceInstance { get; private set; }

    internal string? StoreSpecification { get; private set; }

    /// <summary>The runner to use (default <see cref="RunnerKind.MultiThreaded"/>).</summary>
    public RunnerKind RunnerKind { get; private set; } = RunnerKind.MultiThreaded;

    /// <summary>
    /// Settings of the runner (batch size, retries, poll interval, section size). The host sets
    /// <see cref="RunnerOptions.ApplicationFactory"/> (the container) and
    /// <see cref="RunnerOptions.LoggerFactory"/> (the host's logging) unless they are set here.
    /// </summary>
    public RunnerOptions Runner { get; set; } = new();

    /// <summary>Settings of the multiprocess runner (worker program, restarts); its <see cref="MultiprocessOptions.Runner"/> is replaced by <see cref="Runner"/>.</summary>
    public MultiprocessOptions Multiprocess { get; set; } = new();

    /// <summary>
    /// How long stopping the host waits for the runner to finish its steps (default 30 s); past
    /// it, the host goes on stopping and the unfinished steps are rolled back (they resume on the next start).
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Uses a store the caller opened (and disposes: the container does not).</summary>
    /// <remarks>Not for <see cref="RunnerKind.Multiprocess"/>, whose workers open the store themselves: use <see cref="UseStore"/>.</remarks>
    public ProcessDslOptions UsePersistence(Persistence persistence)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        Clear();
        PersistenceInstance = persistence;
        return this;
    }

    /// <summary>Uses a store made from the container's services; the container disposes it.</summary>
    /// <remarks>Not for <see cref="RunnerKind.Multiprocess"/>, whose workers open the store themselves: use <see cref="UseStore"/>.</remarks>
    public ProcessDslOptions UsePersistence(Func<IServiceProvider, Persistence> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Clear();
        PersistenceFactory = factory;
        return this;
    }

    /// <summary>
    /// Uses the store a spec names, as <see cref="StoreSpec.Open"/> reads it: <c>sqlite:DIR</c>,
    /// <c>memory</c> or <c>postgres:CONNECTION-STRING</c> (the configuration key <c>Store</c>). The
    /// only form the multiprocess runner takes, since its workers open the store from the spec.
    /// </summary>
    public ProcessDslOptions UseStore(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        Clear();
        StoreSpecification = spec;
        return this;
    }

    /// <summary>Chooses the runner.</summary>
    public ProcessDslOptions UseRunner(RunnerKind kind)
    {
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use RunnerKind.SingleThreaded, MultiThreaded or Multiprocess.");
        RunnerKind = kind;
        return this;
    }

    /// <summary>Parses a runner name as configuration gives it: <c>single</c>, <c>multi</c> or <c>multiprocess</c> (or the <see cref="ProcessDsl.RunnerKind"/> names).</summary>
    /// <exception cref="ArgumentException">Not one of these.</exception>
    public static RunnerKind ParseRunnerKind(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Trim().ToLowerInvariant() switch
        {
            "single" or "singlethreaded" => RunnerKind.SingleThreaded,
            "multi" or "multithreaded" => RunnerKind.MultiThreaded,
            "multiprocess" => RunnerKind.Multiprocess,
            _ => throw new ArgumentException($"Unknown runner '{value}': use single, multi or multiprocess.", nameof(value)),
        };
    }

    private void Clear()
    {
        PersistenceFactory = null;
        PersistenceInstance = null;
        StoreSpecification = null;
    }
}
