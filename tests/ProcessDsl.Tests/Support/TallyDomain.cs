using LinqToDB.Mapping;

namespace ProcessDsl.Tests.Support;

/// <summary>One aggregate changed by every event of a batch: shows a step sees its own earlier changes.</summary>
public sealed partial class Tally : Aggregate
{
    public static readonly Guid TheId = new("6d1f7a52-0c3e-4f4e-9a51-3b7c0f2d9e11");

    public sealed record Started : DomainEvent;
    public sealed record Counted(Guid OrderId) : DomainEvent;

    public int Count { get; private set; }

    public static Tally Start() => Create<Tally>(TheId, new Started());

    public void CountOrder(Guid orderId) => Trigger(new Counted(orderId));

    [Apply] void When(Counted e) => Count++;
}

public sealed partial class Tallies : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent processing)
    {
        var tally = Repository.Contains(Tally.TheId) ? Repository.Get<Tally>(Tally.TheId) : Tally.Start();
        tally.CountOrder(e.OriginatorId);
        processing.Collect(tally);
    }
}

[Table("open_order")]
public sealed class OpenOrder
{
    [PrimaryKey] public Guid OrderId { get; set; }
}

/// <summary>Keeps a row per order until it is paid: exercises ProcessingEvent.Delete.</summary>
public sealed partial class OpenOrders : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent p) => p.Save(new OpenOrder { OrderId = e.OriginatorId });

    [Policy(typeof(Order.Paid))]
    void On(Order.Paid e, ProcessingEvent p) => p.Delete(new OpenOrder { OrderId = e.OriginatorId });
}

[ProcessSystem]
[Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders), typeof(Payments), typeof(Orders))]
[Pipeline(typeof(Orders), typeof(Tallies))]
[Pipeline(typeof(Orders), typeof(OpenOrders))]
public static partial class TallySystem;

[Table("good_row")]
public sealed class GoodRow
{
    [PrimaryKey] public Guid OrderId { get; set; }
    [Column, NotNull] public string Note { get; set; } = "";
}

/// <summary>A row LinqToDB cannot upsert: it has no primary key.</summary>
[Table("keyless_row")]
public sealed class KeylessRow
{
    [Column] public Guid OrderId { get; set; }
}

/// <summary>Writes a row per order; for one chosen order, a row that cannot be stored.</summary>
public sealed partial class RowWriters : ProcessApplication
{
    public static Guid BadOrderId { get; set; }

    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent p)
    {
#pragma warning disable PDSL037 // deliberately keyless: the tests check that a row that cannot be stored fails its one event
        if (e.OriginatorId == BadOrderId) p.Save(new KeylessRow { OrderId = e.OriginatorId });
#pragma warning restore PDSL037
        else p.Save(new GoodRow { OrderId = e.OriginatorId, Note = "ok" });
    }
}
