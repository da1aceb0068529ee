using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>A tiny fake server sends wrong payloads and transient failures to <see cref="RemoteNotificationLog"/>.</summary>
public sealed class RemoteFailureTests
{
    private static readonly RemoteNotificationLogOptions Fast = new()
    {
        SectionSize = 3,
        MaxAttempts = 4,
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(20),
    };

    private static Notification Item(long id) => new(id, Guid.NewGuid(), 1, "t", "{}"u8.ToArray());

    private static string Valid(string id, string? previous, string? next, params long[] ids) =>
        Encoding.UTF8.GetString(SectionJson.Serialize("App", 3, new Section(id, ids.Select(Item).ToList(), previous, next)));

    public static TheoryData<string, string> WrongPayloads => new()
    {
        { "not json at all", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null", "not valid JSON" },
        { "{\"previousId\":null,\"nextId\":null,\"items\":[]}", "'id' is missing" },
        { "{\"id\":\"1,3\",\"nextId\":null,\"items\":[]}", "'previousId' is missing" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"items\":[]}", "'nextId' is missing" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null}", "'items' is missing" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null,\"items\":{}}", "'items' is not an array" },
        { "{\"id\":7,\"previousId\":null,\"nextId\":null,\"items\":[]}", "'id' is not a string" },
        { "{\"id\":\"x\",\"previousId\":null,\"nextId\":null,\"items\":[]}", "'id': Section id 'x' is malformed" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null,\"items\":[{\"id\":1}]}", "item 0: the field 'originatorId' is missing" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null,\"items\":[{\"id\":\"1\"}]}", "item 0: 'id' is not a whole number" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null,\"items\":[{\"id\":1,\"originatorId\":\"nope\"}]}", "'originatorId' is not a UUID" },
        { "{\"id\":\"1,3\",\"previousId\":null,\"nextId\":null,\"items\":[{\"id\":1,\"originatorId\":\"3f2504e0-4f89-11d3-9a0c-0305e82c3301\",\"originatorVersion\":1,\"topic\":\"t\",\"state\":\"!!\"}]}", "'state' is not a base64 string" },
        { Valid("1,3", null, null, 2), "has id 2, expected 1" },
        { Valid("1,3", null, null, 1, 3), "has id 3, expected 2: the id leaves a gap" },
        { Valid("1,3", null, null, 1, 2, 1), "has id 1, expected 3: the id is out of order" },
        { Valid("1,3", null, null, 1, 2, 3, 4), "holds 4 items, more than its 3 ids" },
        { Valid("1,3", null, null, 1, 9), "has id 9, expected 2: the id is outside the section" },
        { Valid("1,3", null, "4,6", 1, 2), "links to a next section but holds only 2" },
        { Valid("1,3", null, "7,9", 1, 2, 3), "has nextId '7,9', expected '4,6'" },
        { Valid("1,3", "1,3", null, 1), "has previousId '1,3', expected null" },
        { Valid("4,6", "1,3", null, 4), "it is section '4,6', not the '1,3' requested" },
    };

    [Theory]
    [MemberData(nameof(WrongPayloads))]
    public async Task A_wrong_payload_is_a_clear_error_naming_the_url(string body, string expected)
    {
        var requests = 0;
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            Interlocked.Increment(ref requests);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Fast);

