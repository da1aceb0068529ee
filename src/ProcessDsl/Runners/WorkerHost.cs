using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace ProcessDsl;

/// <summary>
/// Runs one or more applications of a system as a worker process: what the
/// <see cref="MultiprocessRunner"/> starts, and what an operator starts by hand on another machine.
/// A host program supports it with one line:
/// <code>if (WorkerHost.IsWorkerCommand(args)) return await WorkerHost.RunAsync(args, OrdersSystem.Definition);</code>
/// and then <c>dotnet Orders.dll worker --app Reservations --store postgres:Host=...</c> runs a worker.
/// </summary>
public static class WorkerHost
{
    /// <summary>The command word that starts a worker.</summary>
    public const string Command = "worker";

    /// <summary>Whether the arguments ask for a worker.</summary>
    public static bool IsWorkerCommand(string[] args) => args is [Command, ..];

    /// <summary>
    /// Runs the worker until it is stopped (Ctrl+C, SIGTERM, or end of standard input when
    /// supervised). Returns 0 after a clean stop, 3 when a follower stopped on a failing policy
    /// (the error is printed as one line on standard error), 2 for bad arguments.
    /// </summary>
    /// <remarks>Arguments: <c>worker --app NAME[,NAME] --store SPEC [--poll-ms N] [--batch-size N] [--supervised]</c>.</remarks>
    public static Task<int> RunAsync(string[] args, SystemDefinition system, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        RunAsync(args, system, new RunnerOptions { LoggerFactory = loggerFactory }, cancellationToken);

    /// <summary>
    /// Runs the worker with base settings for its runner (for example the
    /// <see cref="RunnerOptions.ApplicationFactory"/> of a host's container); the command line
    /// still decides the applications, the poll interval and the batch size.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, SystemDefinition system, RunnerOptions baseOptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(baseOptions);
        ArgumentNullException.ThrowIfNull(system);
        string? Value(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var apps = Value("--app")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var spec = Value("--store");
        if (apps is not { Length: > 0 } || spec is null)
        {
            await Console.Error.WriteLineAsync("usage: worker --app NAME[,NAME] --store SPEC [--poll-ms N] [--batch-size N]").ConfigureAwait(false);
            return 2;
        }
        foreach (var app in apps)
        {
            if (!system.Applications.Any(a => a.Name == app))
            {
                await Console.Error.WriteLineAsync($"System '{system.Name}' has no application '{app}'. It has: {string.Join(", ", system.Applications.Select(a => a.Name))}.").ConfigureAwait(false);
                return 2;
            }
        }
        var poll = int.TryParse(Value("--poll-ms"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromMilliseconds(500);
        var processing = int.TryParse(Value("--batch-size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
            ? baseOptions.Processing with { MaxBatchSize = size }
            : baseOptions.Processing;

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

        using var store = StoreSpec.Open(spec);
        var options = baseOptions with { Applications = apps, PollInterval = poll, Processing = processing };
        await using var runner = new MultiThreadedRunner(system, store, options);
        await runner.StartAsync(stop.Token).ConfigureAwait(false);
        var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
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
}
