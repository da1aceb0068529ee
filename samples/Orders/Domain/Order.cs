using ProcessDsl;

namespace OrdersSample;

/// <summary>An order: created, then reserved, then paid.</summary>
public sealed partial class Order : Aggregate
{
    /// <summary>The order was placed.</summary>
    public sealed record Created : DomainEvent;

    /// <summary>Stock was reserved for the order.</summary>
    public sealed record Reserved(Guid ReservationId) : DomainEvent;

    /// <summary>The order was paid.</summary>
    public sealed record Paid(Guid PaymentId) : DomainEvent;

    /// <summary>The reservation, once reserved.</summary>
    public Guid? ReservationId { get; private set; }

    /// <summary>The payment, once paid.</summary>
    public Guid? PaymentId { get; private set; }

    /// <summary>Places a new order.</summary>
    public static Order Create() => Create<Order>(Guid.NewGuid(), new Created());

    /// <summary>Records the reservation.</summary>
    public void SetReserved(Guid reservationId) => Trigger(new Reserved(reservationId));

    /// <summary>Records the payment.</summary>
    public void SetPaid(Guid paymentId) => Trigger(new Paid(paymentId));

    [Apply] void When(Reserved e) => ReservationId = e.ReservationId;

    [Apply] void When(Paid e) => PaymentId = e.PaymentId;
}
