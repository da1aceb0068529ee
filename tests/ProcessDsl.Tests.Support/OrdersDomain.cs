using LinqToDB.Mapping;

namespace ProcessDsl.Tests.Support;

public sealed partial class Order : Aggregate
{
    public sealed record Created : DomainEvent;
    public sealed record Reserved(Guid ReservationId) : DomainEvent;
    public sealed record Paid(Guid PaymentId) : DomainEvent;

    public Guid? ReservationId { get; private set; }
    public Guid? PaymentId { get; private set; }

    public static Order Create() => Create<Order>(Guid.NewGuid(), new Created());
    public void SetReserved(Guid reservationId) => Trigger(new Reserved(reservationId));
    public void SetPaid(Guid paymentId) => Trigger(new Paid(paymentId));

    [Apply] void When(Reserved e) => ReservationId = e.ReservationId;
    [Apply] void When(Paid e) => PaymentId = e.PaymentId;
}

public sealed partial class Reservation : Aggregate
{
    public sealed record Created(Guid OrderId) : DomainEvent;

    public Guid OrderId { get; private set; }

    public static Reservation Create(Guid orderId) => Create<Reservation>(Guid.NewGuid(), new Created(orderId));

    [Apply] void When(Created e) => OrderId = e.OrderId;
}

public sealed partial class Payment : Aggregate
{
    public sealed record Created(Guid OrderId) : DomainEvent;

    public Guid OrderId { get; private set; }

    public static Payment Create(Guid orderId) => Create<Payment>(Guid.NewGuid(), new Created(orderId));

    [Apply] void When(Created e) => OrderId = e.OrderId;
}

public sealed partial class Orders : ProcessApplication
{
    public Guid CreateNewOrder()
    {
        var order = Order.Create();
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
    private static int s_poisonAttempts;

    /// <summary>Set by a test to make the policy fail on one order.</summary>
    public static Guid PoisonOrderId { get; set; }

    /// <summary>How often the policy was called with the poisoned order in this process (its message says which attempt it is).</summary>
    public static int PoisonAttempts => Volatile.Read(ref s_poisonAttempts);

    [Policy(typeof(Order.Created))]
    void OnCreated(Order.Created e, ProcessingEvent processing)
    {
        if (e.OriginatorId == PoisonOrderId)
            throw new InvalidOperationException($"poisoned order {e.OriginatorId} (attempt {Interlocked.Increment(ref s_poisonAttempts)})");
        processing.Collect(Reservation.Create(e.OriginatorId));
    }
}

public sealed partial class Payments : ProcessApplication
{
    /// <summary>
    /// Orders a test watches: the policy records, for each, whether it ran on a thread-pool thread
    /// (true) or a thread of its own (false).
    /// </summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<Guid, bool?> Watched { get; } = new();

    /// <summary>For each watched order (see <see cref="Watched"/>), the name of the thread the policy ran on.</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<Guid, string?> WatchedThreadNames { get; } = new();

    [Policy(typeof(Order.Reserved))]
    void OnReserved(Order.Reserved e, ProcessingEvent processing)
    {
        if (Watched.ContainsKey(e.OriginatorId))
        {
            WatchedThreadNames[e.OriginatorId] = Thread.CurrentThread.Name;
            Watched[e.OriginatorId] = Thread.CurrentThread.IsThreadPoolThread;
        }
        processing.Collect(Payment.Create(e.OriginatorId));
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
[Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders), typeof(Payments), typeof(Orders))]
[Pipeline(typeof(Orders), typeof(Summaries))]
public static partial class OrdersSystem;
