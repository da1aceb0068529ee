using System.Text.Json;
using System.Text.Json.Nodes;
using LinqToDB.Mapping;
using Microsoft.Data.Sqlite;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>A parcel whose Sent event gained a Carrier in version 2; version 1 events get "post".</summary>
public sealed partial class Parcel : Aggregate
{
    [Topic("tests.parcel.sent", Version = 2)]
    public sealed record Sent(string To, string Carrier) : DomainEvent
    {
        [Upcast(From = 1)]
        static void FromV1(JsonObject state) => state["Carrier"] = "post";
    }

    public string To { get; private set; } = "";
    public string Carrier { get; private set; } = "";

    public static Parcel Send(string to, string carrier) => Create<Parcel>(Guid.NewGuid(), new Sent(to, carrier));

    [Apply] void When(Sent e) => (To, Carrier) = (e.To, e.Carrier);
}

public sealed partial class Post : Application
{
    public Guid Send(string to, string carrier)
    {
        var parcel = Parcel.Send(to, carrier);
        Save(parcel);
        return parcel.Id;
    }
}

[Table("carrier_row")]
public sealed class CarrierRow
{
    [PrimaryKey] public Guid ParcelId { get; set; }
    [Column, NotNull] public string Carrier { get; set; } = "";
}

public sealed partial class Carriers : ProcessApplication
{
    [Policy(typeof(Parcel.Sent))]
    void On(Parcel.Sent e, ProcessingEvent processing) => processing.Save(new CarrierRow { ParcelId = e.OriginatorId, Carrier = e.Carrier });
}

[ProcessSystem]
[Pipeline(typeof(Post), typeof(Carriers))]
public static partial class PostSystem;

/// <summary>Stored events keep the version they were written at and are read upcast, by aggregates and followers alike.</summary>
public sealed class EvolutionStorageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The JSON version 1 of the class wrote: version 2's without Carrier.</summary>
    private static byte[] Version1State(Guid id, string to)
    {
        var v2 = (JsonObject)JsonSerializer.SerializeToNode(new Parcel.Sent(to, "unused") { OriginatorId = id, OriginatorVersion = 1, Timestamp = DateTimeOffset.UtcNow }, EventTopics.SerializerOptions)!;
        v2.Remove("Carrier");
        return JsonSerializer.SerializeToUtf8Bytes(v2, EventTopics.SerializerOptions);
    }

    [Fact]
    public async Task Events_stored_at_version_1_are_read_upcast_and_new_ones_keep_their_own_values_and_version()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var post = (Post)new Post().Open(store);
        var old = Guid.NewGuid();
        // As an earlier build stored it: version 1 of the class, without Carrier.
        post.Store.AppendSave([new NewEvent(old, 1, "tests.parcel.sent", Version1State(old, "Ada"), DateTimeOffset.UtcNow, Version: 1)]);
        var fresh = post.Send("Grace", "courier");

        var log = post.NotificationLog.Select(0, 10).Items;
        Assert.Equal([1, 2], log.Select(n => n.Version));            // each as written
        Assert.Equal(("Ada", "post"), (post.Repository.Get<Parcel>(old).To, post.Repository.Get<Parcel>(old).Carrier));
        Assert.Equal(("Grace", "courier"), (post.Repository.Get<Parcel>(fresh).To, post.Repository.Get<Parcel>(fresh).Carrier));

        await using var runner = new SingleThreadedRunner(PostSystem.Definition, store);
        await runner.StartAsync();
        var rows = runner.Get<Carriers>().Query<CarrierRow>().ToDictionary(r => r.ParcelId, r => r.Carrier);
        Assert.Equal("post", rows[old]);        // the follower's policy got the upcast event
        Assert.Equal("courier", rows[fresh]);
    }

    [Fact]
    public void Events_stored_before_versions_existed_read_as_version_1()
    {
        // A table as earlier releases created it: no version column.
        var id = Guid.NewGuid();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir.Path, "post.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE post_events (notification_id INTEGER PRIMARY KEY, originator_id BLOB NOT NULL, originator_version INTEGER NOT NULL,
                    topic TEXT NOT NULL, state BLOB NOT NULL, "timestamp" INTEGER NOT NULL);
                INSERT INTO post_events VALUES (1, $id, 1, 'tests.parcel.sent', $state, 0);
                """;
            command.Parameters.AddWithValue("$id", id.ToByteArray());
            command.Parameters.AddWithValue("$state", Version1State(id, "Ada"));
            command.ExecuteNonQuery();
        }
        using var store = Persistence.Sqlite(_dir.Path);
        var post = (Post)new Post().Open(store);
        var stored = Assert.Single(post.NotificationLog.Select(0, 10).Items);
        Assert.Equal(1, stored.Version);
        Assert.Null(stored.Metadata);   // nor a metadata column: the table gets one, its old events have none
        Assert.Equal("post", post.Repository.Get<Parcel>(id).Carrier);
        using (EventMetadata.Correlate("batch-9"))
            post.Send("Grace", "courier");
        var added = post.NotificationLog.Select(0, 10).Items[1];
        Assert.Equal(2, added.Version);
        Assert.Equal("batch-9", added.Metadata?.CorrelationId);
    }
}
