using LinqToDB.Mapping;
using Microsoft.Extensions.DependencyInjection;

namespace ProcessDsl.Hosting.Tests.Support;

public sealed partial class Order : Aggregate
{
    public sealed record Created(decimal Amount) : DomainEvent;
    public sealed record Reserved(Guid ReservationId) : DomainEvent;
    public sealed record Paid(Guid PaymentId) : DomainEvent;

    public decimal Amount { get; private set; }
    public Guid? ReservationId { get; private set; }
    public Guid? PaymentId { get; private set; }

    public static Order Create(decimal amount) => Create<Order>(Guid.NewGuid(), new Created(amount));
    public void SetReserved(Guid reservationId) => Trigger(new Reserved(reservationId));
    public void SetPaid(Guid paymentId) => Trigger(new Paid(paymentId));

    [Apply] void When(Created e) => Amount = e.Amount;
    [Apply] void When(Reserved e) => ReservationId = e.ReservationId;
    [Apply] void When(Paid e) => PaymentId = e.PaymentId;
}

public sealed partial class Reservation : Aggregate
{
    public sealed record Created(Guid OrderId, decimal Amount) : DomainEvent;

    public static Reservation Create(Guid orderId, decimal amount) => Create<Reservation>(Guid.NewGuid(), new Created(orderId, amount));
}

public sealed partial class Payment : Aggregate
{
    public sealed record Created(Guid OrderId) : DomainEvent;

    public static Payment Create(Guid orderId) => Create<Payment>(Guid.NewGuid(), new Created(orderId));
}

/// <summary>A service the Payments application takes from the container.</summary>
public sealed class PaymentGateway
{
    private int _charges;

    /// <summary>Amounts above this are declined: the policy throws, every time.</summary>
    public decimal Limit { get; set; } = 1000;

    /// <summary>While set, charges wait here (a slow gateway), at most 30 s.</summary>
    public ManualResetEventSlim Open { get; } = new(initialState: true);

    public int Charges => Volatile.Read(ref _charges);

    /// <summary>Set once a charge has begun (a policy is inside the gateway).</summary>
    public ManualResetEventSlim Entered { get; } = new(initialState: false);

    public void Charge(Guid orderId, decimal amount)
    {
        Entered.Set();
        if (!Open.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the test never opened the gateway");
        if (amount > Limit) throw new InvalidOperationException($"card declined for order {orderId}: {amount} is over the limit {Limit}");
        Interlocked.Increment(ref _charges);
    }
}

public sealed partial class Orders : ProcessApplication
{
    public Guid CreateNewOrder(decimal amount = 10)
    {
        var order = Order.Create(amount);
        Save(order);
        return order.Id;
    }

    public Order GetOrder(Guid id) => Repository.Get<Order>(id);

    [Policy(typeof(Reservation.Created))]
    void OnReserved(Reservation.Created e, ProcessingEvent processing)
    {
        var order = Repository.Get<Order>(e.OrderId);
        order.SetReserved(e.OriginatorId);
        processing.Collect(order);
    }

    [Policy(typeof(Payment.Created))]
    void OnPaid(Payment.Created e, ProcessingEvent processing)
    {
        var order = Repository.Get<Order>(e.OrderId);
        order.SetPaid(e.OriginatorId);
        processing.Collect(order);
    }
}

public sealed partial class Reservations : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void OnCreated(Order.Created e, ProcessingEvent processing) =>
        processing.Collect(Reservation.Create(e.OriginatorId, e.Amount));
}

public sealed partial class Payments : ProcessApplication
{
    private readonly PaymentGateway? _gateway;

    // The generator of this version still creates applications with 'new Payments()'; the
    // container uses the constructor that takes services.
    public Payments()
    {
    }

    [ActivatorUtilitiesConstructor]
    public Payments(PaymentGateway gateway) => _gateway = gateway;

    public PaymentGateway Gateway => _gateway ?? throw new InvalidOperationException("Payments was created without the container");

    [Policy(typeof(Reservation.Created))]
    void OnReserved(Reservation.Created e, ProcessingEvent processing)
    {
        Gateway.Charge(e.OrderId, e.Amount);
        processing.Collect(Payment.Create(e.OrderId));
    }
}

[Table("order_summary")]
public sealed class OrderSummary
{
    [PrimaryKey] public Guid OrderId { get; set; }
    [Column, NotNull] public string Status { get; set; } = "";
}

public sealed partial class Summaries : ProcessApplication
{
    [Policy(typeof(Order.Created))]
    void On(Order.Created e, ProcessingEvent p) => p.Save(new OrderSummary { OrderId = e.OriginatorId, Status = "new" });

    [Policy(typeof(Order.Paid))]
    void On(Order.Paid e, ProcessingEvent p) => p.Save(new OrderSummary { OrderId = e.OriginatorId, Status = "paid" });
}

[ProcessSystem]
[Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders))]
[Pipeline(typeof(Reservations), typeof(Payments), typeof(Orders))]
[Pipeline(typeof(Orders), typeof(Summaries))]
public static partial class ShopSystem;
