using LinqToDB.Mapping;

namespace ProcessDsl.Benchmarks;

/// <summary>An upstream aggregate: one event each.</summary>
public sealed partial class Item : Aggregate
{
    public sealed record Created(int Number) : DomainEvent;

    public int Number { get; private set; }

    public static Item Create(int number) => Create<Item>(Guid.NewGuid(), new Created(number));

    [Apply] void When(Created e) => Number = e.Number;
}

/// <summary>The follower's aggregate: one per upstream item.</summary>
public sealed partial class Copy : Aggregate
{
    public sealed record Created(Guid ItemId, int Number) : DomainEvent;

    public static Copy Create(Guid itemId, int number) => Create<Copy>(Guid.NewGuid(), new Created(itemId, number));
}

public sealed partial class Catalogue : Application
{
    public void Add(params Item[] items) => Save(items);
}

/// <summary>Writes one new event per upstream event.</summary>
public sealed partial class Copier : ProcessApplication
{
    [Policy(typeof(Item.Created))]
    void OnCreated(Item.Created e, ProcessingEvent processing) =>
        processing.Collect(Copy.Create(e.OriginatorId, e.Number));
}

[ProcessSystem]
[Pipeline(typeof(Catalogue), typeof(Copier))]
public static partial class CatchUpSystem;

/// <summary>The projection's row: one per upstream item.</summary>
[Table("item_row")]
public sealed class ItemRow
{
    [PrimaryKey, Column("item_id")] public Guid ItemId { get; set; }
    [Column("number")] public int Number { get; set; }
}

/// <summary>Writes one projection row per upstream event (what a read model catching up does).</summary>
public sealed partial class Indexer : ProcessApplication
{
    [Policy(typeof(Item.Created))]
    void OnCreated(Item.Created e, ProcessingEvent processing) =>
        processing.Save(new ItemRow { ItemId = e.OriginatorId, Number = e.Number });
}

[ProcessSystem]
[Pipeline(typeof(Catalogue), typeof(Indexer))]
public static partial class ProjectionCatchUpSystem;
