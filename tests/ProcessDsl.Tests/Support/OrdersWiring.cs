// TEMPORARY: hand-written equivalents of what ProcessDsl.Generators emits, until the generator
// lands; this file is deleted when the test project references the generator.
using System.Collections.Frozen;

namespace ProcessDsl.Tests.Support;

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
    private static readonly FrozenSet<string> s_topics = new[] { "ProcessDsl.Tests.Support.Reservation.Created", "ProcessDsl.Tests.Support.Payment.Created" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        switch (notification.Topic)
        {
            case "ProcessDsl.Tests.Support.Reservation.Created": OnReserved(EventTopics.Deserialize<Reservation.Created>(notification), processing); return true;
            case "ProcessDsl.Tests.Support.Payment.Created": OnPaid(EventTopics.Deserialize<Payment.Created>(notification), processing); return true;
            default: return false;
        }
    }
}

public sealed partial class Reservations
{
    private static readonly FrozenSet<string> s_topics = new[] { "ProcessDsl.Tests.Support.Order.Created" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != "ProcessDsl.Tests.Support.Order.Created") return false;
        OnCreated(EventTopics.Deserialize<Order.Created>(notification), processing);
        return true;
    }
}

public sealed partial class Payments
{
    private static readonly FrozenSet<string> s_topics = new[] { "ProcessDsl.Tests.Support.Order.Reserved" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        if (notification.Topic != "ProcessDsl.Tests.Support.Order.Reserved") return false;
        OnReserved(EventTopics.Deserialize<Order.Reserved>(notification), processing);
        return true;
    }
}

public sealed partial class Summaries
{
    private static readonly FrozenSet<string> s_topics = new[] { "ProcessDsl.Tests.Support.Order.Created", "ProcessDsl.Tests.Support.Order.Paid" }.ToFrozenSet(StringComparer.Ordinal);
    public override IReadOnlySet<string> HandledTopics => s_topics;
    protected override bool DispatchPolicy(Notification notification, ProcessingEvent processing)
    {
        switch (notification.Topic)
        {
            case "ProcessDsl.Tests.Support.Order.Created": On(EventTopics.Deserialize<Order.Created>(notification), processing); return true;
            case "ProcessDsl.Tests.Support.Order.Paid": On(EventTopics.Deserialize<Order.Paid>(notification), processing); return true;
            default: return false;
        }
    }
}

public static partial class OrdersSystem
{
    static OrdersSystem()
    {
        EventTopics.Register<Order.Created>("ProcessDsl.Tests.Support.Order.Created");
        EventTopics.Register<Order.Reserved>("ProcessDsl.Tests.Support.Order.Reserved");
        EventTopics.Register<Order.Paid>("ProcessDsl.Tests.Support.Order.Paid");
        EventTopics.Register<Reservation.Created>("ProcessDsl.Tests.Support.Reservation.Created");
        EventTopics.Register<Payment.Created>("ProcessDsl.Tests.Support.Payment.Created");
    }

    public static SystemDefinition Definition { get; } = new("OrdersSystem",
    [
        new ApplicationDefinition("Orders", typeof(Orders), static () => new Orders(), ["Reservations", "Payments"], ["ProcessDsl.Tests.Support.Reservation.Created", "ProcessDsl.Tests.Support.Payment.Created"]),
        new ApplicationDefinition("Reservations", typeof(Reservations), static () => new Reservations(), ["Orders"], ["ProcessDsl.Tests.Support.Order.Created"]),
        new ApplicationDefinition("Payments", typeof(Payments), static () => new Payments(), ["Orders"], ["ProcessDsl.Tests.Support.Order.Reserved"]),
        new ApplicationDefinition("Summaries", typeof(Summaries), static () => new Summaries(), ["Orders"], ["ProcessDsl.Tests.Support.Order.Created", "ProcessDsl.Tests.Support.Order.Paid"]),
    ]);
}
