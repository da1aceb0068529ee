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

public sealed class ReadAheadTests
{
    [Fact]
    public async Task Read_ahead_never_serves_a_section_that_was_still_filling()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(15);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source]));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { ReadAhead = 4 });

        Assert.True(remote["1,10"].IsArchived); // starts reading "11,20" (5 items) ahead
        await Task.Delay(200);
        source.AddItems(3);

        var section = remote["11,20"];
        Assert.Equal(Enumerable.Range(11, 8).Select(i => (long)i), section.Items.Select(n => n.Id));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    public async Task Readers_with_any_read_ahead_read_the_same(int readAhead)
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(1_234);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source]));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { ReadAhead = readAhead });

        var reader = new NotificationLogReader(remote).Seek(17);
        Assert.Equal(Enumerable.Range(18, 1_234 - 17).Select(i => (long)i), reader.Read().Select(n => n.Id));
        // Jumping backwards and forwards still reads what is asked for.
        Assert.Equal(Enumerable.Range(501, 10).Select(i => (long)i), remote["501,510"].Items.Select(n => n.Id));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), remote["1,10"].Items.Select(n => n.Id));
        Assert.Equal(1_234, (await remote.SelectAsync(0, 5_000)).Position);
    }
}

public sealed class ServerCacheTests
{
    /// <summary>Counts the reads of the log underneath (sections and ranges).</summary>
    private sealed class CountingLog(INotificationLog inner) : INotificationLog
    {
        public int Reads;

        public string Application => inner.Application;

        public int SectionSize => inner.SectionSize;

        public Section this[string sectionId] => inner[sectionId];

        public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Reads);
            return inner.GetSectionAsync(sectionId, cancellationToken);
        }

        public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null) => inner.Select(after, limit, topics);

        public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Reads);
            return inner.SelectAsync(after, limit, topics, cancellationToken);
        }
    }

    [Theory]
    [InlineData(1 << 20, 1)]
    [InlineData(0, 3)]
    public async Task Archived_sections_are_read_once_from_the_store_when_cached(long cacheBytes, int expectedReads)
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(15);
        var counting = new CountingLog(source.NotificationLog);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", name => name == "Source" ? counting : null,
            new NotificationLogEndpointOptions { ArchivedSectionCacheBytes = cacheBytes }));
        using var http = new HttpClient();

        var bodies = new List<string>();
        foreach (var id in new[] { "1,10", "3,7", "1,10" })
        {
            using var response = await http.GetAsync(host.Combine("logs/Source/" + id));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.CacheControl!.Public);
            bodies.Add(await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(expectedReads, counting.Reads);
        Assert.Single(bodies.Distinct());

        // The section still filling, and current, are read every time (once each), so they show new items.
        counting.Reads = 0;
        for (var i = 0; i < 2; i++)
        {
            source.AddItem(100 + i);
            using var filling = await http.GetAsync(host.Combine("logs/Source/11,20"));
            Assert.Contains($"\"id\":{16 + i},", await filling.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var current = await http.GetAsync(host.Combine("logs/Source/current"));
            Assert.Contains($"\"id\":{16 + i},", await current.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(4, counting.Reads);
    }

    [Fact]
    public async Task A_reader_going_in_order_costs_a_read_per_block_and_polling_the_end_costs_one_read()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(1_000);
        var counting = new CountingLog(source.NotificationLog);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", name => name == "Source" ? counting : null));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { SectionSize = 10 });

        Assert.Equal(Enumerable.Range(1, 1_000).Select(i => (long)i), new NotificationLogReader(remote).Read().Select(n => n.Id));
        // 100 sections in blocks of 16: 7 block reads, plus a few for the sections past the end
        // and for requests that race their block's read; far fewer than one per section.
        Assert.InRange(counting.Reads, 7, 30);

        // Let any read-ahead still running finish (bounded).
        var deadline = DateTime.UtcNow.AddSeconds(5);
        for (var stable = 0; stable < 4 && DateTime.UtcNow < deadline;)
        {
            var before = Volatile.Read(ref counting.Reads);
            await Task.Delay(50);
            stable = Volatile.Read(ref counting.Reads) == before ? stable + 1 : 0;
        }
        counting.Reads = 0;
        for (var i = 0; i < 5; i++) Assert.Equal(1_000, remote.Select(1_000, 10).Position);
        Assert.Equal(5, counting.Reads);
    }

    [Fact]
    public async Task The_cache_stays_within_its_size()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(500);
        var counting = new CountingLog(source.NotificationLog);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", name => name == "Source" ? counting : null,
            new NotificationLogEndpointOptions { ArchivedSectionCacheBytes = 4 * 4096 }));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { ReadAhead = 0 });

        Assert.Equal(500, new NotificationLogReader(remote).Read().Count);
        var afterFirst = counting.Reads;
        Assert.Equal(500, new NotificationLogReader(remote).Read().Count);
        // Fifty archived sections (about 3 KB each) do not fit in 16 KB: the second read goes to the store again.
        Assert.True(counting.Reads - afterFirst > 10, $"{counting.Reads - afterFirst} reads");
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), new NotificationLogReader(remote).Read().Select(n => n.Id));
    }
}

public sealed class ServedSectionSizeTests
{
    [Fact]
    public async Task Logs_can_be_served_with_larger_sections_than_the_applications_own()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(345);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source], new NotificationLogEndpointOptions { SectionSize = 100 }));
        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source");

        Assert.Equal(10, source.NotificationLog.SectionSize);
        Assert.Equal(100, remote.SectionSize);
        Assert.Equal("101,200", remote["150,150"].Id);
        Assert.Equal(345, new NotificationLogReader(remote).Read().Count);
        Assert.Equal("301,400", remote["current"].Id);
    }
}

public sealed class ServerCacheConcurrencyTests
{
    [Fact]
    public async Task Many_readers_at_once_through_a_small_cache_each_read_everything_in_order()
    {
        using var persistence = Persistence.InMemory();
        var source = (Source)new Source().Open(persistence);
        source.AddItems(3_000);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", [source], new NotificationLogEndpointOptions { ArchivedSectionCacheBytes = 64 * 1024 }));

        var readers = Enumerable.Range(0, 6).Select(r => Task.Run(async () =>
        {
            using var remote = new RemoteNotificationLog(host.Combine("logs"), "Source", new RemoteNotificationLogOptions { ReadAhead = r });
            var ids = new List<long>();
            await foreach (var n in new NotificationLogReader(remote).Seek(r * 97).ReadAsync()) ids.Add(n.Id);
            return (Start: r * 97, Ids: ids);
        })).ToList();
        foreach (var (start, ids) in await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(2)))
            Assert.Equal(Enumerable.Range(start + 1, 3_000 - start).Select(i => (long)i), ids);
        // Meanwhile the log grows: readers then see the new items, the filling section is never stale.
        source.AddItems(5);
        using var again = new RemoteNotificationLog(host.Combine("logs"), "Source");
        Assert.Equal(3_005, (await again.SelectAsync(2_990, 100)).Position);
    }
}
