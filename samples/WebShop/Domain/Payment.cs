using ProcessDsl;

namespace WebShop;

/// <summary>A payment for an order.</summary>
public sealed partial class Payment : Aggregate
{
    /// <summary>The payment was taken for an order.</summary>
    public sealed record Created(Guid OrderId) : DomainEvent;

    /// <summary>The order paid for.</summary>
    public Guid OrderId { get; private set; }

    /// <summary>Takes a payment for an order.</summary>
    public static Payment Create(Guid orderId) => Create<Payment>(Guid.NewGuid(), new Created(orderId));

    [Apply] void When(Created e) => OrderId = e.OrderId;
}
