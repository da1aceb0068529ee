using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;

namespace ProcessDsl.Hosting.Tests.Support;

/// <summary>The WebShop sample on real Kestrel, on a loopback port of its own, with a fresh SQLite store.</summary>
public sealed class WebShopServer : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly WebApplication _app;

    private WebShopServer(TempDirectory directory, WebApplication app, Uri address)
    {
        _directory = directory;
        _app = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<WebShopServer> StartAsync()
    {
        var directory = new TempDirectory();
        var app = global::WebShop.WebShopApp.Build([
            "--urls", "http://127.0.0.1:0",
            "--ProcessDsl:Store=sqlite:" + directory.Path,
            "--ProcessDsl:Runner=multi",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        return new WebShopServer(directory, app, new Uri(app.Urls.First(u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))));
    }

    public async Task<Guid> PlaceOrderAsync(decimal amount = 10)
    {
        using var response = await Client.PostAsJsonAsync("/orders", new { amount });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<Placed>();
        return body!.Id;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }

    private sealed record Placed(Guid Id);
}
