using LogServerSample;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The LogServer sample's <c>serve</c> command: a store's logs over HTTP at a given address.</summary>
public sealed class LogServerCommandTests
{
    [Fact]
    public async Task Serve_exposes_the_named_applications_of_a_sqlite_store()
    {
        var directory = Path.Combine(Path.GetTempPath(), "processdsl-logserver-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var writer = Persistence.Sqlite(directory))
                ((Source)new Source().Open(writer)).AddItems(42);

            using var store = StoreSpec.Open("sqlite:" + directory);
            var (app, addresses) = await LogServerHost.StartAsync(new LogServerOptions(store, ["Source", "Other"], "http://127.0.0.1:0", "/logs", Token: "t0ken"));
            await using (app)
            {
                var address = Assert.Single(addresses);
                Assert.Equal("127.0.0.1", address.Host);
                Assert.EndsWith("/logs/", address.AbsolutePath, StringComparison.Ordinal);

                using var remote = new RemoteNotificationLog(address, "Source", new RemoteNotificationLogOptions { BearerToken = "t0ken" });
                Assert.Equal(42, new NotificationLogReader(remote).Read().Count);
                using var other = new RemoteNotificationLog(address, "Other", new RemoteNotificationLogOptions { BearerToken = "t0ken" });
                Assert.Empty(other["current"].Items);

                using var http = new HttpClient();
                using var anonymous = await http.GetAsync(new Uri(address, "Source/current"));
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
                await app.StopAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Bench_measures_local_and_http_readers_in_one_run()
    {
        using var output = new StringWriter();
        var results = await Bench.RunAsync(new BenchOptions(500, [10], 1, "memory"), output);

        Assert.Equal(["local", "http, server cache off", "http-async, server cache off", "http, cold server cache", "http-async, cold server cache", "http", "http-async"], results.Select(r => r.Reader));
        Assert.All(results, r => Assert.Equal(500, r.Notifications));
        Assert.Contains("| http | 10 | 500 |", output.ToString(), StringComparison.Ordinal);
    }
}
