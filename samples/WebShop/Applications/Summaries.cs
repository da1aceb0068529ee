using LinqToDB.Mapping;
using ProcessDsl;

namespace WebShop;

/// <summary>A projection row: one per order, with its status.</summary>
[Table("order_summary")]
public sealed class OrderSummary
{
    /// <summary>The order.</summary>
    [PrimaryKey] public Guid OrderId { get; set; }

    /// <summary>"new" or "paid".</summary>
    [Column, NotNull] public string Status { get; set; } = "";
}

/// <summary>Keeps an <see cref="OrderSummary"/> row per order, written with the tracking record.</summary>
public sealed partial class Summaries : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent p) => p.Save(new OrderSummary { OrderId = e.OriginatorId, Status = "new" });

    [Policy(typeof(Order.Paid))]
    void On(Order.Paid e, ProcessingEvent p) => p.Save(new OrderSummary { OrderId = e.OriginatorId, Status = "paid" });
}
