using LinqToDB.Mapping;

namespace ProcessDsl.Postgres.Tests.Shop;

/// <summary>An item of a shop: listed, tagged a few times, sold. The upstream of the exactly-once suite.</summary>
public sealed partial class Item : Aggregate
{
    [Topic("shop.item.listed")] public sealed record Listed(string Title) : DomainEvent;
    [Topic("shop.item.tagged")] public sealed record Tagged(string Tag) : DomainEvent;
    [Topic("shop.item.sold")] public sealed record Sold : DomainEvent;

    public string Title { get; private set; } = "";

    public static Item List(string title) => Create<Item>(Guid.NewGuid(), new Listed(title));
    public void Tag(string tag) => Trigger(new Tagged(tag));
    public void Sell() => Trigger(new Sold());

    public int Tags { get; private set; }

    public bool IsSold { get; private set; }

    [Apply] void When(Listed e) => Title = e.Title;
    [Apply] void When(Tagged e) => Tags++;
    [Apply] void When(Sold e) => IsSold = true;
}

/// <summary>What a follower records per sold item: a new aggregate with a random id.</summary>
public sealed partial class Receipt : Aggregate
{
    [Topic("shop.receipt.issued")] public sealed record Issued(Guid ItemId, long UpstreamId) : DomainEvent;

    public static Receipt Issue(Guid itemId, long upstreamId) => Create<Receipt>(Guid.NewGuid(), new Issued(itemId, upstreamId));
}

public sealed partial class Shop : Application
{
    /// <summary>Lists items, tags each <paramref name="tags"/> times and sells it, one save per item.</summary>
    public List<Guid> Stock(int items, int tags)
    {
        var ids = new List<Guid>();
        for (var i = 0; i < items; i++)
        {
            var item = Item.List("title " + i);
            for (var t = 0; t < tags; t++) item.Tag("t" + t);
            item.Sell();
            Save(item);
            ids.Add(item.Id);
        }
        return ids;
    }

    /// <summary>
    /// Lists items, then tags every one of them <paramref name="tags"/> times, one save of all items per
    /// turn, then sells those <paramref name="sold"/> picks: the log holds each turn's events of many
    /// items in a row. Returns the items in the order listed.
    /// </summary>
    public List<Item> StockInTurns(int items, int tags, Func<int, bool> sold)
    {
        var all = Enumerable.Range(0, items).Select(i => Item.List("title " + i)).ToList();
        Save([.. all]);
        for (var t = 0; t < tags; t++)
        {
            for (var i = 0; i < items; i++) all[i].Tag($"item {i} tag {t}");
            Save([.. all]);
        }
        var selling = all.Where((_, i) => sold(i)).ToList();
        foreach (var item in selling) item.Sell();
        Save([.. selling]);
        return all;
    }

    public Guid Add(Aggregate aggregate)
    {
        Save(aggregate);
        return aggregate.Id;
    }
}

/// <summary>A catalog row: its title comes from Listed, its tags are added one event at a time.</summary>
[Table("catalog_row")]
public sealed class CatalogRow
{
    [PrimaryKey, Column("item_id")] public Guid ItemId { get; set; }
    [Column("title"), NotNull] public string Title { get; set; } = "";
    [Column("tags"), NotNull] public string Tags { get; set; } = "";
    [Column("sold")] public bool Sold { get; set; }
}

/// <summary>A projection that reads its own current row to keep what earlier events wrote.</summary>
public sealed partial class Catalog : ProcessApplication
{
    [Policy(typeof(Item.Listed))]
    void On(Item.Listed e, ProcessingEvent processing) =>
        processing.Save(new CatalogRow { ItemId = e.OriginatorId, Title = e.Title });

    [Policy(typeof(Item.Tagged))]
    void On(Item.Tagged e, ProcessingEvent processing)
    {
        var row = Query<CatalogRow>().Single(r => r.ItemId == e.OriginatorId);
        processing.Save(new CatalogRow { ItemId = row.ItemId, Title = row.Title, Tags = row.Tags + "," + e.Tag, Sold = row.Sold });
    }

    [Policy(typeof(Item.Sold))]
    void On(Item.Sold e, ProcessingEvent processing)
    {
        var row = Query<CatalogRow>().Single(r => r.ItemId == e.OriginatorId);
        processing.Save(new CatalogRow { ItemId = row.ItemId, Title = row.Title, Tags = row.Tags, Sold = true });
    }
}

