using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

public sealed class RemoteReadingTests(LogServerFixture server) : IClassFixture<LogServerFixture>
{
    [Fact]
    public void Reader_reads_every_notification_in_order_exactly_once()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source");
        var reader = new NotificationLogReader(remote);

        var read = reader.Read();

        Assert.Equal(LogServerFixture.Count, read.Count);
        for (var i = 0; i < read.Count; i++) Assert.Equal(i + 1, read[i].Id);
        Assert.Equal(LogServerFixture.Count, reader.Position);
        Assert.Empty(reader.Read());
    }

    [Fact]
    public async Task Async_reader_streams_the_same_notifications_as_the_local_log()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source");
        var reader = new NotificationLogReader(remote).Seek(9_000);
        var local = server.Source.NotificationLog.Select(9_000, 5_000).Items;

        var read = new List<Notification>();
        await foreach (var notification in reader.ReadAsync()) read.Add(notification);

        Assert.Equal(1_000, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            Assert.Equal(local[i].Id, read[i].Id);
            Assert.Equal(local[i].OriginatorId, read[i].OriginatorId);
            Assert.Equal(local[i].OriginatorVersion, read[i].OriginatorVersion);
            Assert.Equal(local[i].Topic, read[i].Topic);
            Assert.Equal(local[i].State, read[i].State);
        }
    }

    [Fact]
    public async Task Sections_match_the_local_log()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source");
        var local = server.Source.NotificationLog;

        Assert.Equal(local.SectionSize, remote.SectionSize);
        foreach (var id in new[] { "current", "1,10", "1,20", "3,7", "9991,10000", "10001,10010", "99999,100008" })
        {
            var expected = local[id];
            var actual = await remote.GetSectionAsync(id);
            Assert.Equal(expected.Id, actual.Id);
            Assert.Equal(expected.PreviousId, actual.PreviousId);
            Assert.Equal(expected.NextId, actual.NextId);
            Assert.Equal(expected.Items.Select(n => n.Id), actual.Items.Select(n => n.Id));
            Assert.Equal(expected.Id, remote[id].Id);
        }
    }

    [Fact]
    public void Remote_log_rejects_malformed_section_ids_like_the_local_log()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source");
        foreach (var bad in new[] { "", "x", "1", "0,9", "10,1", "1,2,3", "-1,10", "1,99999999999999999999" })
            Assert.Throws<ArgumentException>(() => remote[bad]);
    }

    [Fact]
    public async Task Select_walks_sections_filters_topics_and_reports_the_position_covered()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source", new RemoteNotificationLogOptions { SectionSize = 10 });
        var local = server.Source.NotificationLog;

        foreach (var (after, limit) in new[] { (0L, 1), (0L, 25), (5L, 500), (9_990L, 100), (10_000L, 10), (123L, 7) })
        {
            var expected = local.Select(after, limit);
            var actual = remote.Select(after, limit);
            Assert.Equal(expected.Position, actual.Position);
            Assert.Equal(expected.Items.Select(n => n.Id), actual.Items.Select(n => n.Id));
            var asyncActual = await remote.SelectAsync(after, limit);
            Assert.Equal(expected.Position, asyncActual.Position);
        }

        var none = remote.Select(0, 50, new HashSet<string> { "no.such.topic" });
        Assert.Empty(none.Items);
        Assert.Equal(50, none.Position);
        var created = remote.Select(0, 50, new HashSet<string> { Topics.Created });
        Assert.Equal(50, created.Items.Count);
    }

    [Fact]
    public async Task Follower_processes_every_remote_notification_exactly_once_in_order()
    {
        using var remote = new RemoteNotificationLog(server.Logs, "Source");
        using var persistence = Persistence.InMemory();
        var options = new RunnerOptions
        {
            UpstreamLogs = new Dictionary<string, INotificationLog> { ["Source"] = remote },
            PollInterval = TimeSpan.FromMilliseconds(50),
        };
        await using var runner = new MultiThreadedRunner(TestSystem.Definition, persistence, options);
        await runner.StartAsync();

        await runner.WaitUntilIdleAsync(TimeSpan.FromSeconds(120));

        var tally = runner.Get<Tally>();
        Assert.Equal(Enumerable.Range(1, LogServerFixture.Count).Select(i => (long)i), tally.Dispatched);
        Assert.Equal(LogServerFixture.Count, tally.Query<SeenRow>().Count());
        Assert.Equal(LogServerFixture.Count - 1, tally.Query<SeenRow>().Max(r => r.Number));
        // The local Source of the follower's own store stays empty: everything came over HTTP.
        Assert.Equal(0, runner.Get<Source>().NotificationLog.MaxNotificationId);
        await runner.StopAsync();
    }
}
