using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ProcessDsl;

/// <summary>
/// What every runner shares: it creates the system's applications on a store, gives them to
/// commands and queries (<see cref="Get{TApp}"/>), and runs each follower's steps.
/// </summary>
public abstract partial class Runner : IAsyncDisposable
{
    private readonly Dictionary<string, Application> _applications = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Follower>> _followersByApplication = new(StringComparer.Ordinal);
    private readonly List<Exception> _errors = [];
    private readonly HashSet<string> _failedApplications = new(StringComparer.Ordinal);
    private bool _anyFailed;
    private readonly TaskCompletionSource<Exception> _firstError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state; // 0 new, 1 started, 2 stopped
    private int _failureCollected;

    /// <summary>Creates a runner for a system on a store.</summary>
    protected Runner(SystemDefinition system, Persistence persistence, RunnerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(persistence);
        Definition = system;
        Persistence = persistence;
        Options = options ?? new RunnerOptions();
        Logger = Options.LoggerFactory?.CreateLogger(GetType().FullName!) ?? NullLogger.Instance;
    }

    /// <summary>The system being run.</summary>
    public SystemDefinition Definition { get; }

    /// <summary>The store.</summary>
    public Persistence Persistence { get; }

    /// <summary>The settings.</summary>
    public RunnerOptions Options { get; }

    /// <summary>The runner's logger.</summary>
    protected internal ILogger Logger { get; }

    /// <summary>The cross-process prompt transport, when the runner uses one.</summary>
    private protected PromptTransport? Prompts { get; private set; }

    /// <summary>Whether this runner exchanges prompts with other processes.</summary>
    private protected virtual bool UsesCrossProcessPrompts => false;

    /// <summary>Whether followers read their next batch while a step runs (<see cref="Follower.ReadsAhead"/>): not on the single-threaded runner.</summary>
    private protected virtual bool ReadsAhead => false;

    /// <summary>Whether followers move past batches with nothing for their policies in memory only (see <see cref="Follower.DefersTrackingOnlySteps"/>).</summary>
    private protected virtual bool DefersTrackingOnlySteps => false;

    /// <summary>Whether this runner disposes its store when it is disposed.</summary>
    private protected bool OwnsPersistence { get; init; }

    /// <summary>Completes with the first fatal error of any follower.</summary>
    internal Task<Exception> FirstError => _firstError.Task;

    internal IReadOnlyList<Follower> AllFollowers { get; private set; } = [];

    internal IReadOnlyList<Follower> FollowersOf(string application) =>
        _followersByApplication.TryGetValue(application, out var list) ? list : [];