/// <summary>
/// Issues a receipt per sold item, failing on a scripted attempt after collecting it: whatever a
/// failed attempt collected must never be stored.
/// </summary>
public sealed partial class Tills : ProcessApplication
{
    private readonly Dictionary<long, int> _calls = [];

    public Tills() => TillsSetup.Prepare?.Invoke(this);

    /// <summary>A command's save of a receipt; <paramref name="id"/> is set before saving.</summary>
    public void SaveReceipt(Receipt receipt, out Guid id)
    {
        id = receipt.Id;
        Save(receipt);
    }

    /// <summary>Upstream notification id -> the attempts (1-based) on which the policy throws after collecting.</summary>
    public Dictionary<long, int[]> FailOn { get; } = [];

    /// <summary>Runs inside the policy after collecting (the commit-fault tests use it to queue a save).</summary>
    public Action? DuringPolicy { get; set; }

    public int Calls(long upstreamId)
    {
        lock (_calls) return _calls.GetValueOrDefault(upstreamId);
    }

    [Policy(typeof(Item.Sold))]
    void On(Item.Sold e, ProcessingEvent processing)
    {
        var id = processing.Notification.Id;
        int call;
        lock (_calls) call = _calls[id] = _calls.GetValueOrDefault(id) + 1;
        processing.Collect(Receipt.Issue(e.OriginatorId, id));
        DuringPolicy?.Invoke();
        if (FailOn.TryGetValue(id, out var attempts) && attempts.Contains(call))
            throw new InvalidOperationException($"scripted failure of notification {id} on attempt {call}");
    }
}

[ProcessSystem]
[Pipeline(typeof(Shop), typeof(Catalog))]
[Pipeline(typeof(Shop), typeof(Tills))]
public static partial class ShopSystem;

/// <summary>
/// Prepares the <see cref="Tills"/> a runner creates, before its first step. Scoped to the async flow
/// that sets it (a test and the runner it starts): other test classes run their own shop systems in
/// parallel, and a process-wide setting reached their tills too.
/// </summary>
public static class TillsSetup
{
    private static readonly AsyncLocal<Action<Tills>?> s_prepare = new();

    public static Action<Tills>? Prepare
    {
        get => s_prepare.Value;
        set => s_prepare.Value = value;
    }
}

/// <summary>A shelf row: rewritten by every event of its item, deleted when sold (and written again for kept items).</summary>
[Table("shelf_row")]
public sealed class ShelfRow
{
    [PrimaryKey, Column("item_id")] public Guid ItemId { get; set; }
    [Column("last"), NotNull] public string? Last { get; set; }
    [Column("version")] public long Version { get; set; }
}

/// <summary>
/// A projection that only writes, never reads: a step of many events writes the same key many times,
/// deletes it and writes it again, so the order of its row writes decides the result.
/// </summary>
public sealed partial class Shelf : ProcessApplication
{
    /// <summary>An item whose next row is written with a null <see cref="ShelfRow.Last"/>, which the database refuses.</summary>
    public static Guid Poison { get; set; }

    /// <summary>Items kept on the shelf when sold: their row is deleted and written again.</summary>
    public static bool Kept(Guid itemId) => itemId.ToByteArray()[0] % 2 == 0;

    [Policy(typeof(Item.Listed))]
    void On(Item.Listed e, ProcessingEvent processing) =>
        processing.Save(new ShelfRow { ItemId = e.OriginatorId, Last = e.OriginatorId == Poison ? null : e.Title, Version = e.OriginatorVersion });

    [Policy(typeof(Item.Tagged))]
    void On(Item.Tagged e, ProcessingEvent processing) =>
        processing.Save(new ShelfRow { ItemId = e.OriginatorId, Last = e.Tag, Version = e.OriginatorVersion });

    [Policy(typeof(Item.Sold))]
    void On(Item.Sold e, ProcessingEvent processing)
    {
        processing.Delete(new ShelfRow { ItemId = e.OriginatorId });
        if (Kept(e.OriginatorId)) processing.Save(new ShelfRow { ItemId = e.OriginatorId, Last = "sold", Version = e.OriginatorVersion });
    }
}

[ProcessSystem]
[Pipeline(typeof(Shop), typeof(Shelf))]
public static partial class ShelfSystem;
