using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProcessDsl;
using ProcessDsl.AspNetCore;

namespace LogServerSample;

/// <summary>What the <c>serve</c> command serves, and where.</summary>
/// <param name="Persistence">The store the applications write to.</param>
/// <param name="Applications">The application names whose logs to serve.</param>
/// <param name="Urls">Where to listen, e.g. <c>http://127.0.0.1:5080</c> (port 0 picks a free port).</param>
/// <param name="BasePath">The path prefix of the logs, e.g. <c>/logs</c>.</param>
/// <param name="Token">A bearer token every request must carry, or null.</param>
/// <param name="SectionSize">Notifications per section.</param>
public sealed record LogServerOptions(Persistence Persistence, IReadOnlyList<string> Applications, string Urls, string BasePath = "/logs", string? Token = null, int SectionSize = NotificationLog.DefaultSectionSize);

/// <summary>A Kestrel server that serves the notification logs of a store's applications.</summary>
public static class LogServerHost
{
    /// <summary>Builds and starts the server; returns it with the addresses it listens on.</summary>
    public static async Task<(WebApplication App, IReadOnlyList<Uri> Addresses)> StartAsync(LogServerOptions options, bool logRequests = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        if (options.Token is not null) builder.Services.AddNotificationLogAuthentication();
        builder.Logging.ClearProviders();
        if (logRequests) builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
        else builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapNotificationLogs(options.BasePath, options.Persistence, options.Applications,
            new NotificationLogEndpointOptions { BearerToken = options.Token, SectionSize = options.SectionSize });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.TrimEnd('/') + options.BasePath.TrimEnd('/') + "/"))
            .ToList();
        return (app, addresses);
    }
}
