using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ProcessDsl.Hosting;

/// <summary>Starts the runner with the host and stops it, bounded by <see cref="ProcessDslOptions.StopTimeout"/>, with it.</summary>
internal sealed class ProcessDslHostedService(Runner runner, ProcessDslRegistration registration, ILogger<ProcessDslHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        HostingLog.RunnerStarting(logger, registration.System.Name, runner.GetType().Name, registration.DescribeStore());
        await runner.StartAsync(cancellationToken).ConfigureAwait(false);
        HostingLog.RunnerStarted(logger, registration.System.Name, registration.System.Applications.Count, registration.System.Followers.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var timeout = registration.Options.StopTimeout;
        HostingLog.RunnerStopping(logger, registration.System.Name, timeout);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await runner.StopAsync(bounded.Token).ConfigureAwait(false);
            HostingLog.RunnerStopped(logger, registration.System.Name);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested)
        {
            HostingLog.RunnerStopTimedOut(logger, registration.System.Name, timeout);
        }
        catch (Exception ex) when (ex is ProcessingException || runner.Errors.Contains(ex))
        {
            // Already reported while running (logs, health); stopping the host goes on.
            HostingLog.FollowerFailed(logger, ex, registration.System.Name);
        }
    }
}
