// TEMPORARY: hand-written equivalents of what ProcessDsl.Generators emits, until the generator
// lands; this file is deleted when the test project references the generator.
using System.Collections.Frozen;

using ProcessDsl;

namespace OrdersSample;

public sealed partial class Order
{
    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        switch (domainEvent)
        {
            case Reserved e: When(e); break;
            case Paid e: When(e); break;
        }
    }
}

public sealed partial class Reservation
{
    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        if (domainEvent is Created e) When(e);
    }
}

public sealed partial class Payment
{
    protected override void ApplyEvent(DomainEvent domainEvent)
    {
        if (domainEvent is Created e) When(e);
    }
}

public sealed partial class Orders
{
    private static readonly FrozenSet<string> s_topics = new[] { "OrdersSample.Reservation.Created", "OrdersSample.Payment.Created" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        switch (notification.Topic)
        {
            case "OrdersSample.Reservation.Created": OnReserved(EventTopics.Deserialize<Reservation.Created>(notification), processing); return true;
            case "OrdersSample.Payment.Created": OnPaid(EventTopics.Deserialize<Payment.Created>(notification), processing); return true;
            default: return false;
        }
    }
}

public sealed partial class Reservations
{
    private static readonly FrozenSet<string> s_topics = new[] { "OrdersSample.Order.Created" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != "OrdersSample.Order.Created") return false;
        OnCreated(EventTopics.Deserialize<Order.Created>(notification), processing);
        return true;
    }
}

public sealed partial class Payments
{
    private static readonly FrozenSet<string> s_topics = new[] { "OrdersSample.Order.Reserved" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != "OrdersSample.Order.Reserved") return false;
        OnReserved(EventTopics.Deserialize<Order.Reserved>(notification), processing);
        return true;
    }
}

public sealed partial class Summaries
{
    private static readonly FrozenSet<string> s_topics = new[] { "OrdersSample.Order.Created", "OrdersSample.Order.Paid" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        switch (notification.Topic)
        {
            case "OrdersSample.Order.Created": On(EventTopics.Deserialize<Order.Created>(notification), processing); return true;
            case "OrdersSample.Order.Paid": On(EventTopics.Deserialize<Order.Paid>(notification), processing); return true;
            default: return false;
        }
    }
}

public static partial class OrdersSystem
{
    static OrdersSystem()
    {
        EventTopics.Register<Order.Created>("OrdersSample.Order.Created");
        EventTopics.Register<Order.Reserved>("OrdersSample.Order.Reserved");
        EventTopics.Register<Order.Paid>("OrdersSample.Order.Paid");
        EventTopics.Register<Reservation.Created>("OrdersSample.Reservation.Created");
        EventTopics.Register<Payment.Created>("OrdersSample.Payment.Created");
    }

    public static SystemDefinition Definition { get; } = new("OrdersSystem",
    [
        new ApplicationDefinition("Orders", typeof(Orders), static () => new Orders(), ["Reservations", "Payments"], ["OrdersSample.Reservation.Created", "OrdersSample.Payment.Created"]),
        new ApplicationDefinition("Reservations", typeof(Reservations), static () => new Reservations(), ["Orders"], ["OrdersSample.Order.Created"]),
        new ApplicationDefinition("Payments", typeof(Payments), static () => new Payments(), ["Orders"], ["OrdersSample.Order.Reserved"]),
        new ApplicationDefinition("Summaries", typeof(Summaries), static () => new Summaries(), ["Orders"], ["OrdersSample.Order.Created", "OrdersSample.Order.Paid"]),
    ]);
}
