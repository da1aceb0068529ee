using ProcessDsl;

namespace WebShop;

/// <summary>A reservation of stock for an order.</summary>
public sealed partial class Reservation : Aggregate
{
    /// <summary>The reservation was made for an order.</summary>
    public sealed record Created(Guid OrderId) : DomainEvent;

    /// <summary>The order reserved.</summary>
    public Guid OrderId { get; private set; }

    /// <summary>Reserves stock for an order.</summary>
    public static Reservation Create(Guid orderId) => Create<Reservation>(Guid.NewGuid(), new Created(orderId));

    [Apply] void When(Created e) => OrderId = e.OrderId;
}
