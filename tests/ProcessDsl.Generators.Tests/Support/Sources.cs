namespace ProcessDsl.Generators.Tests.Support;

/// <summary>Representative user code, as a person would write it.</summary>
internal static class Sources
{
    /// <summary>The README's orders-reservations-payments system, in namespace <paramref name="ns"/>.</summary>
    public static string Orders(string ns = "Shop") => $$"""
        using System;
        using System.Collections.Generic;
        using ProcessDsl;

        namespace {{ns}};

        public sealed partial class Order : Aggregate
        {
            public sealed record Created(string Item) : DomainEvent;
            public sealed record Reserved(Guid ReservationId) : DomainEvent;
            public sealed record Paid(Guid PaymentId) : DomainEvent;
            [Topic("shop.order.cancelled")]
            public sealed record Cancelled(string Reason) : DomainEvent;

            public string Item { get; private set; } = "";
            public Guid? ReservationId { get; private set; }
            public Guid? PaymentId { get; private set; }
            public int Changes { get; private set; }

            public static Order Create(string item) => Create<Order>(Guid.NewGuid(), new Created(item));
            public void SetReserved(Guid reservationId) => Trigger(new Reserved(reservationId));
            public void SetPaid(Guid paymentId) => Trigger(new Paid(paymentId));
        public void Cancel(string reason) => Trigger(new Cancelled(reason));

            [Apply] void When(Created e) => Item = e.Item;
            [Apply] void When(Reserved e) => ReservationId = e.ReservationId;
            [Apply] void When(Paid e) => PaymentId = e.PaymentId;
            [Apply] void Counted(DomainEvent e) => Changes++; // events without a more specific apply method
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
            public Guid CreateNewOrder(string item)
            {
                var order = Order.Create(item);
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
            void OnOrderCreated(Order.Created e, ProcessingEvent processing) => processing.Collect(Reservation.Create(e.OriginatorId));
        }

        public sealed partial class Payments : ProcessApplication
        {
            [Policy(typeof(Order.Reserved))]
            void OnOrderReserved(Order.Reserved e, ProcessingEvent processing) => processing.Collect(Payment.Create(e.OriginatorId));
        }

        public sealed partial class Summaries : ProcessApplication
        {
            public List<string> Seen { get; } = new();

            // One method for several event types, through their common base.
            [Policy(typeof(Order.Created))]
            [Policy(typeof(Order.Paid))]
            void OnOrder(DomainEvent e, ProcessingEvent processing) => Seen.Add(e.GetType().Name);
        }

        [ProcessSystem]
        [Pipeline(typeof(Orders), typeof(Reservations), typeof(Orders), typeof(Payments), typeof(Orders))]
        [Pipeline(typeof(Orders), typeof(Summaries))]
        public static partial class OrdersSystem;

        public static partial class Audit
        {
            public static List<string> Seen { get; } = new();

            [SubscribeTo(typeof(Order.Paid))]
            [SubscribeTo(typeof(Order.Created))]
            static void OnOrderEvent(DomainEvent e) => Seen.Add(e.GetType().Name);
        }
        """;
}
