using ProcessDsl;

namespace WebShop;

/// <summary>An order: placed for an amount, then reserved, then paid.</summary>
public sealed partial class Order : Aggregate
{
    /// <summary>The order was placed.</summary>
    public sealed record Created(decimal Amount) : DomainEvent;

    /// <summary>Stock was reserved for the order (the amount travels on, for the payment).</summary>
    public sealed record Reserved(Guid ReservationId, decimal Amount) : DomainEvent;

    /// <summary>The order was paid.</summary>
    public sealed record Paid(Guid PaymentId) : DomainEvent;

    /// <summary>What the order costs.</summary>
    public decimal Amount { get; private set; }

    /// <summary>The reservation, once reserved.</summary>
    public Guid? ReservationId { get; private set; }

    /// <summary>The payment, once paid.</summary>
    public Guid? PaymentId { get; private set; }

    /// <summary>Places a new order.</summary>
    public static Order Create(decimal amount) => Create<Order>(Guid.NewGuid(), new Created(amount));

    /// <summary>Records the reservation.</summary>
    public void SetReserved(Guid reservationId) => Trigger(new Reserved(reservationId, Amount));

    /// <summary>Records the payment.</summary>
    public void SetPaid(Guid paymentId) => Trigger(new Paid(paymentId));

    [Apply] void When(Created e) => Amount = e.Amount;

    [Apply] void When(Reserved e) => ReservationId = e.ReservationId;

    [Apply] void When(Paid e) => PaymentId = e.PaymentId;
}
