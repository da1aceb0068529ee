using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ProcessDsl.Tests;

/// <summary>An aggregate whose events have compile-time JSON contracts (<see cref="ShipmentJson"/>), used by no other test.</summary>
public sealed partial class Shipment : Aggregate
{
    [Topic("tests.shipment.booked", Version = 2)]
    public sealed record Booked(string Carrier, IReadOnlyList<string> Items) : DomainEvent
    {
        [Upcast(From = 1)]
        static void FromV1(JsonObject state) => state["Items"] = new JsonArray();
    }

    [Topic("tests.shipment.delivered")]
    public sealed record Delivered : DomainEvent
    {
        public string SignedBy { get; init; } = "";
    }

    public string Carrier { get; private set; } = "";

    [Apply]
    private void On(Booked e) => Carrier = e.Carrier;

    [Apply]
    private void On(Delivered e) => Carrier = e.SignedBy;
}

/// <summary>
/// Generated contracts with options of their own (camelCase, indented) that must not reach the
/// stored state: a context used as a resolver serves the store's options.
/// </summary>
[JsonSerializable(typeof(Shipment.Booked))]
[JsonSerializable(typeof(Shipment.Delivered))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ShipmentJson : JsonSerializerContext;

/// <summary>A context with a contract for an event type other tests serialise through reflection.</summary>
[JsonSerializable(typeof(Parcel.Sent))]
internal sealed partial class LateParcelJson : JsonSerializerContext;

/// <summary>
/// Event contracts from a <see cref="JsonSerializerContext"/> given to
/// <see cref="EventTopics.AddJsonTypeInfoResolver"/> (what a Native AOT program has instead of
/// reflection): the same stored JSON, the same reading rules.
/// </summary>
public sealed class GeneratedContractsTests
{
    private static readonly Guid Id = Guid.Parse("6b1f9a52-0c3e-4d8e-b4a7-2f61c9d0e5a3");

    static GeneratedContractsTests() => EventTopics.AddJsonTypeInfoResolver(ShipmentJson.Default);

    private static Shipment.Booked Booked() =>
        new("post", ["book", "lamp"]) { OriginatorId = Id, OriginatorVersion = 1, Timestamp = DateTimeOffset.UnixEpoch.AddDays(2) };

    [Fact]
    public void The_contracts_come_from_the_context()
    {
        var info = EventTopics.SerializerOptions.GetTypeInfo(typeof(Shipment.Booked));

        Assert.Same(ShipmentJson.Default, info.OriginatingResolver);
    }

    [Fact]
    public void The_stored_state_is_what_reflection_writes_without_the_aggregate_id_or_version()
    {
        var (topic, state) = EventTopics.Serialize(Booked());
        var text = Encoding.UTF8.GetString(state);

        Assert.Equal("tests.shipment.booked", topic);
        // The store's options (names as declared, not indented), not the context's own.
        Assert.Equal("""{"Carrier":"post","Items":["book","lamp"],"Timestamp":"1970-01-03T00:00:00+00:00"}""", text);
        Assert.DoesNotContain(Id.ToString(), text, StringComparison.OrdinalIgnoreCase);

        var (_, delivered) = EventTopics.Serialize(new Shipment.Delivered { SignedBy = "Ada", OriginatorId = Id, OriginatorVersion = 2 });
        Assert.Equal(["SignedBy", "Timestamp"], JsonNode.Parse(delivered)!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Reading_takes_the_aggregate_id_and_version_from_the_notification_even_where_the_state_has_others()
    {
        var (topic, state) = EventTopics.Serialize(Booked());
        var fresh = new Notification(7, Id, 1, topic, state, Version: 2);
        var old = JsonSerializer.SerializeToUtf8Bytes(new
        {
            Carrier = "post",
            Items = new[] { "book", "lamp" },
            OriginatorId = Guid.NewGuid(),
            OriginatorVersion = 99,
            Timestamp = DateTimeOffset.UnixEpoch.AddDays(2),
        });
        var written = new Notification(7, Id, 1, topic, old, Version: 2);

        foreach (var notification in new[] { fresh, written })
        {
            var read = Assert.IsType<Shipment.Booked>(EventTopics.Deserialize(notification));
            var typed = EventTopics.Deserialize<Shipment.Booked>(notification);
            foreach (var e in new[] { read, typed })
            {
                Assert.Equal(Id, e.OriginatorId);
                Assert.Equal(1, e.OriginatorVersion);
                Assert.Equal(["book", "lamp"], e.Items);
                Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(2), e.Timestamp);
            }
        }
    }

    [Fact]
    public void An_older_version_is_upcast_and_read_through_the_context()
    {
        var state = Encoding.UTF8.GetBytes("""{"Carrier":"van","Timestamp":"1970-01-03T00:00:00+00:00"}""");
        var notification = new Notification(3, Id, 1, "tests.shipment.booked", state, Version: 1);

        var read = Assert.IsType<Shipment.Booked>(EventTopics.Deserialize(notification));
        var typed = EventTopics.Deserialize<Shipment.Booked>(notification);

        Assert.All(new[] { read, typed }, e =>
        {
            Assert.Equal("van", e.Carrier);
            Assert.Empty(e.Items);
            Assert.Equal(Id, e.OriginatorId);
        });
    }

    [Fact]
    public void A_corrupt_state_names_the_notification_and_topic()
    {
        var notification = new Notification(41, Id, 1, "tests.shipment.booked", Encoding.UTF8.GetBytes("""{"Carrier":12"""), Version: 2);

        var error = Assert.Throws<EventDeserializationException>(() => EventTopics.Deserialize<Shipment.Booked>(notification));

        Assert.Contains("41", error.Message, StringComparison.Ordinal);
        Assert.Contains("tests.shipment.booked", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_resolver_added_after_its_event_type_was_serialised_is_refused_and_changes_nothing()
    {
        var sent = new Parcel.Sent("Ada", "post") { OriginatorId = Id, OriginatorVersion = 1 };
        var (_, before) = EventTopics.Serialize(sent);

        var error = Assert.Throws<InvalidOperationException>(() => EventTopics.AddJsonTypeInfoResolver(LateParcelJson.Default));

        Assert.Contains(typeof(Parcel.Sent).FullName!, error.Message, StringComparison.Ordinal);
        Assert.Contains("start-up", error.Message, StringComparison.Ordinal);
        Assert.NotSame(LateParcelJson.Default, EventTopics.SerializerOptions.GetTypeInfo(typeof(Parcel.Sent)).OriginatingResolver);
        Assert.Equal(before, EventTopics.Serialize(sent).State);
    }

    [Fact]
    public void A_null_resolver_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => EventTopics.AddJsonTypeInfoResolver(null!));
    }
}
