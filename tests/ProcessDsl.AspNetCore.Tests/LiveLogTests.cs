using System.Net;
using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>A log that grows while it is served: the current section revalidates.</summary>
public sealed class LiveLogTests
{
    [Fact]
    public async Task Current_section_is_revalidated_and_its_etag_changes_as_it_fills()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source]));
        using var http = new HttpClient();
        var uri = host.Combine("logs/Source/1,10");

        using var empty = await http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.True(empty.Headers.CacheControl!.NoCache);

        source.AddItem(1);
        using var one = await http.GetAsync(uri);
        Assert.True(one.Headers.CacheControl!.NoCache);
        Assert.NotEqual(empty.Headers.ETag, one.Headers.ETag);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, uri);
        revalidate.Headers.IfNoneMatch.Add(one.Headers.ETag!);
        using var notModified = await http.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.True(notModified.Headers.CacheControl!.NoCache);

        source.AddItem(2);
        using var stale = new HttpRequestMessage(HttpMethod.Get, uri);
        stale.Headers.IfNoneMatch.Add(one.Headers.ETag!);
        using var modified = await http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);

        source.AddItems(8);
        using var full = await http.GetAsync(uri);
        Assert.True(full.Headers.CacheControl!.Public);
        Assert.Contains(full.Headers.CacheControl.Extensions, e => e.Name == "immutable");
    }

    [Fact]
    public async Task Remote_reader_resumes_as_the_log_grows()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source]));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source");
        var reader = new NotificationLogReader(remote);

        Assert.Empty(reader.Read());
        Assert.Equal(10, remote.SectionSize);
        source.AddItems(3);
        Assert.Equal([1L, 2, 3], reader.Read().Select(n => n.Id));
        Assert.Empty(reader.Read());
        source.AddItems(25);
        Assert.Equal(Enumerable.Range(4, 25).Select(i => (long)i), reader.Read().Select(n => n.Id));
        Assert.Equal(28, reader.Position);

        // A remote log and a reader that persisted its position resume from it.
        var resumed = new NotificationLogReader(remote).Seek(20);
        Assert.Equal(Enumerable.Range(21, 8).Select(i => (long)i), resumed.Read().Select(n => n.Id));
    }

    [Fact]
    public async Task Served_with_another_section_size_the_remote_log_learns_it()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence, new ApplicationOptions { SectionSize = 100 });
        source.AddItems(250);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source]));

        using var learned = new RemoteNotificationLog(host.Combine("logs"), "Source");
        Assert.Equal(100, learned.SectionSize);
        Assert.Equal("101,200", learned["150,160"].Id);
        Assert.Equal(250, new NotificationLogReader(learned).Read().Count);

        using var wrong = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { SectionSize = 10 });
        var error = Assert.Throws<RemoteNotificationLogException>(() => wrong["1,10"]);
        Assert.Contains("sections hold 100 notifications, but this log expects 10", error.Message, StringComparison.Ordinal);
    }
}
