using System.Collections.Frozen;
using LinqToDB.Mapping;

namespace ProcessDsl.AspNetCore.Tests.Support;

// A small hand-wired domain (no generator): items, the application that makes them, and a
// follower that records every item notification it processes.

public sealed class Item : Aggregate
{
    public sealed record Created(int Number) : DomainEvent;

    public sealed record Touched : DomainEvent;

    static Item() => Topics.EnsureRegistered();

    public int Number { get; private set; }

    public int Touches { get; private set; }

    public static Item Create(int number) => Create<Item>(Guid.NewGuid(), new Created(number));

    public void Touch() => Trigger(new Touched());

    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        switch (domainEvent)
        {
            case Created e: Number = e.Number; break;
            case Touched: Touches++; break;
        }
    }
}

public sealed class Source : Application
{
    /// <summary>Creates <paramref name="count"/> items, <paramref name="perSave"/> per atomic save; every tenth is touched too.</summary>
    public void AddItems(int count, int perSave = 250)
    {
        var made = 0;
        while (made < count)
        {
            var batch = new List<Aggregate>();
            for (var i = 0; i < perSave && made < count; i++, made++)
            {
                var item = Item.Create(made);
                batch.Add(item);
            }
            Save(batch.ToArray());
        }
    }

    public Guid AddItem(int number)
    {
        var item = Item.Create(number);
        Save(item);
        return item.Id;
    }
}

[Table("seen")]
public sealed class SeenRow
{
    [PrimaryKey] public long NotificationId { get; set; }

    [Column] public Guid ItemId { get; set; }

    [Column] public int Number { get; set; }
}

/// <summary>Follows <see cref="Source"/>: one row per created item, and the ids it was handed in order.</summary>
public sealed class Tally : ProcessApplication
{
    private static readonly FrozenSet<string> s_topics = new[] { Topics.Created }.ToFrozenSet(StringComparer.Ordinal);

    private readonly List<long> _dispatched = [];

    public override IReadOnlySet<string> HandledTopics => s_topics;

    public IReadOnlyList<long> Dispatched
    {
        get { lock (_dispatched) return _dispatched.ToList(); }
    }

    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != Topics.Created) return false;
        var e = EventTopics.Deserialize<Item.Created>(notification);
        lock (_dispatched) _dispatched.Add(notification.Id);
        processing.Save(new SeenRow { NotificationId = notification.Id, ItemId = e.OriginatorId, Number = e.Number });
        return true;
    }
}

public static class Topics
{
    public const string Created = "tests.item.created";
    public const string Touched = "tests.item.touched";
    private static int s_done;

    public static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref s_done, 1) != 0) return;
        EventTopics.Register<Item.Created>(Created);
        EventTopics.Register<Item.Touched>(Touched);
    }
}

public static class TestSystem
{
    static TestSystem() => Topics.EnsureRegistered();

    public static SystemDefinition Definition { get; } = new("TestSystem",
    [
        new ApplicationDefinition("Source", typeof(Source), static () => new Source(), [], []),
        new ApplicationDefinition("Tally", typeof(Tally), static () => new Tally(), ["Source"], [Topics.Created]),
    ]);
}
