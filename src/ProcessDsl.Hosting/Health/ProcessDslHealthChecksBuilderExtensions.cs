using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProcessDsl;
using ProcessDsl.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the health of a ProcessDsl system to a host's health checks.</summary>
public static class ProcessDslHealthChecksBuilderExtensions
{
    /// <summary>
    /// Checks the system registered with <c>AddProcessDsl</c>: Unhealthy when a follower has
    /// stopped (the description names the application, upstream, notification id and topic),
    /// Degraded when a follower lags by <see cref="ProcessDslHealthCheckOptions.LagThreshold"/> or
    /// more for longer than <see cref="ProcessDslHealthCheckOptions.LagWindow"/>, Healthy otherwise.
    /// </summary>
    public static IHealthChecksBuilder AddProcessDsl(this IHealthChecksBuilder builder, Action<ProcessDslHealthCheckOptions>? configure = null,
        string name = "processdsl", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = new ProcessDslHealthCheckOptions();
        configure?.Invoke(options);
        if (options.LagThreshold < 1) throw new ArgumentOutOfRangeException(nameof(configure), options.LagThreshold, "LagThreshold must be at least 1.");
        if (options.LagWindow < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(configure), options.LagWindow, "LagWindow must not be negative.");
        builder.Services.TryAddSingleton(sp => new ProcessDslHealthCheck(sp.GetRequiredService<Runner>(), options));
        return builder.Add(new HealthCheckRegistration(name, sp => sp.GetRequiredService<ProcessDslHealthCheck>(), HealthStatus.Unhealthy, tags));
    }
}
