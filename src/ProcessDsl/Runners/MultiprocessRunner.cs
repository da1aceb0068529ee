using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace ProcessDsl;

/// <summary>
/// One OS process per following application, supervised: a worker that crashes or is killed is
/// restarted with backoff and resumes from its tracking position; a worker whose policy keeps
/// failing reports a <see cref="ProcessingException"/>, and one that cannot start
/// <see cref="MultiprocessOptions.MaxFailedStarts"/> times in a row a <see cref="WorkerStartException"/>,
/// that <see cref="Runner.WaitUntilIdleAsync"/> and <see cref="Runner.StopAsync"/> rethrow. The
/// parent process keeps an instance of every application for commands and queries (<see cref="Runner.Get{TApp}"/>).
/// </summary>
/// <remarks>
/// The store must be shared between processes (<see cref="Persistence.ShareableSpec"/>): SQLite files
/// in one directory on one machine, or PostgreSQL. Workers get the store and the runner's options
/// (processing, poll and step intervals, section size, remote upstream logs) through their
/// environment, never their command line. The host program must run workers with one line:
/// <c>if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, MySystem.Definition);</c>
/// </remarks>
public sealed class MultiprocessRunner : Runner
{
    private readonly string _spec;
    private readonly string _settings;
    private readonly MultiprocessOptions _options;
    private readonly List<WorkerProcess> _workers = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates the runner on a store that processes share; call <see cref="Runner.StartAsync"/> next. The caller disposes the store after the runner.</summary>
    /// <exception cref="ArgumentException">
    /// The store cannot be shared between processes (its <see cref="Persistence.ShareableSpec"/> is null, as for
    /// <see cref="Persistence.InMemory"/>), or an upstream log of the options is one a worker cannot open.
    /// </exception>
    public MultiprocessRunner(SystemDefinition system, Persistence persistence, MultiprocessOptions? options = null)
        : base(system, persistence, (options ?? new MultiprocessOptions()).Runner)
    {
        _spec = persistence.ShareableSpec ?? throw new ArgumentException(
            $"The multiprocess runner needs a store that processes share, and {persistence.Description} is not one (an in-memory store is seen by this process only): use Persistence.Sqlite(directory) or a PostgreSQL store.",
            nameof(persistence));
        _options = options ?? new MultiprocessOptions();
        _options.Validate();
        _settings = WorkerSettings.From(Options).ToJson();
    }

    /// <summary>Creates the runner for a store given as a spec (<c>sqlite:DIR</c> or <c>postgres:...</c>), which it opens and disposes itself.</summary>
    /// <exception cref="ArgumentException">The store is not shareable between processes (<c>memory</c>) or not a known spec.</exception>
    public MultiprocessRunner(SystemDefinition system, string store, MultiprocessOptions? options = null)
        : this(system, OpenShared(store), options)
    {
        OwnsPersistence = true;
    }

    /// <summary>The worker processes: application, current (or, between restarts, last) process id, and how often it was restarted.</summary>
    public IReadOnlyList<(string Application, int ProcessId, int Restarts)> Workers
    {
        get
        {
            lock (_workers) return _workers.Select(w => (w.Application, w.ProcessId, w.Restarts)).ToArray();
        }
    }

    /// <summary>
    /// Waits until every worker process has started: opened the store and started its followers.
    /// <see cref="Runner.StartAsync"/> returns once the processes are launched, and the workers then
    /// start up (the runtime, the store, their first steps) while commands are already taken; await
    /// this before work that should not wait on that, or whose timing should not include it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The runner is not started.</exception>
    /// <exception cref="WorkerStartException">A worker could not be started (<see cref="MultiprocessOptions.MaxFailedStarts"/> times in a row).</exception>
    /// <exception cref="ProcessingException">A worker failed for good before all had started.</exception>
    /// <exception cref="TimeoutException">Not all had started within <paramref name="timeout"/>; the message names those that had not.</exception>
    public async Task WaitUntilWorkersStartedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        WorkerProcess[] workers;
        lock (_workers) workers = [.. _workers];
        var all = Task.WhenAll(workers.Select(w => w.Started));
        Task done;
        try
        {
            done = await Task.WhenAny(all, FirstError).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var waiting = workers.Where(w => !w.Started.IsCompleted).Select(w => w.Application);
            throw new TimeoutException($"The workers of {string.Join(", ", waiting)} had not started after {timeout}.");
        }
        if (done != all) ExceptionDispatchInfo.Throw(await FirstError.ConfigureAwait(false));
    }

    private protected override bool UsesCrossProcessPrompts => true;

    private static Persistence OpenShared(string store)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(store);
        if (store == "memory")
            throw new ArgumentException("The multiprocess runner needs a store that processes share: use sqlite:DIR or postgres:CONNECTION-STRING, not memory.", nameof(store));
        return StoreSpec.Open(store);
    }

    private protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        var (executable, prefix) = WorkerCommand();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_options.Environment is { } extra)
            foreach (var (name, value) in extra) environment[name] = value;
        WorkerRuntime.Configure(environment);
        environment[WorkerSettings.StoreVariable] = _spec;
        environment[WorkerSettings.SettingsVariable] = _settings;
        foreach (var definition in Definition.Applications)
        {
            if (FollowersOf(definition.Name).Count == 0) continue;
            var worker = new WorkerProcess(this, _options, definition.Name, executable, prefix, environment);
            lock (_workers) _workers.Add(worker);
            worker.Start(_stopping.Token);
        }
        return Task.CompletedTask;
    }

    private protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        WorkerProcess[] workers;
        lock (_workers) workers = [.. _workers];
        await Task.WhenAll(workers.Select(w => w.StopAsync(_options.StopTimeout))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private protected override void OnSaved(Application application, long lastNotificationId)
    {
        // The workers learn of the parent's saves through the cross-process prompts (announced by the base runner).
    }

    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "The assembly's location is used only under the dotnet host; a single-file or Native AOT program is started as its own executable.")]
    private (string Executable, IReadOnlyList<string> Prefix) WorkerCommand()
    {
        if (_options.WorkerExecutable is { } executable) return (executable, _options.WorkerArguments ?? []);
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which program to start as a worker: set MultiprocessOptions.WorkerExecutable.");
        // Under "dotnet app.dll" the program is an assembly file; a single-file or Native AOT program is
        // its own executable (and has no assembly location), so it is started as it is.
        var entry = Assembly.GetEntryAssembly()?.Location;
        var isDotnetHost = Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        if (isDotnetHost && string.IsNullOrEmpty(entry))
            throw new InvalidOperationException("Cannot tell which assembly to run as a worker: set MultiprocessOptions.WorkerExecutable and WorkerArguments.");
        return isDotnetHost ? (process, [entry!]) : (process, []);
    }
}
