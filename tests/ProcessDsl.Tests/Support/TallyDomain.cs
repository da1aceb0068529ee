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

/// <summary>A few aggregates, each given several events by one step: exercises remembering a step's commit per aggregate.</summary>
public sealed partial class Book : Aggregate
{
    /// <summary>The ids of the books every order is noted in.</summary>
    public static readonly Guid[] Ids =
    [
        new("0b6f1c9e-3a47-4d8e-9f11-5c2a7e4b6d01"),
        new("0b6f1c9e-3a47-4d8e-9f11-5c2a7e4b6d02"),
        new("0b6f1c9e-3a47-4d8e-9f11-5c2a7e4b6d03"),
    ];

    public sealed record Opened : DomainEvent;
    public sealed record Noted(Guid OrderId, int Amount) : DomainEvent;

    public int Total { get; private set; }

    public static Book Open(Guid id) => Create<Book>(id, new Opened());

    public void Note(Guid orderId, int amount) => Trigger(new Noted(orderId, amount));

    [Apply] void When(Noted e) => Total += e.Amount;
}

/// <summary>Notes every new order in each of three books (the book's position + 1 as the amount).</summary>
public sealed partial class Books : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent processing)
    {
        for (var i = 0; i < Book.Ids.Length; i++)
        {
            var book = Repository.Contains(Book.Ids[i]) ? Repository.Get<Book>(Book.Ids[i]) : Book.Open(Book.Ids[i]);
            book.Note(e.OriginatorId, i + 1);
            processing.Collect(book);
        }
    }
}
