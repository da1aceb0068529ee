using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using ProcessDsl.Tests.Support;

namespace ProcessDsl.Tests;

/// <summary>A beacon's ping gained a Note in version 2; its upcast notes where it ran.</summary>
public sealed partial class Beacon : Aggregate
{
    /// <summary>Each upcast of a ping: its number, and whether it ran inside a step's dispatch (a processing scope is current).</summary>
    public static readonly ConcurrentQueue<(int N, bool InDispatch)> Upcasts = new();

    [Topic("tests.beacon.pinged", Version = 2)]
    public sealed record Pinged(int N, string Note) : DomainEvent
    {
        [Upcast(From = 1)]
        static void FromV1(JsonObject state)
        {
            Upcasts.Enqueue(((int)state["N"]!, ProcessingScope.Current is not null));
            state["Note"] = "v1";
        }
    }
}

public sealed partial class Beacons : Application;

/// <summary>Records each ping its policy gets.</summary>
public sealed partial class Listeners : ProcessApplication
{
    public List<(int N, string Note)> Heard { get; } = [];

    [Policy(typeof(Beacon.Pinged))]
    void On(Beacon.Pinged e, ProcessingEvent processing) => Heard.Add((e.N, e.Note));
}

/// <summary>A follower that reads ahead deserialises the batch it reads ahead on the reading thread; the policies get the same events.</summary>
public sealed class ReadAheadDecodingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static NewEvent Version1(int n, string? state = null) =>
        new(Guid.NewGuid(), 1, "tests.beacon.pinged", Encoding.UTF8.GetBytes(state ?? $$"""{"N":{{n}},"Timestamp":"2026-12-07T00:00:00+00:00"}"""), DateTimeOffset.UtcNow, Version: 1);

    [Fact]
    public void Batches_read_ahead_reach_the_policies_decoded_once_before_their_step_and_a_bad_one_still_fails_its_step()
    {
        using var store = Persistence.Sqlite(_dir.Path);
        var beacons = (Beacons)new Beacons().Open(store);
        beacons.Store.AppendSave([Version1(1), Version1(2), Version1(3), Version1(4), Version1(5, "{not json"), Version1(6)]);
        var listeners = (Listeners)new Listeners().Open(store);
        var follower = new Follower(listeners, "Beacons", beacons.NotificationLog, new ProcessingOptions { MaxBatchSize = 2 }) { ReadsAhead = true };
        Beacon.Upcasts.Clear();

        Assert.Equal(2, follower.Step().Covered);            // read as the step starts; the next batch read ahead
        Assert.Equal(2, follower.Step().Covered);            // the batch read ahead, decoded there
        var failure = Assert.ThrowsAny<Exception>(() => follower.Step());

        // The policies got every readable event upcast, in order.
        Assert.Equal([(1, "v1"), (2, "v1"), (3, "v1"), (4, "v1")], listeners.Heard);
        // Each was decoded once: the first batch by the dispatch in its step, the batches read ahead
        // before their step (on the reading thread, or on the step's own while it waited for the read).
        var upcasts = Beacon.Upcasts.ToArray();
        Assert.Equal([(1, true), (2, true), (3, false), (4, false)], upcasts.Where(u => u.N <= 4).OrderBy(u => u.N));
        Assert.Equal([(6, false)], upcasts.Where(u => u.N > 4));   // 6 came in the batch that failed: decoded ahead, never dispatched

        // The event that does not read fails its step as before, named by its id: the dispatch read
        // it again and reported it. Nothing of that batch is stored.
        var error = Assert.IsType<EventDeserializationException>(failure.InnerException);
        Assert.Equal(5, error.NotificationId);
        Assert.Equal(4, listeners.Store.Position("Beacons"));
    }
}
