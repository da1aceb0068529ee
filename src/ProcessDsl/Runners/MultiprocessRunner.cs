using System.ComponentModel;
using System.Globalization;
using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// One OS process per following application, supervised: a worker that crashes or is killed is
/// restarted with backoff and resumes from its tracking position; a worker whose policy keeps
/// failing reports a <see cref="ProcessingException"/> that <see cref="Runner.WaitUntilIdleAsync"/>
/// and <see cref="Runner.StopAsync"/> rethrow. The parent process keeps an instance of every
/// application for commands and queries (<see cref="Runner.Get{TApp}"/>).
/// </summary>
/// <remarks>
/// The store must be shared between processes: SQLite files in one directory on one machine, or
/// PostgreSQL. The host program must run workers with one line:
/// <c>if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, MySystem.Definition);</c>
/// </remarks>
public sealed class MultiprocessRunner : Runner
{
    private readonly string _store;
    private readonly MultiprocessOptions _options;
    private readonly List<Worker> _workers = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates the runner for a store given as a spec (<c>sqlite:DIR</c> or <c>postgres:...</c>); call <see cref="Runner.StartAsync"/> next.</summary>
    /// <exception cref="ArgumentException">The store is not shareable between processes (<c>memory</c>) or not a known spec.</exception>
    public MultiprocessRunner(SystemDefinition system, string store, MultiprocessOptions? options = null)
        : base(system, OpenShared(store), (options ?? new MultiprocessOptions()).Runner)
    {
        _store = store;
        _options = options ?? new MultiprocessOptions();
        OwnsPersistence = true;
    }

    /// <summary>The worker processes: application, current process id, and how often it was restarted.</summary>
    public IReadOnlyList<(string Application, int ProcessId, int Restarts)> Workers
    {
        get
        {
            lock (_workers) return _workers.Select(w => (w.Application, w.ProcessId, w.Restarts)).ToArray();
        }
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
        foreach (var definition in Definition.Applications)
        {
            if (FollowersOf(definition.Name).Count == 0) continue;
            var worker = new Worker(this, definition.Name, executable, prefix);
            lock (_workers) _workers.Add(worker);
            worker.Start();
            worker.Supervision = Task.Run(() => worker.SuperviseAsync(_stopping.Token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    private protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Worker[] workers;
        lock (_workers) workers = [.. _workers];
        await Task.WhenAll(workers.Select(w => w.StopAsync(_options.StopTimeout))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private protected override void OnSaved(Application application, long lastNotificationId)
    {
        // The workers learn of the parent's saves through the cross-process prompts (announced by the base runner).
    }

    private (string Executable, IReadOnlyList<string> Prefix) WorkerCommand()
    {
        if (_options.WorkerExecutable is { } executable) return (executable, _options.WorkerArguments ?? []);
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which program to start as a worker: set MultiprocessOptions.WorkerExecutable.");
        var entry = Assembly.GetEntryAssembly()?.Location;
        var isDotnetHost = Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        if (isDotnetHost && string.IsNullOrEmpty(entry))
            throw new InvalidOperationException("Cannot tell which assembly to run as a worker: set MultiprocessOptions.WorkerExecutable and WorkerArguments.");
        return isDotnetHost ? (process, [entry!]) : (process, []);
    }

    /// <summary>One supervised worker process.</summary>
    private sealed class Worker(MultiprocessRunner runner, string application, string executable, IReadOnlyList<string> prefix)
    {
        private Process? _process;
        private volatile bool _stopping;

        public string Application { get; } = application;

        public int ProcessId { get; private set; }

        public int Restarts { get; private set; }

        public Task? Supervision { get; set; }

        private ProcessingException? ReportedError { get; set; }

        public void Start()
        {
            var info = new ProcessStartInfo(executable)
            {
                RedirectStandardInput = true,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var arg in prefix) info.ArgumentList.Add(arg);
            if (runner._options.Environment is { } environment)
                foreach (var (name, value) in environment) info.Environment[name] = value;
            foreach (var arg in new[] { WorkerHost.Command, "--app", Application, "--store", runner._store, "--supervised",
                         "--poll-ms", ((int)runner.Options.PollInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                         "--batch-size", runner.Options.Processing.MaxBatchSize.ToString(CultureInfo.InvariantCulture) })
                info.ArgumentList.Add(arg);
            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                if (WorkerError.Parse(e.Data) is { } error) ReportedError = error;
                else runner.Logger.LogInformation("[{Application} worker] {Line}", Application, e.Data);
            };
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null) runner.Logger.LogInformation("[{Application} worker] {Line}", Application, e.Data);
            };
            process.Start();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            _process = process;
            ProcessId = process.Id;
        }

        public async Task SuperviseAsync(CancellationToken stopping)
        {
            var backoff = runner._options.RestartBackoff;
            while (true)
            {
                var process = _process!;
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                process.WaitForExit(); // flush the redirected output
                var code = process.ExitCode;
                process.Dispose();
                if (_stopping || stopping.IsCancellationRequested) return;
                if (code == WorkerError.ExitCode && ReportedError is { } error)
                {
                    runner.Fail(error); // deterministic: restarting would fail again
                    return;
                }
                runner.Logger.LogWarning("Worker of {Application} exited with code {Code}; restarting in {Delay}", Application, code, backoff);
                try
                {
                    await Task.Delay(backoff, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, runner._options.MaxRestartBackoff.Ticks));
                Restarts++;
                try
                {
                    Start();
                }
                catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
                {
                    runner.Fail(new InvalidOperationException($"Could not restart the worker of '{Application}': {ex.Message}", ex));
                    return;
                }
            }
        }

        public async Task StopAsync(TimeSpan timeout)
        {
            _stopping = true;
            var process = _process;
            if (process is null) return;
            try
            {
                if (!process.HasExited) process.StandardInput.Close(); // the worker stops cleanly on end of input
                using var wait = new CancellationTokenSource(timeout);
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                runner.Logger.LogWarning("Worker of {Application} did not stop within {Timeout}; killing it", Application, timeout);
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited and disposed by the supervisor.
            }
            if (Supervision is { } supervision) await supervision.ConfigureAwait(false);
            if (ReportedError is { } error && !runner.HasFailed(Application)) runner.Fail(error);
        }
    }
}
