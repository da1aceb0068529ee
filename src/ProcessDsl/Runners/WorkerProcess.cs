using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// One supervised worker process of the <see cref="MultiprocessRunner"/>: started, watched,
/// restarted with backoff when it dies, reported when it fails for good.
/// </summary>
/// <remarks>
/// A worker counts as started once it writes <see cref="WorkerSettings.ReadyLine"/>. One that
/// exits before that <see cref="MultiprocessOptions.MaxFailedStarts"/> times in a row is reported
/// as a <see cref="WorkerStartException"/> with its error output, not restarted again.
/// </remarks>
internal sealed class WorkerProcess(
    Runner runner, MultiprocessOptions options, string application, string executable,
    IReadOnlyList<string> prefix, IReadOnlyDictionary<string, string> environment)
{
    private const int KeptErrorLines = 20;
    private const int KilledExitCode = 137;
    private readonly Lock _gate = new();
    private readonly Queue<string> _errorLines = new();
    private readonly RetryPolicy _restarts = new() { InitialDelay = options.RestartBackoff, MaxDelay = options.MaxRestartBackoff };
    private Process? _process;
    private bool _stopping;
    private volatile bool _ready;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ProcessingException? _reportedError;
    private Task _supervision = Task.CompletedTask;

    public string Application { get; } = application;

    public int ProcessId { get; private set; }

    public int Restarts { get; private set; }

    /// <summary>Completes when a process of this worker first writes its ready line (it has opened the store and started its followers).</summary>
    public Task Started => _started.Task;

    /// <summary>Starts the first process (throwing if the program cannot be started at all) and supervises it.</summary>
    public void Start(CancellationToken stopping)
    {
        Process process;
        lock (_gate) process = _process = Launch();
        _supervision = Task.Run(() => SuperviseAsync(process, stopping), CancellationToken.None);
    }

    /// <summary>Stops the worker: closes its standard input, kills it after <paramref name="timeout"/>, and ends supervision.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        Process? process;
        lock (_gate)
        {
            _stopping = true;
            process = _process;
        }
        if (process is not null)
        {
            try
            {
                process.StandardInput.Close(); // the worker stops cleanly on end of input
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                // It exited already.
            }
        }
        try
        {
            await _supervision.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            runner.Logger.LogWarning("Worker of {Application} did not stop within {Timeout}; killing it", Application, timeout);
            lock (_gate)
            {
                try
                {
                    _process?.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Exited meanwhile.
                }
            }
            await _supervision.ConfigureAwait(false);
        }
        if (_reportedError is { } error && !runner.HasFailed(Application)) runner.Fail(error);
    }

    private Process Launch()
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in prefix) info.ArgumentList.Add(arg);
        // The store spec (maybe with a password) and the settings travel in the environment:
        // the command line is readable by every local user.
        foreach (var (name, value) in environment) info.Environment[name] = value;
        foreach (var arg in new[] { WorkerHost.Command, "--app", Application, "--supervised" })
            info.ArgumentList.Add(arg);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _ready = false;
        lock (_errorLines) _errorLines.Clear();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (WorkerError.Parse(e.Data) is { } error)
            {
                _reportedError = error;
                return;
            }
            lock (_errorLines)
            {
                _errorLines.Enqueue(e.Data);
                if (_errorLines.Count > KeptErrorLines) _errorLines.Dequeue();
            }
            runner.Logger.LogInformation("[{Application} worker] {Line}", Application, e.Data);
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data == WorkerSettings.ReadyLine)
            {
                _ready = true;
                _started.TrySetResult();
            }
            else runner.Logger.LogInformation("[{Application} worker] {Line}", Application, e.Data);
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        ProcessId = process.Id;
        return process;
    }

    private async Task SuperviseAsync(Process process, CancellationToken stopping)
    {
        var failedStarts = 0;
        var restartsInARow = 0;
        while (true)
        {
            var started = Stopwatch.StartNew();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            process.WaitForExit(); // flush the redirected output
            var code = process.ExitCode;
            lock (_gate)
            {
                _process = null;
                process.Dispose();
                if (_stopping) return;
            }
            if (code == WorkerError.ExitCode && _reportedError is { } error)
            {
                runner.Fail(error); // deterministic: restarting would fail again
                return;
            }
            // Killed from outside (SIGKILL: 128 + 9) is a crash to recover from, not a failure to start.
            failedStarts = _ready || code == KilledExitCode ? 0 : failedStarts + 1;
            if (failedStarts >= options.MaxFailedStarts)
            {
                string[] lines;
                lock (_errorLines) lines = [.. _errorLines];
                runner.Fail(new WorkerStartException(Application, failedStarts, code, string.Join(Environment.NewLine, lines)));
                return;
            }
            // A worker that ran for a while was healthy: its next restart waits the shortest delay again.
            restartsInARow = _ready && started.Elapsed > options.MaxRestartBackoff ? 1 : restartsInARow + 1;
            var delay = _restarts.Delay(restartsInARow);
            runner.Logger.LogWarning("Worker of {Application} exited with code {Code}{Phase}; restarting in {Delay}",
                Application, code, _ready ? "" : " before it started", delay);
            try
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate)
            {
                // Stopped during the backoff: start nothing that nobody would stop.
                if (_stopping || stopping.IsCancellationRequested) return;
                try
                {
                    process = _process = Launch();
                }
                catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
                {
                    runner.Fail(new InvalidOperationException($"Could not restart the worker of '{Application}': {ex.Message}", ex));
                    return;
                }
                Restarts++;
            }
        }
    }
}