        var error = await Assert.ThrowsAsync<RemoteNotificationLogException>(() => remote.GetSectionAsync("1,3"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(fake.Combine("logs/App/1,3").ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(1, requests); // a wrong payload is not retried
        Assert.Throws<RemoteNotificationLogException>(() => remote.Select(0, 10));
    }

    [Fact]
    public async Task A_section_of_another_application_is_an_error()
    {
        await using var fake = await KestrelHost.StartFakeAsync(context => context.Response.WriteAsync(Valid("1,3", null, null, 1)));
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "Other", Fast);
        var error = Assert.Throws<RemoteNotificationLogException>(() => remote["1,3"]);
        Assert.Contains("belongs to application 'App', not 'Other'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(408)]
    [InlineData(429)]
    public async Task Transient_statuses_are_retried_then_succeed(int status)
    {
        var requests = 0;
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            if (Interlocked.Increment(ref requests) <= 2)
            {
                context.Response.StatusCode = status;
                if (status == 429) context.Response.Headers.RetryAfter = "0";
                return;
            }
            await context.Response.WriteAsync(Valid("1,3", null, null, 1, 2));
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Fast);

        var batch = await remote.SelectAsync(0, 10);

        Assert.Equal(3, requests);
        Assert.Equal([1L, 2], batch.Items.Select(n => n.Id));
        Assert.Equal(2, batch.Position);
    }

    [Fact]
    public async Task Persistent_server_errors_give_up_after_the_attempts_allowed()
    {
        var requests = 0;
        await using var fake = await KestrelHost.StartFakeAsync(context =>
        {
            Interlocked.Increment(ref requests);
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Fast);

        var error = Assert.Throws<RemoteNotificationLogException>(() => remote.Select(0, 10));

        Assert.Equal(Fast.MaxAttempts, requests);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Contains("failed 4 time(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_refused_is_retried_and_then_reported()
    {
        var port = FreePort();
        using var remote = new RemoteNotificationLog(new Uri($"http://127.0.0.1:{port}/logs"), "App", Fast);

        var error = await Assert.ThrowsAsync<RemoteNotificationLogException>(() => remote.GetSectionAsync("1,3"));
        Assert.Contains($"127.0.0.1:{port}/logs/App/1,3", error.Message, StringComparison.Ordinal);
        Assert.Contains("failed 4 time(s)", error.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task A_server_that_comes_up_during_the_retries_is_read()
    {
        var port = FreePort();
        var options = Fast with { MaxAttempts = 600, InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(50) };
        using var remote = new RemoteNotificationLog(new Uri($"http://127.0.0.1:{port}/logs"), "App", options);
        var read = remote.SelectAsync(0, 10);
        await Task.Delay(200);
        Assert.False(read.IsCompleted);

        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        Microsoft.AspNetCore.Hosting.HostingAbstractionsWebHostBuilderExtensions.UseUrls(builder.WebHost, $"http://127.0.0.1:{port}");
        await using var app = builder.Build();
        Microsoft.AspNetCore.Builder.RunExtensions.Run(app, context => context.Response.WriteAsync(Valid("1,3", null, null, 1)));
        await app.StartAsync();

        var batch = await read.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, batch.Position);
        await app.StopAsync();
    }

    [Fact]
    public async Task A_slow_server_times_out_and_is_retried()
    {
        var requests = 0;
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            if (Interlocked.Increment(ref requests) == 1) await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted).ContinueWith(_ => { });
            else await context.Response.WriteAsync(Valid("1,3", null, null, 1));
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Fast with { RequestTimeout = TimeSpan.FromSeconds(1) });

        Assert.Equal(1, remote.Select(0, 10).Position);
        Assert.Equal(2, requests);
    }

    [Fact]
    public async Task Cancellation_stops_the_retries()
    {
        await using var fake = await KestrelHost.StartFakeAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var options = Fast with { MaxAttempts = 1000, InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(50) };
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", options);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => remote.SelectAsync(0, 10, cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task An_unchanged_current_section_is_revalidated_with_its_etag()
    {
        var conditional = 0;
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            const string etag = "\"v1\"";
            if (context.Request.Headers.IfNoneMatch == etag)
            {
                Interlocked.Increment(ref conditional);
                context.Response.StatusCode = 304;
                return;
            }
            context.Response.Headers.ETag = etag;
            await context.Response.WriteAsync(Valid("1,3", null, null, 1, 2));
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Fast);

        Assert.Equal(2, remote.Select(0, 10).Position);
        Assert.Equal(2, remote.Select(0, 10).Position);
        Assert.Equal([1L, 2], (await remote.GetSectionAsync("1,3")).Items.Select(n => n.Id));
        Assert.Equal(2, conditional);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Faults on the server's side are 503s (retried by clients), never 500s.</summary>
public sealed class ServerFaultTests
{
    private sealed class BrokenLog : INotificationLog
    {
        public string Application => "Broken";

        public int SectionSize => 10;

        public Section this[string sectionId] => throw new InvalidOperationException("database is down");

        public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default) => throw new InvalidOperationException("database is down");

        public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null) => throw new InvalidOperationException("database is down");

        public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("database is down");
    }

    [Theory]
    [InlineData("logs/Broken/1,10")]
    [InlineData("logs/Broken/current")]
    [InlineData("logs/Throwing/1,10")]
    public async Task A_log_that_cannot_be_read_answers_503_with_retry_after(string path)
    {
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs",
            name => name == "Throwing" ? throw new InvalidOperationException("registry is down") : new BrokenLog()));
        using var http = new HttpClient();

        using var response = await http.GetAsync(host.Combine(path));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("database is down", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_remote_log_retries_503_and_then_names_it()
    {
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", _ => new BrokenLog()));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Broken", new RemoteNotificationLogOptions
        {
            SectionSize = 10, MaxAttempts = 3, InitialBackoff = TimeSpan.Zero, MaxBackoff = TimeSpan.FromMilliseconds(10),
        });
        var error = Assert.Throws<RemoteNotificationLogException>(() => remote["1,10"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Contains("failed 3 time(s)", error.Message, StringComparison.Ordinal);
    }
}
