using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// Runs one or more applications of a system as a worker process: what the
/// <see cref="MultiprocessRunner"/> starts, and what an operator starts by hand on another machine.
/// A host program supports it with one line:
/// <code>if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, OrdersSystem.Definition);</code>
/// and then <c>PROCESSDSL_STORE='postgres:Host=...' dotnet Orders.dll worker --app Reservations</c> runs a worker.
/// </summary>
public static class WorkerHost
{
    /// <summary>The command word that starts a worker.</summary>
    public const string Command = "worker";

    /// <summary>
    /// The environment variable a worker reads its store spec from when <c>--store</c> is not given:
    /// a spec with a password belongs here, not on the command line, which every local user can read.
    /// </summary>
    public const string StoreVariable = "PROCESSDSL_STORE";

    /// <summary>The exit code for bad arguments.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The exit code of a worker whose follower stopped on a failing policy.</summary>
    public const int ProcessingFailedExitCode = WorkerError.ExitCode;

    /// <summary>The exit code of a worker that could not start (the store could not be opened, say).</summary>
    public const int StartFailedExitCode = 4;

    /// <summary>Whether the arguments ask for a worker.</summary>
    public static bool IsWorkerCommand(string[] args) => args is [Command, ..];

    /// <summary>
    /// Runs the worker until it is stopped (Ctrl+C, SIGTERM, or end of standard input when
    /// supervised). Returns 0 after a clean stop, 3 when a follower stopped on a failing policy
    /// (the error is printed as one line on standard error), 4 when it could not start (one line
    /// saying why), 2 for bad arguments.
    /// </summary>
    /// <remarks>
    /// Arguments: <c>worker --app NAME[,NAME] [--store SPEC] [--poll-ms N] [--batch-size N] [--supervised]</c>;
    /// without <c>--store</c> the spec is read from <see cref="StoreVariable"/>. A worker started by
    /// the <see cref="MultiprocessRunner"/> gets its store and its runner's options through its environment.
    /// </remarks>
    public static Task<int> RunAsync(string[] args, SystemDefinition system, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        RunAsync(args, system, new RunnerOptions { LoggerFactory = loggerFactory }, cancellationToken);

    /// <summary>
    /// Runs the worker with base settings for its runner: its <see cref="RunnerOptions.ApplicationFactory"/>
    /// (a host's container) and <see cref="RunnerOptions.LoggerFactory"/>; the rest comes from the
    /// environment the supervisor set and the command line.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, SystemDefinition system, RunnerOptions baseOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(baseOptions);
        ArgumentNullException.ThrowIfNull(system);
        var loggerFactory = baseOptions.LoggerFactory;
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var apps = Value("--app")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var spec = Value("--store") ?? NonEmpty(WorkerSettings.StoreVariable) ?? NonEmpty(StoreVariable);
        if (apps is not { Length: > 0 } || spec is null)
        {
            await Console.Error.WriteLineAsync($"usage: worker --app NAME[,NAME] [--store SPEC] [--poll-ms N] [--batch-size N] (without --store, the spec is read from {StoreVariable})").ConfigureAwait(false);
            return UsageExitCode;
        }
        foreach (var app in apps)
        {
            if (!system.Applications.Any(a => a.Name == app))
            {
                await Console.Error.WriteLineAsync($"System '{system.Name}' has no application '{app}'. It has: {string.Join(", ", system.Applications.Select(a => a.Name))}.").ConfigureAwait(false);
                return UsageExitCode;
            }
        }
        WorkerSettings settings;
        try
        {
            settings = NonEmpty(WorkerSettings.SettingsVariable) is { } json ? WorkerSettings.FromJson(json) : new WorkerSettings();
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return UsageExitCode;
        }
        if (int.TryParse(Value("--poll-ms"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            settings = settings with { PollInterval = TimeSpan.FromMilliseconds(ms) };
        if (int.TryParse(Value("--batch-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0)
            settings = settings with { Processing = settings.Processing with { MaxBatchSize = size } };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        if (args.Contains("--supervised"))
        {
            // The parent closes our standard input to stop us, and so does its death.
            _ = Task.Run(async () =>
            {
                var input = Console.OpenStandardInput();
                var buffer = new byte[64];
                while (await input.ReadAsync(buffer).ConfigureAwait(false) > 0)
                {
                }
                stop.Cancel();
            }, CancellationToken.None);
        }

        Persistence store;
        try
        {
            store = StoreSpec.Open(spec);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(StoreSpec.Message(ex)).ConfigureAwait(false);
            return UsageExitCode;
        }
        var opened = new List<IDisposable>();
        MultiThreadedRunner? runner = null;
        try
        {
            try
            {
                runner = new MultiThreadedRunner(system, store, settings.ToRunnerOptions(apps, opened, loggerFactory) with { ApplicationFactory = baseOptions.ApplicationFactory });
                await runner.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // One line, no stack trace: the supervisor shows it, and an operator reads it.
                await Console.Error.WriteLineAsync($"The worker of {string.Join(", ", apps)} could not start: {ex.GetType().Name}: {FirstLine(ex.Message)}").ConfigureAwait(false);
                return StartFailedExitCode;
            }
            await Console.Out.WriteLineAsync(WorkerSettings.ReadyLine).ConfigureAwait(false);
            await Console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return await RunUntilStoppedAsync(runner, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            if (runner is not null) await runner.DisposeAsync().ConfigureAwait(false);
            store.Dispose();
            foreach (var log in opened) log.Dispose();
        }
    }

    private static async Task<int> RunUntilStoppedAsync(MultiThreadedRunner runner, CancellationToken stop)
    {
        var stopped = Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
        var outcome = await Task.WhenAny(stopped, runner.FirstError).ConfigureAwait(false);
        if (outcome == stopped)
        {
            try
            {
                await runner.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return 0;
            }
            catch (ProcessingException error)
            {
                await Console.Error.WriteLineAsync(WorkerError.Format(error)).ConfigureAwait(false);
                return WorkerError.ExitCode;
            }
        }
        var failure = await runner.FirstError.ConfigureAwait(false);
        if (failure is ProcessingException processingError)
        {
            await Console.Error.WriteLineAsync(WorkerError.Format(processingError)).ConfigureAwait(false);
            return WorkerError.ExitCode;
        }
        await Console.Error.WriteLineAsync(failure.ToString()).ConfigureAwait(false);
        return 1;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static string? NonEmpty(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
