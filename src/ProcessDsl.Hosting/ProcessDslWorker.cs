using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProcessDsl.Hosting;

namespace ProcessDsl;

/// <summary>
/// The worker entry point of a hosted system run by the <see cref="MultiprocessRunner"/>: the host
/// program builds its container as usual, then hands worker commands to this before running:
/// <code>
/// var app = builder.Build();
/// if (WorkerHost.IsWorkerCommand(args)) return await ProcessDslWorker.RunAsync(args, app.Services);
/// </code>
/// so each worker creates its applications through the same registrations as the host.
/// </summary>
public static class ProcessDslWorker
{
    /// <summary>Runs the worker a <c>worker ...</c> command line asks for (see <see cref="WorkerHost"/>); returns its exit code.</summary>
    /// <exception cref="InvalidOperationException">The container has no system: <c>AddProcessDsl</c> was not called.</exception>
    public static Task<int> RunAsync(string[] args, IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(services);
        var registration = services.GetService<ProcessDslRegistration>() ?? throw new InvalidOperationException(
            "The container has no ProcessDsl system: call services.AddProcessDsl(...) before building it.");
        var options = registration.RunnerOptions(services);
        if (options.LoggerFactory is { } loggers)
            HostingLog.WorkerStarting(loggers.CreateLogger(typeof(ProcessDslWorker).FullName!), registration.System.Name, string.Join(' ', args));
        return WorkerHost.RunAsync(args, registration.System, options, cancellationToken);
    }
}