    /// <summary>Creates the applications (and their tables) and starts processing, catching up on anything recorded while stopped.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("The runner has already been started.");
        var applicationOptions = Options.Application.LoggerFactory is null && Options.LoggerFactory is not null
            ? Options.Application with { LoggerFactory = Options.LoggerFactory }
            : Options.Application;
        foreach (var definition in Definition.Applications)
        {
            var application = Options.ApplicationFactory is { } make ? make(definition) : Create(definition);
            if (application.Name != definition.Name)
                throw new InvalidOperationException($"The factory of '{definition.Name}' made an application named '{application.Name}'.");
            if (definition.IsFollower && application is not ProcessApplication)
                throw new InvalidOperationException($"'{definition.Name}' follows {string.Join(", ", definition.Upstreams)} but is not a ProcessApplication.");
            application.Open(Persistence, applicationOptions);
            _applications.Add(definition.Name, application);
        }
        foreach (var definition in Definition.Applications)
        {
            if (!definition.IsFollower) continue;
            if (Options.Applications is { } only && !only.Contains(definition.Name)) continue;
            var follower = (ProcessApplication)_applications[definition.Name];
            var list = new List<Follower>();
            foreach (var upstream in definition.Upstreams)
            {
                var log = Options.UpstreamLogs.TryGetValue(upstream, out var remote) ? remote : _applications[upstream].NotificationLog;
                list.Add(new Follower(follower, upstream, log, Options.Processing) { ReadsAhead = ReadsAhead, DefersTrackingOnlySteps = DefersTrackingOnlySteps });
            }
            _followersByApplication[definition.Name] = list;
            // Before any step: the first one need not create them, and a row type that cannot be mapped fails the start.
            follower.PrepareRowTables();
        }
        AllFollowers = _followersByApplication.Values.SelectMany(f => f).ToArray();
        if (Options.Applications is { } named)
            foreach (var name in named)
                if (!_applications.ContainsKey(name))
                    throw new InvalidOperationException($"System '{Definition.Name}' has no application '{name}' to run.");
        if (UsesCrossProcessPrompts && Options.CrossProcessPrompts) Prompts = Persistence.CreatePromptTransport();
        foreach (var application in _applications.Values)
            application.Saved = Saved;
        await OnStartAsync(cancellationToken).ConfigureAwait(false);
        ProcessDslTelemetry.Track(this);
    }

    /// <summary>
    /// The fatal errors of followers so far (each a <see cref="ProcessingException"/> when a policy
    /// kept failing), in the order they happened; empty while every follower runs.
    /// </summary>
    public IReadOnlyList<Exception> Errors
    {
        get
        {
            lock (_errors) return _errors.ToArray();
        }
    }

    /// <summary>The running instance of an application, for commands and queries.</summary>
    /// <exception cref="InvalidOperationException">The runner is not started, or the system has no such application.</exception>
    public TApp Get<TApp>() where TApp : Application
    {
        EnsureStarted();
        foreach (var application in _applications.Values)
            if (application is TApp typed) return typed;
        throw new InvalidOperationException($"System '{Definition.Name}' has no application of type {typeof(TApp).Name}.");
    }

    /// <summary>The running instance of an application by name.</summary>
    public Application Get(string applicationName)
    {
        EnsureStarted();
        return _applications.TryGetValue(applicationName, out var application)
            ? application
            : throw new KeyNotFoundException($"System '{Definition.Name}' has no application '{applicationName}'.");
    }

    /// <summary>
    /// Waits until every follower has processed everything its upstreams have recorded.
    /// Rethrows a follower's <see cref="ProcessingException"/>.
    /// </summary>
    /// <exception cref="TimeoutException">Not idle within <paramref name="timeout"/>; the message names the followers behind.</exception>
    public async Task WaitUntilIdleAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        var deadline = DateTime.UtcNow + timeout;
        var delay = 1;
        long[]? previous = null;
        while (true)
        {
            ThrowIfFailed();
            // The followers are looked at one after the other, so one look is no snapshot: a worker
            // elsewhere may write to a log already looked at. Idle is two looks in a row with nobody
            // behind and nothing moved in between.
            var (behind, positions) = Lagging();
            if (behind.Count == 0 && IsQuiet)
            {
                if (previous is not null && previous.AsSpan().SequenceEqual(positions))
                {
                    ThrowIfFailed();
                    return;
                }
                previous = positions;
                continue;
            }
            previous = null;
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"System '{Definition.Name}' was not idle after {timeout}: {string.Join("; ", behind.DefaultIfEmpty("workers still busy"))}.");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>Stops processing cleanly. Rethrows a follower's <see cref="ProcessingException"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopCoreAsync(collect: true, cancellationToken);

    private async Task StopCoreAsync(bool collect, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            ThrowIfFailed(collect);
            return;
        }
        try
        {
            await OnStopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ProcessDslTelemetry.Untrack(this);
            foreach (var application in _applications.Values) application.Saved = null;
            Prompts?.Dispose();
            if (OwnsPersistence) Persistence.Dispose();
        }
        ThrowIfFailed(collect);
    }

    /// <summary>
    /// Stops the runner if it is running, without rethrowing errors. A follower failure nobody
    /// collected (through <see cref="WaitUntilIdleAsync"/> or <see cref="StopAsync"/>) is logged as an error.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopCoreAsync(collect: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (Interlocked.Exchange(ref _failureCollected, 1) == 0)
                Logger.LogError(ex, "Runner of system '{System}' disposed with a follower failure that was never collected", Definition.Name);
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the runner's own machinery (after applications and followers exist).</summary>
    private protected abstract Task OnStartAsync(CancellationToken cancellationToken);

    /// <summary>Stops the runner's own machinery.</summary>
    private protected abstract Task OnStopAsync(CancellationToken cancellationToken);

    /// <summary>Called after every save of an application, with its last notification id.</summary>
    private protected abstract void OnSaved(Application application, long lastNotificationId);

    private void Saved(Application application, long lastNotificationId)
    {
        OnSaved(application, lastNotificationId);
        Prompts?.Announce(application.Name, lastNotificationId);
    }

    /// <summary>Whether no step is in progress right now.</summary>
    private protected virtual bool IsQuiet => true;

    /// <summary>Records a follower's fatal error; it is rethrown by <see cref="WaitUntilIdleAsync"/> and <see cref="StopAsync"/>.</summary>
    internal void Fail(Exception error, string? application = null)
    {
        Logger.LogError(error, "A follower stopped");
        lock (_errors)
        {
            _errors.Add(error);
            var name = (error as ProcessingException)?.Application ?? application;
            if (name is not null && _failedApplications.Add(name)) Volatile.Write(ref _anyFailed, true);
        }
        _firstError.TrySetResult(error);
    }

    internal bool HasFailed(string application)
    {
        // Asked before every follower's catch-up: no lock while nothing has failed.
        if (!Volatile.Read(ref _anyFailed)) return false;
        lock (_errors) return _failedApplications.Contains(application);
    }

    private static Application Create(ApplicationDefinition definition)
    {
        Func<Application>? factory = definition.Factory;
        return factory is not null
            ? factory()
            : throw new InvalidOperationException(
                $"Application '{definition.Name}' has no parameterless constructor, so the runner cannot create it: set RunnerOptions.ApplicationFactory (AddProcessDsl does, building applications through the container).");
    }

    private void ThrowIfFailed(bool collect = true)
    {
        Exception? first;
        lock (_errors) first = _errors.FirstOrDefault();
        if (first is null) return;
        if (collect) Interlocked.Exchange(ref _failureCollected, 1);
        global::System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
    }

    private (List<string> Behind, long[] Positions) Lagging()
    {
        var behind = new List<string>();
        var positions = new List<long>();
        foreach (var follower in AllFollowers)
        {
            var position = ((ProcessApplication)_applications[follower.Application]).Store.Position(follower.Upstream);
            var batch = follower.UpstreamLog.Select(position, 1);
            positions.Add(position);
            if (batch.Position > position)
                behind.Add($"{follower.Application} at {position} following {follower.Upstream}");
        }
        return (behind, [.. positions]);
    }

    /// <summary>
    /// Writes the positions followers moved in memory past events they do not handle
    /// (<see cref="DefersTrackingOnlySteps"/>). When one cannot be written (another instance moved
    /// it, the database is away) nothing is lost: the follower forgets it, and its next step starts
    /// from the stored position and passes over those events again.
    /// </summary>
    private protected void WritePositions(IReadOnlyList<Follower> followers)
    {
        for (var i = 0; i < followers.Count; i++)
        {
            var follower = followers[i];
            if (!follower.HasDeferredPosition) continue;
            try
            {
                follower.FlushPosition();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Logger.Log(ex is TrackingConflictException ? LogLevel.Debug : LogLevel.Warning, ex,
                    "{Application} could not write its position past events it does not handle; its next step passes over them again", follower.Application);
            }
        }
    }

    private protected void EnsureStarted()
    {
        if (Volatile.Read(ref _state) == 0)
            throw new InvalidOperationException("The runner is not started: call StartAsync first.");
    }
}
