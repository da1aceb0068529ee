using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace ProcessDsl.AspNetCore.Tests.Support;

/// <summary>
/// One Kestrel server for a test class: a <see cref="Source"/> application with
/// <see cref="Count"/> notifications, served at <c>/logs</c> (open) and <c>/secure</c> (token).
/// </summary>
public sealed class LogServerFixture : IAsyncLifetime
{
    public const int Count = 10_000;
    public const string Token = "s3cret-token";

    private Persistence? _persistence;
    private KestrelHost? _host;

    public Source Source { get; private set; } = null!;

    public KestrelHost Host => _host!;

    public Uri Logs => Host.Combine("logs");

    public Uri Secure => Host.Combine("secure");

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        _persistence = Persistence.InMemory();
        Source = (Source)new Source().Open(_persistence);
        Source.AddItems(Count);
        _host = await KestrelHost.StartAsync(app =>
        {
            app.MapNotificationLogs("/logs", [Source]);
            app.MapNotificationLogs("/secure", [Source], new NotificationLogEndpointOptions { BearerToken = Token });
        }, services => services.AddNotificationLogAuthentication());
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_host is not null) await _host.DisposeAsync();
        _persistence?.Dispose();
    }
}
