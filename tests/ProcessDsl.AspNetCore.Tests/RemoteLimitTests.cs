using System.Text;
using Microsoft.AspNetCore.Http;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>A server that sends too much cannot make a <see cref="RemoteNotificationLog"/> hold it in memory.</summary>
public sealed class RemoteLimitTests
{
    private static readonly RemoteNotificationLogOptions Limited = new()
    {
        SectionSize = 3,
        MaxAttempts = 2,
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(20),
        MaxResponseBytes = 64 * 1024,
    };

    /// <summary>A well-formed section whose one event is <paramref name="stateBytes"/> long.</summary>
    private static byte[] Section(int stateBytes, int sectionSize = 3) =>
        SectionJson.Serialize("App", sectionSize, new Section("1," + sectionSize, [new Notification(1, Guid.NewGuid(), 1, "t", new byte[stateBytes])], null, null));

    [Theory]
    [InlineData(true)]  // with Content-Length: refused before the body is read
    [InlineData(false)] // chunked, no length declared: refused once the limit is crossed
    public async Task A_body_over_the_limit_is_refused_clearly_and_not_retried(bool declareLength)
    {
        var requests = 0;
        var body = Section(1024 * 1024); // about 1.3 MB of JSON
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            Interlocked.Increment(ref requests);
            context.Response.ContentType = "application/json";
            if (declareLength) context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Limited);

        var error = await Assert.ThrowsAsync<RemoteNotificationLogException>(() => remote.GetSectionAsync("1,3"));

        Assert.Contains("MaxResponseBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("65536 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains(fake.Combine("logs/App/1,3").ToString(), error.Message, StringComparison.Ordinal);
        if (declareLength) Assert.Contains($"{body.Length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, requests); // too large is not a passing fault
        Assert.Throws<RemoteNotificationLogException>(() => remote.Select(0, 10)); // the synchronous path too
    }

    [Fact]
    public async Task A_body_under_the_limit_is_read()
    {
        var body = Section(16 * 1024);
        await using var fake = await KestrelHost.StartFakeAsync(context => context.Response.Body.WriteAsync(body).AsTask());
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Limited);
        var section = await remote.GetSectionAsync("1,3");
        Assert.Equal(16 * 1024, Assert.Single(section.Items).State.Length);
    }

    [Fact]
    public async Task A_declared_section_size_over_the_limit_is_refused()
    {
        var requests = 0;
        var huge = Encoding.UTF8.GetString(SectionJson.Serialize("App", 1_000_000_000, new Section("1,1000000000", [], null, null)));
        await using var fake = await KestrelHost.StartFakeAsync(async context =>
        {
            Interlocked.Increment(ref requests);
            await context.Response.WriteAsync(huge);
        });
        using var remote = new RemoteNotificationLog(fake.Combine("logs"), "App", Limited with { SectionSize = null });

        var error = Assert.Throws<RemoteNotificationLogException>(() => remote.Select(0, 10));

        Assert.Contains("declares sections of 1000000000 notifications", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxSectionSize", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, requests); // learned nothing: the size is still unknown, and nothing larger was requested
    }

    [Fact]
    public void Limits_out_of_range_are_refused_with_their_name()
    {
        var uri = new Uri("http://127.0.0.1:9/logs");
        Assert.Equal("MaxResponseBytes", Assert.Throws<ArgumentOutOfRangeException>(() => new RemoteNotificationLog(uri, "App", new RemoteNotificationLogOptions { MaxResponseBytes = 10 })).ParamName);
        Assert.Equal("MaxSectionSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RemoteNotificationLog(uri, "App", new RemoteNotificationLogOptions { MaxSectionSize = 0 })).ParamName);
        Assert.Equal("SectionSize", Assert.Throws<ArgumentOutOfRangeException>(() => new RemoteNotificationLog(uri, "App", new RemoteNotificationLogOptions { SectionSize = 20, MaxSectionSize = 10 })).ParamName);
    }
}
