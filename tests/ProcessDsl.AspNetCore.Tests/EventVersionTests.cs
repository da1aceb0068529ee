using ProcessDsl.AspNetCore.Tests.Support;

namespace ProcessDsl.AspNetCore.Tests;

/// <summary>The version an event was stored at travels with it over HTTP, so a remote reader upcasts exactly as a local one.</summary>
public sealed class EventVersionTests
{
    [Fact]
    public async Task A_remote_log_reads_each_notification_at_the_version_it_was_stored_at()
    {
        var stored = new Notification[]
        {
            new(1, Guid.NewGuid(), 1, "tests.parcel", "{}"u8.ToArray()),               // before versions: 1
            new(2, Guid.NewGuid(), 1, "tests.parcel", "{}"u8.ToArray(), Version: 3),
        };
        var log = new FixedLog("Parcels", stored);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", name => string.Equals(name, "Parcels", StringComparison.OrdinalIgnoreCase) ? log : null));

        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Parcels");
        var section = await remote.GetSectionAsync("1,10");
        Assert.Equal([1, 3], section.Items.Select(n => n.Version));
        Assert.Equal([1, 3], remote.Select(0, 10).Items.Select(n => n.Version));
    }

    [Fact]
    public async Task A_remote_log_reads_each_notifications_metadata_as_stored_so_a_remote_follower_continues_its_trace()
    {
        var metadata = new EventMetadata("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "vendor=1", "request-42", "Orders:7");
        var stored = new Notification[]
        {
            new(1, Guid.NewGuid(), 1, "tests.parcel", "{}"u8.ToArray()),
            new(2, Guid.NewGuid(), 1, "tests.parcel", "{}"u8.ToArray(), Metadata: metadata),
            new(3, Guid.NewGuid(), 1, "tests.parcel", "{}"u8.ToArray(), Metadata: new EventMetadata(CorrelationId: "only")),
        };
        var log = new FixedLog("Parcels", stored);
        await using var host = await KestrelHost.StartAsync(app => app.MapNotificationLogs("/logs", name => string.Equals(name, "Parcels", StringComparison.OrdinalIgnoreCase) ? log : null));

        using var remote = new RemoteNotificationLog(host.Combine("logs"), "Parcels");
        var items = (await remote.GetSectionAsync("1,10")).Items;
        Assert.Equal([null, metadata, new EventMetadata(CorrelationId: "only")], items.Select(n => n.Metadata));

        // Malformed metadata is refused naming the item, like any other malformed field.
        var bad = System.Text.Encoding.UTF8.GetBytes(
            """{"application":"Parcels","sectionSize":10,"id":"1,10","previousId":null,"nextId":null,"items":[{"id":1,"originatorId":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","originatorVersion":1,"topic":"t","state":"e30=","metadata":{"correlationId":5}}]}""");
        var error = Assert.Throws<InvalidDataException>(() => SectionJson.Parse(bad, "http://test/logs/Parcels/1,10"));
        Assert.Contains("item 0: 'metadata'", error.Message, StringComparison.Ordinal);
        Assert.Contains("correlationId", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A log of fixed notifications (any INotificationLog can be served).</summary>
    private sealed class FixedLog(string application, IReadOnlyList<Notification> items) : INotificationLog
    {
        public string Application { get; } = application;

        public int SectionSize => 10;

        public Section this[string sectionId] => new(sectionId == "current" ? "1,10" : sectionId, items, null, null);

        public Task<Section> GetSectionAsync(string sectionId, CancellationToken cancellationToken = default) => Task.FromResult(this[sectionId]);

        public NotificationBatch Select(long after, int limit, IReadOnlySet<string>? topics = null) =>
            new([.. items.Where(n => n.Id > after).Take(limit)], items.Count) { IsEnd = true };

        public Task<NotificationBatch> SelectAsync(long after, int limit, IReadOnlySet<string>? topics = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(Select(after, limit, topics));
    }
}
