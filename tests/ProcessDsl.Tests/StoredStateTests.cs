using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ProcessDsl.Tests;

/// <summary>
/// An event's stored state leaves out its aggregate id and version, which the store keeps in
/// columns: reading takes them from the notification, whatever the state says.
/// </summary>
public sealed class StoredStateTests
{
    private static readonly Guid Parcel = Guid.Parse("0d7f3a8e-52b4-4c0e-9a51-3f7f0e1c2b6d");

    private static Parcel.Sent Sent() => new("Ada", "post") { OriginatorId = Parcel, OriginatorVersion = 3, Timestamp = DateTimeOffset.UnixEpoch.AddDays(1) };

    [Fact]
    public void The_stored_state_has_the_events_own_fields_and_timestamp_but_not_the_aggregate_id_or_version()
    {
        var (topic, state) = EventTopics.Serialize(Sent());
        var json = JsonNode.Parse(state)!.AsObject();

        Assert.Equal("tests.parcel.sent", topic);
        Assert.Equal(["Carrier", "Timestamp", "To"], json.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Parcel.ToString(), Encoding.UTF8.GetString(state), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Reading_takes_the_aggregate_id_and_version_from_the_notification()
    {
        var (topic, state) = EventTopics.Serialize(Sent());
        var notification = new Notification(12, Parcel, 3, topic, state, Version: 2);

        var read = Assert.IsType<Parcel.Sent>(EventTopics.Deserialize(notification));
        var typed = EventTopics.Deserialize<Parcel.Sent>(notification);

        Assert.Equal(Sent(), read);
        Assert.Equal(Sent(), typed);
    }

    [Fact]
    public void State_written_with_the_aggregate_id_and_version_reads_with_the_notifications_values()
    {
        // What earlier versions stored: the id and version inside the state too (here deliberately other values).
        var state = JsonSerializer.SerializeToUtf8Bytes(new
        {
            To = "Ada",
            Carrier = "post",
            OriginatorId = Guid.NewGuid(),
            OriginatorVersion = 99,
            Timestamp = DateTimeOffset.UnixEpoch.AddDays(1),
        });
        var notification = new Notification(12, Parcel, 3, "tests.parcel.sent", state, Version: 2);

        Assert.Equal(Sent(), EventTopics.Deserialize(notification));
        Assert.Equal(Sent(), EventTopics.Deserialize<Parcel.Sent>(notification));
    }

    [Fact]
    public void An_upcast_event_gets_the_notifications_aggregate_id_and_version_too()
    {
        var state = Encoding.UTF8.GetBytes("""{"To":"Ada","Timestamp":"1970-01-02T00:00:00+00:00"}""");
        var notification = new Notification(12, Parcel, 3, "tests.parcel.sent", state, Version: 1);

        Assert.Equal(Sent(), EventTopics.Deserialize(notification));
        Assert.Equal(Sent(), EventTopics.Deserialize<Parcel.Sent>(notification));
    }

    [Fact]
    public void Serialising_an_event_with_other_options_still_writes_its_aggregate_id_and_version()
    {
        // Only the store's options leave them out: an event returned by a user's own API keeps them.
        var json = JsonNode.Parse(JsonSerializer.Serialize(Sent()))!.AsObject();

        Assert.Equal(Parcel, json["OriginatorId"]!.GetValue<Guid>());
        Assert.Equal(3, json["OriginatorVersion"]!.GetValue<long>());
    }
}
